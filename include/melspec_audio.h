/* melspec_audio: audio files in, with librosa.load's numbers. A second small library,
 * libmelspec_audio.so, so that libmelspec itself never depends on libsndfile.
 *
 *     melspec_audio_options options;
 *     melspec_audio_options_init(&options);          // librosa.load's defaults: 22050 Hz, mono
 *     options.sample_rate = 16000;
 *     melspec_audio audio;
 *     char why[256];
 *     if (melspec_audio_load("clip.flac", &options, &audio, why, sizeof why) != MELSPEC_OK) ...
 *     ... audio.samples: audio.n_channels signals of audio.n_samples floats, one after another
 *     melspec_audio_free(&audio);
 *
 * The steps are librosa.load's (soundfile backend): libsndfile decodes to float32 (WAV, FLAC,
 * OGG/Vorbis, Opus, MP3 as the installed libsndfile supports them), offset and duration in whole
 * frames at the file's rate (int(offset * sr_native), int(duration * sr_native)), mono is the
 * float32 mean of the channels, then libsoxr's HQ resampler per channel as python-soxr drives it,
 * trimmed or zero-padded to ceil(n * sr / sr_native) samples (librosa.util.fix_length).
 * Damaged and truncated files are errors, never a part of the file. Nothing is printed (but
 * libsndfile's own MP3 decoder may write notes about damaged streams to stderr). Thread-safe:
 * no state outside the call. */
#ifndef MELSPEC_AUDIO_H
#define MELSPEC_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "melspec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct melspec_audio_options {
    uint32_t struct_size; /* sizeof(melspec_audio_options), set by init */
    int32_t mono;         /* 1 (default): the mean of the channels; 0: every channel */
    double sample_rate;   /* Hz to resample to (default 22050); 0 keeps the file's rate */
    double offset;        /* seconds from the start (default 0) */
    double duration;      /* seconds to read; < 0 (default -1) reads to the end */
} melspec_audio_options;

typedef struct melspec_audio {
    float *samples;        /* n_channels signals of n_samples, one after another (malloc'ed) */
    int64_t n_channels;    /* 1 after mixing to mono */
    int64_t n_samples;     /* per channel */
    double sample_rate;    /* of samples: options.sample_rate, or the file's when that was 0 */
    double native_rate;    /* of the file */
} melspec_audio;

MELSPEC_API void melspec_audio_options_init(melspec_audio_options *options);

/* Reads path into audio (zeroed first; free it with melspec_audio_free). Statuses: NULL_POINTER,
 * STRUCT_SIZE, INVALID_ARGUMENT (bad options; a file that is missing, unreadable, damaged or
 * truncated; an offset past the end), INPUT_TOO_SHORT (no samples), OUT_OF_MEMORY. message (may
 * be NULL) receives one line saying why. */
MELSPEC_API melspec_status melspec_audio_load(const char *path,
                                              const melspec_audio_options *options,
                                              melspec_audio *audio, char *message,
                                              size_t message_capacity);

/* Frees audio->samples and zeroes audio; accepts NULL and a zeroed struct. */
MELSPEC_API void melspec_audio_free(melspec_audio *audio);

/* librosa.resample(res_type="soxr_hq") of one signal: libsoxr HQ, fixed to n_output samples. */
MELSPEC_API melspec_status melspec_audio_resample(const float *input, int64_t n_input,
                                                  double input_rate, double output_rate,
                                                  float *output, int64_t n_output,
                                                  char *message, size_t message_capacity);

/* ceil(n_input * output_rate / input_rate): the length librosa.resample returns. */
MELSPEC_API int64_t melspec_audio_resampled_length(int64_t n_input, double input_rate,
                                                   double output_rate);

#ifdef __cplusplus
}
#endif

#endif
