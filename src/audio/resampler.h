/* librosa.resample(y, res_type="soxr_*") of rows of samples that arrive a piece at a time (the
 * loader's, as they decode), so that the input is never held whole. librosa resamples row by
 * row with python-soxr (libsoxr, a flush, then fix_length to ceil(n * ratio)); each row here has
 * its own one-channel libsoxr. libsoxr's output does not depend on how the input is split into
 * calls (its stages work on the stream; test_resampler feeds random pieces against its one-shot
 * call, bit for bit), so any pieces give librosa's samples. Each row holds about 200 KB of
 * libsoxr's state (380 KB at extreme ratios) while the file is read. */
#ifndef MELSPEC_AUDIO_RESAMPLER_H
#define MELSPEC_AUDIO_RESAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include <soxr.h>

#include "melspec_audio.h"

typedef struct melspec_row_resampler {
    int64_t rows;
    soxr_t *soxr;             /* one per row */
    double input_rate, output_rate;
    int64_t consumed;         /* input frames of each row given so far */
    float *output;            /* rows x capacity: libsoxr's output so far, produced per row */
    int64_t capacity, produced;
} melspec_row_resampler;

/* A resampler of rows at libsoxr's recipe (src/soxr_recipe.h), its output first sized for
 * expected_input frames (<= 0: not known). On failure nothing is left to close. */
melspec_status melspec_row_resampler_open(melspec_row_resampler *resampler, long recipe,
                                          int64_t rows, double input_rate, double output_rate,
                                          int64_t expected_input, char *message,
                                          size_t capacity);

/* The next frames (>= 1) of every row: row k at input + k * row_stride. */
melspec_status melspec_row_resampler_feed(melspec_row_resampler *resampler, const float *input,
                                          int64_t row_stride, int64_t frames, char *message,
                                          size_t capacity);

/* Flushes, and hands over the rows fixed to n_output frames each (librosa's fix_length: cut, or
 * zeros at the end) in one buffer for the caller to free. */
melspec_status melspec_row_resampler_finish(melspec_row_resampler *resampler, int64_t n_output,
                                            float **samples, char *message, size_t capacity);

/* Frees what the resampler holds (after finish, or instead of it). */
void melspec_row_resampler_close(melspec_row_resampler *resampler);

#endif
