/* librosa.resample with libsoxr, row by row, fed as the rows arrive (resampler.h). */
#include "resampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "planar_rows.h"

/* All libsoxr can give for n_input frames: python-soxr's output buffer, n * out / in + 1. */
static int64_t output_bound(const melspec_row_resampler *r, int64_t n_input)
{
    return (int64_t)((double)n_input * r->output_rate / r->input_rate) + 1;
}

/* Room for at least `needed` frames per row, grown by half again at least (a header that
 * understated the length). */
static melspec_status make_room(melspec_row_resampler *r, int64_t needed, char *message,
                                size_t capacity)
{
    if (needed <= r->capacity) return MELSPEC_OK;
    int64_t grown = r->capacity + r->capacity / 2;
    if (grown < needed) grown = needed;
    float *bigger = planar_rows_grow(r->output, r->rows, r->capacity, grown, r->produced);
    if (bigger == NULL)
        return fail(MELSPEC_ERROR_OUT_OF_MEMORY, message, capacity,
                    "out of memory for %lld resampled frames", (long long)grown);
    r->output = bigger;
    r->capacity = grown;
    return MELSPEC_OK;
}

melspec_status melspec_row_resampler_open(melspec_row_resampler *r, long recipe, int64_t rows,
                                          double input_rate, double output_rate,
                                          int64_t expected_input, char *message,
                                          size_t capacity)
{
    memset(r, 0, sizeof *r);
    if (rows < 1 || !(input_rate > 0.0) || !(output_rate > 0.0) || !isfinite(input_rate) ||
        !isfinite(output_rate))
        return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity,
                    "resample %lld row(s), rates %g -> %g Hz: need rows >= 1 and finite "
                    "positive rates", (long long)rows, input_rate, output_rate);
    r->rows = rows;
    r->input_rate = input_rate;
    r->output_rate = output_rate;
    /* the first allocation stays bounded as the loader's rows do (planar_rows_first_limit), in
     * output frames (a rate of a few Hz upsampled multiplies the count) */
    const int64_t first_limit = planar_rows_first_limit(rows), unknown_input = 65536;
    const int64_t first_input = expected_input <= 0            ? unknown_input
                                : expected_input < first_limit ? expected_input
                                                               : first_limit;
    r->capacity = output_bound(r, first_input);
    if (r->capacity > first_limit) r->capacity = first_limit;
    r->soxr = calloc((size_t)rows, sizeof *r->soxr);
    r->output = malloc((size_t)(rows * r->capacity) * sizeof *r->output);
    if (r->soxr == NULL || r->output == NULL) {
        melspec_row_resampler_close(r);
        return fail(MELSPEC_ERROR_OUT_OF_MEMORY, message, capacity, "out of memory");
    }
    const soxr_io_spec_t io_spec = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec((unsigned long)recipe, 0);
    for (int64_t k = 0; k < rows; k++) {
        soxr_error_t error = NULL;
        r->soxr[k] = soxr_create(input_rate, output_rate, 1, &error, &io_spec, &quality, NULL);
        if (error != NULL) {
            melspec_row_resampler_close(r);
            return fail(MELSPEC_ERROR_INVALID_ARGUMENT, message, capacity, "libsoxr: %s", error);
        }
    }
    return MELSPEC_OK;
}

/* One soxr_process of every row: input (NULL: the flush) or none, output into the room left
 * up to `room` frames. Every row gives as many frames (they see the same lengths). */
static melspec_status process_rows(melspec_row_resampler *r, const float *input,
                                   int64_t row_stride, int64_t frames, int64_t room,
                                   char *message, size_t capacity)
{
    size_t produced_by_first = 0;
    for (int64_t k = 0; k < r->rows; k++) {
        size_t taken = 0, done = 0;
        const soxr_error_t error =
            soxr_process(r->soxr[k], input != NULL ? input + k * row_stride : NULL,
                         (size_t)frames, &taken, r->output + k * r->capacity + r->produced,
                         (size_t)room, &done);
        if (error != NULL)
            return fail(MELSPEC_ERROR_INTERNAL, message, capacity, "libsoxr: %s", error);
        /* soxr takes only the input whose output fits: the room is made for all of it */
        if (taken != (size_t)frames || (k > 0 && done != produced_by_first))
            return fail(MELSPEC_ERROR_INTERNAL, message, capacity,
                        "libsoxr took %zu of %lld frames and gave %zu (row %lld)", taken,
                        (long long)frames, done, (long long)k);
        produced_by_first = done;
    }
    r->produced += (int64_t)produced_by_first;
    return MELSPEC_OK;
}

melspec_status melspec_row_resampler_feed(melspec_row_resampler *r, const float *input,
                                          int64_t row_stride, int64_t frames, char *message,
                                          size_t capacity)
{
    if (frames < 1)
        return fail(MELSPEC_ERROR_INTERNAL, message, capacity, "resampler fed %lld frames",
                    (long long)frames);
    const int64_t needed = r->produced + output_bound(r, frames) + 1;
    melspec_status status = make_room(r, needed, message, capacity);
    if (status != MELSPEC_OK) return status;
    status = process_rows(r, input, row_stride, frames, r->capacity - r->produced, message,
                          capacity);
    if (status == MELSPEC_OK) r->consumed += frames;
    return status;
}

melspec_status melspec_row_resampler_finish(melspec_row_resampler *r, int64_t n_output,
                                            float **samples, char *message, size_t capacity)
{
    *samples = NULL;
    /* the flush gets python-soxr's room: its whole-signal buffer less what was given */
    const int64_t bound = output_bound(r, r->consumed);
    melspec_status status =
        make_room(r, bound > n_output ? bound : n_output, message, capacity);
    if (status != MELSPEC_OK) return status;
    const int64_t room = bound > r->produced ? bound - r->produced : 0;
    status = process_rows(r, NULL, 0, 0, room, message, capacity);
    if (status != MELSPEC_OK) return status;
    /* librosa.util.fix_length: cut, or zeros at the end */
    for (int64_t k = 0; k < r->rows && r->produced < n_output; k++)
        memset(r->output + k * r->capacity + r->produced, 0,
               (size_t)(n_output - r->produced) * sizeof *r->output);
    *samples = planar_rows_fit(r->output, r->rows, r->capacity, n_output);
    r->output = NULL;
    return MELSPEC_OK;
}

void melspec_row_resampler_close(melspec_row_resampler *r)
{
    if (r->soxr != NULL)
        for (int64_t k = 0; k < r->rows; k++) soxr_delete(r->soxr[k]);
    free(r->soxr);
    free(r->output);
    memset(r, 0, sizeof *r);
}
