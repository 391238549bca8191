/* Audio in: libmelspec_audio (librosa.load's steps, one loader for the command and Python) with
 * the command's additions: stdin, and libsndfile's MP3 chatter kept off the terminal. */
#ifndef MELSPEC_CLI_AUDIO_H
#define MELSPEC_CLI_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "melspec_audio.h"

typedef struct cli_load_options {
    int mono;           /* 1: mean of the channels */
    double target_rate; /* Hz; 0 keeps the file's rate */
    int res_type;       /* libsoxr's quality for that (melspec_cqt_res_type, SOXR_* only) */
    double offset;      /* seconds from the start */
    double duration;    /* seconds; < 0 = to the end */
    int strict;         /* 1: a damaged file is an error; 0: read what is there, as librosa */
} cli_load_options;

/* samples, n_channels, n_samples, sample_rate, native_rate, and warning: non-empty when the file
 * was damaged and what was there was read (include/melspec_audio.h) */
typedef melspec_audio cli_audio;

/* Reads path with melspec_audio_load (librosa.load(path, sr, mono, offset, duration), damaged
 * files read as far as they decode with a warning, or refused with options->strict: the reason
 * then ends in "(--strict)"). "-" is stdin; stdin, pipes and other files that cannot seek are read
 * into memory here and decoded from there. Descriptor 2 is muted while MP3 decodes (libsndfile's
 * mpg123 writes notes there; the library may not touch it, the command may). On failure returns
 * -1 with a one-line reason in why. Thread-safe: files load in parallel. */
int cli_audio_load(const char *path, const cli_load_options *options, cli_audio *audio,
                   char *why, size_t why_capacity);
void cli_audio_free(cli_audio *audio);

/* Loads the decoding libraries now (they are otherwise loaded by the first file): before a
 * process starts its worker threads, where loading costs the least. */
void cli_audio_preload(void);

/* libsndfile's version string, or why it did not load. */
const char *cli_audio_sndfile_version(void);

/* Writes the example signal (3 s at 22050 Hz: a logarithmic chirp, two tones, faint noise) to
 * path in the format its extension names (wav, flac, ogg, mp3, aiff). */
int cli_generate_example(const char *path, char *why, size_t why_capacity);

/* The example signal itself, n samples at sample_rate (deterministic). */
void cli_example_signal(float *samples, int64_t n, double sample_rate);

#endif
