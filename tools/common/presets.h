/* The configurations users know, as library configs: one definition for the command's --preset
 * and for the benchmark's cases (melspec_tools_common: the command and bench/ link it). Each starts from
 * melspec_config_init, so librosa's defaults hold for every field a preset does not name. */
#ifndef MELSPEC_CLI_PRESETS_H
#define MELSPEC_CLI_PRESETS_H

#include <stddef.h>
#include <stdint.h>

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

/* The constant-Q transform's own parameters, librosa.cqt's names; 0 (sparsity: < 0) means
 * librosa's default. */
typedef struct cli_cqt_options {
    int64_t n_bins;          /* 0 = 84 */
    int64_t bins_per_octave; /* 0 = 12 */
    double tuning;           /* fractions of a bin; 0 */
    double filter_scale;     /* 0 = 1 */
    double sparsity;         /* < 0 = 0.01 */
    int32_t res_type;        /* a melspec_cqt_res_type: how octaves are halved; soxr_hq */
} cli_cqt_options;

/* Options meaning "librosa.cqt's defaults". */
void cli_cqt_options_init(cli_cqt_options *cqt);

/* A constant-Q plan (librosa.cqt) from the fields config shares with it (sample_rate, hop_length
 * (0 = 512), fmin (0 = C1), window, pad_mode, the scaling stage, layout, backend, device_ordinal,
 * max_batch, max_samples) and the CQT's own: complex64 output without scaling (librosa.cqt),
 * |C| with it. */
melspec_status cli_cqt_plan_create(melspec_plan **plan, const melspec_config *config,
                                   const cli_cqt_options *cqt, char *message, size_t capacity);

/* ccmusic's CQT features: librosa.amplitude_to_db(np.abs(librosa.cqt(y, sr=22050,
 * hop_length=512, n_bins=84)), ref=np.max), as the config and options of cli_cqt_plan_create. */
void cli_preset_ccmusic_cqt(melspec_config *config, cli_cqt_options *cqt);

#endif
