/* Audio in: librosa.load's steps on libsndfile and libsoxr. */
#ifndef MELSPEC_CLI_AUDIO_H
#define MELSPEC_CLI_AUDIO_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_load_options {
    int mono;           /* 1: mean of the channels */
    double target_rate; /* Hz; 0 keeps the file's rate */
    double offset;      /* seconds from the start */
    double duration;    /* seconds; < 0 = to the end */
    int strict;         /* 1: a damaged file is an error; 0: read what is there, as librosa */
} cli_load_options;

typedef struct cli_audio {
    float *samples;      /* n_channels signals of n_samples, one after another */
    int64_t n_channels;  /* 1 after mixing to mono */
    int64_t n_samples;
    double sample_rate;  /* of samples (the target rate, or the file's) */
    double native_rate;  /* of the file */
    int64_t native_frames; /* frames read from the file (before resampling) */
    char note[256];      /* non-empty when the file was damaged and what was there was read */
} cli_audio;

/* Reads path like librosa.load(path, sr, mono, offset, duration): float32 samples as libsndfile
 * decodes them, the mean of the channels for mono, then libsoxr's HQ resampler per channel
 * trimmed or zero-padded to ceil(n * target / native) samples. "-" is stdin; stdin, pipes and
 * other files that cannot seek are read into memory first and decoded from there (libsndfile's
 * virtual I/O sniffs the format). A damaged file (cut short, a decoding error) gives the frames
 * that decode and a note, as librosa.load does, or fails with options->strict. On failure
 * returns -1 with a one-line reason in why. Thread-safe: files load in parallel. */
int cli_audio_load(const char *path, const cli_load_options *options, cli_audio *audio,
                   char *why, size_t why_capacity);
void cli_audio_free(cli_audio *audio);

/* libsoxr HQ as python-soxr's soxr.resample (quality HQ, float32, input in 48000-output-sample
 * chunks, then a flush), fixed to n_out samples as librosa.resample does. */
int cli_resample(const float *input, int64_t n_input, double input_rate, double output_rate,
                 float *output, int64_t n_output, char *why, size_t why_capacity);

/* ceil(n_input * output_rate / input_rate) as librosa.resample computes it. */
int64_t cli_resampled_length(int64_t n_input, double input_rate, double output_rate);

/* Writes the example signal (3 s at 22050 Hz: a logarithmic chirp, two tones, faint noise) to
 * path in the format its extension names (wav, flac, ogg, mp3, aiff). */
int cli_generate_example(const char *path, char *why, size_t why_capacity);

/* The example signal itself, n samples at sample_rate (deterministic). */
void cli_example_signal(float *samples, int64_t n, double sample_rate);

#endif
