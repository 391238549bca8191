/* melspec_audio: audio files in, with librosa.load's numbers. A second small library,
 * libmelspec_audio.so, so that libmelspec itself never depends on libsndfile. The one loader of
 * the project: Python's melspec.load and the melspec command both call it.
 *
 *     melspec_audio_options options;
 *     melspec_audio_options_init(&options);          // librosa.load's defaults: 22050 Hz, mono
 *     options.sample_rate = 16000;
 *     melspec_audio audio;
 *     char why[256];
 *     if (melspec_audio_load("clip.flac", &options, &audio, why, sizeof why) != MELSPEC_OK) ...
 *     if (audio.warning[0] != '\0') ... the file was damaged: audio holds what decoded
 *     ... audio.samples: audio.n_channels signals of audio.n_samples floats, one after another
 *     melspec_audio_free(&audio);
 *
 * The steps are librosa.load's (soundfile backend): libsndfile decodes to float32 (WAV, FLAC,
 * OGG/Vorbis, Opus, MP3 as the installed libsndfile supports them), offset and duration in whole
 * frames at the file's rate (int(offset * sr_native), int(duration * sr_native)), mono is the
 * float32 mean of the channels, then libsoxr at options.res_type's recipe (HQ by default) per
 * channel, as librosa resamples, trimmed or zero-padded to ceil(n * sr / sr_native) samples
 * (librosa.util.fix_length). Resampling runs block by block as the file decodes (libsoxr's output
 * does not depend on how its input is split), so a file is never held whole at its own rate.
 *
 * Damaged files (cut short, or a decoding error part-way): the frames that decode are loaded and
 * audio.warning says what was wrong, as soundfile reads a WAV whose data chunk was cut short;
 * options.strict refuses them instead. (soundfile itself raises on a FLAC decoding error, where
 * librosa.load then fails unless audioread has an ffmpeg; this loader reads those too, with the
 * warning.) A file with no frame that decodes is an error either way.
 *
 * Nothing is printed, except that libsndfile's own MP3 decoder (mpg123) may write notes about
 * damaged streams to stderr; a library may not touch the process's stderr, so a caller that
 * minds (the melspec command) silences descriptor 2 around MP3 decodes itself.
 * Thread-safe: no state outside the call, files load in parallel. libsndfile reports why an open
 * failed through globals that every open writes, so an open that fails is made again alone to
 * read its reason; code elsewhere in the process that calls sf_open at that moment can still
 * disturb the reason given (never the status). */
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
    int32_t strict;       /* 0 (default): a damaged file gives what decodes, with a warning;
                           * 1: a damaged file is an error */
    int32_t res_type;     /* librosa.load's res_type, a melspec_cqt_res_type: one of libsoxr's
                           * qualities (default MELSPEC_CQT_RES_SOXR_HQ, librosa's); POLYPHASE
                           * (scipy's resample_poly at any ratio) is not implemented here */
} melspec_audio_options;

#define MELSPEC_AUDIO_WARNING_CAPACITY 256

typedef struct melspec_audio {
    float *samples;        /* n_channels signals of n_samples, one after another (malloc'ed) */
    int64_t n_channels;    /* 1 after mixing to mono */
    int64_t n_samples;     /* per channel */
    double sample_rate;    /* of samples: options.sample_rate, or the file's when that was 0 */
    double native_rate;    /* of the file */
    int64_t native_frames; /* frames read from the file, before resampling */
    char warning[MELSPEC_AUDIO_WARNING_CAPACITY]; /* "" for a sound file; else one line saying
                                                   * how it was damaged (see the top) */
} melspec_audio;

MELSPEC_API void melspec_audio_options_init(melspec_audio_options *options);

/* Reads path into audio (zeroed first; free it with melspec_audio_free, also after a failure).
 * Regular files are decoded in place; others (pipes, FIFOs, /dev/stdin, character devices) are
 * read to their end into memory first, as melspec_audio_load_memory decodes them.
 * Statuses, each with one line in message (may be NULL) saying why; no message names the path:
 *   NULL_POINTER       path, options or audio is NULL
 *   STRUCT_SIZE        options not filled by melspec_audio_options_init
 *   INVALID_ARGUMENT   bad options; a file that is missing, a directory, unreadable, empty
 *                      (0 bytes), not audio (no decoder accepts it), with no channels or rate in
 *                      its header, damaged with options.strict (audio.warning then says how, so
 *                      that a caller can tell this refusal from the others), or whose offset is
 *                      past the end; a damaged file whose first frame does not decode
 *   INPUT_TOO_SHORT    no samples (a header without data; a duration of 0; fewer frames than
 *                      give one sample at the new rate)
 *   OUT_OF_MEMORY, INTERNAL (libsoxr failed) */
MELSPEC_API melspec_status melspec_audio_load(const char *path,
                                              const melspec_audio_options *options,
                                              melspec_audio *audio, char *message,
                                              size_t message_capacity);

/* The same for an encoded file already in memory (bytes of n_bytes: a whole WAV, FLAC, OGG, MP3
 * ... file, its format sniffed as libsndfile sniffs files). bytes is only read, and not kept after
 * the call. Statuses as melspec_audio_load (NULL_POINTER also for bytes NULL). */
MELSPEC_API melspec_status melspec_audio_load_memory(const void *bytes, size_t n_bytes,
                                                     const melspec_audio_options *options,
                                                     melspec_audio *audio, char *message,
                                                     size_t message_capacity);

/* Frees audio->samples and zeroes audio (warning too); accepts NULL and a zeroed struct. */
MELSPEC_API void melspec_audio_free(melspec_audio *audio);

/* librosa.resample(res_type="soxr_hq") of one signal: libsoxr HQ, fixed to n_output samples
 * (melspec_audio_load resamples at options.res_type's quality the same way). */
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
