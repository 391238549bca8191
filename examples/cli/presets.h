/* The configurations users know, as library configs: one definition for the command's --preset
 * and for the benchmark's cases (bench/bench.c compiles this file too). Each starts from
 * melspec_config_init, so librosa's defaults hold for every field a preset does not name. */
#ifndef MELSPEC_CLI_PRESETS_H
#define MELSPEC_CLI_PRESETS_H

#include "melspec.h"

/* librosa.feature.melspectrogram's defaults: 22050 Hz, n_fft 2048, hop 512, 128 mels, power 2. */
void cli_preset_librosa(melspec_config *config);

/* OpenAI Whisper's features up to the log: 16 kHz, n_fft 400, hop 160, 80 mels, power 2,
 * centred with reflect padding, power_to_db (ref 1, amin 1e-10, top_db 80), whose value / 10 is
 * Whisper's log10. The last-frame drop and (x + 4) / 4 are the caller's (see main.c). */
void cli_preset_whisper(melspec_config *config);

/* Real-time TTS / avatar models: 16 kHz, n_fft 800 (50 ms), hop 200 (12.5 ms), 80 mels,
 * 55-7600 Hz, magnitude (power 1), Slaney scale and norm. */
void cli_preset_realtime(melspec_config *config);

#endif
