#include "cqt_decimator.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <soxr.h>

#include "dsp/window.h"
#include "soxr_recipe.h"
#include "melspec.h"
#include "alloc.h"

/* Beyond this share of the largest tap, libsoxr's output for an impulse is float32 rounding noise
 * of its FFT convolution, not filter. */
#define TAP_FLOOR 1e-7
/* libsoxr's start-up differs from the steady state by 1e-3 and more where it does; below this
 * share of the largest tap a difference is rounding noise. */
#define START_FLOOR 1e-6
/* Outputs probed for libsoxr's start-up behaviour (it settles within about 90 for HQ). */
#define PROBE_ROWS 256

static int64_t round_up(int64_t x, int64_t multiple)
{
    return (x + multiple - 1) / multiple * multiple;
}

/* soxr emits floor(n/M + 1/2) samples for n inputs. */
static int64_t soxr_length(int64_t n, int64_t factor) { return (2 * n + factor) / (2 * factor); }

/* One-shot 1/factor of x (n samples) into y (room samples) at a soxr quality recipe: the count
 * written, or -1. */
static int64_t run_soxr(int64_t factor, long recipe, const float *x, int64_t n, float *y,
                        int64_t room)
{
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec((unsigned long)recipe, 0);
    const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
    size_t done = 0;
    const soxr_error_t error = soxr_oneshot((double)factor, 1.0, 1, x, (size_t)n, NULL, y,
                                            (size_t)room, &done, &io, &quality, &runtime);
    return error == NULL ? (int64_t)done : -1;
}

void melspec_decimator_fir_free(melspec_decimator_fir *fir)
{
    if (fir == NULL) return;
    melspec_free(&fir->allocator, fir->taps);
    melspec_free(&fir->allocator, fir->correction);
    memset(fir, 0, sizeof *fir);
}

/* The steady-state response h[d], |d| <= reach, from one impulse per phase far from both ends. */
static int measure_taps(int64_t factor, long recipe, int64_t reach, double *h, float *x,
                        float *y, int64_t n, int64_t centre)
{
    for (int64_t p = 0; p < factor; p++) {
        memset(x, 0, (size_t)n * sizeof *x);
        x[centre + p] = 1.0f;
        const int64_t produced = run_soxr(factor, recipe, x, n, y, n / factor + 2);
        if (produced < 0) return -1;
        for (int64_t m = 0; m < produced; m++) {
            const int64_t d = factor * m - (centre + p);
            if (d >= -reach && d <= reach) h[d + reach] = y[m];
        }
    }
    return 0;
}

/* The start-up rows: for impulses at j = 0, 1, ... the difference between libsoxr's first
 * PROBE_ROWS outputs and the steady-state model, until 2 M impulses in a row show none. */
static int measure_correction(melspec_decimator_fir *fir, long recipe, double floor_value,
                              float *x, float *y, int64_t n, double *columns, int64_t max_columns)
{
    const int64_t factor = fir->factor;
    int64_t quiet = 0, last_column = -1, last_row = -1;
    for (int64_t j = 0; j < max_columns && quiet < 2 * factor; j++) {
        memset(x, 0, (size_t)n * sizeof *x);
        x[j] = 1.0f;
        const int64_t produced = run_soxr(factor, recipe, x, n, y, n / factor + 2);
        if (produced < PROBE_ROWS) return -1;
        int any = 0;
        for (int64_t m = 0; m < PROBE_ROWS; m++) {
            const int64_t i = factor * m - j - fir->first;
            const double model = i >= 0 && i < fir->n_taps ? fir->taps[i] : 0.0;
            const double difference = (double)y[m] - model;
            columns[j * PROBE_ROWS + m] = difference;
            if (fabs(difference) > floor_value) {
                any = 1;
                last_row = m > last_row ? m : last_row;
            }
        }
        quiet = any ? 0 : quiet + 1;
        if (any) last_column = j;
    }
    if (quiet < 2 * factor) return -1;
    fir->correction_rows = last_row + 1;
    fir->correction_columns = last_column + 1;
    if (last_column < 0) return 0;
    fir->correction =
        melspec_alloc(&fir->allocator, (size_t)(fir->correction_rows * fir->correction_columns) *
                                           sizeof *fir->correction);
    if (fir->correction == NULL) return -1;
    for (int64_t m = 0; m < fir->correction_rows; m++)
        for (int64_t j = 0; j < fir->correction_columns; j++)
            fir->correction[m * fir->correction_columns + j] = columns[j * PROBE_ROWS + m];
    return 0;
}

/* scipy.signal.resample_poly(x, 1, M): firwin(20 M + 1, 1/M, window=("kaiser", 5.0)), taps
 * centred on each output (its delay compensation: y[m] = sum_i h[i] x[M m + 10 M - i]). */
static int design_polyphase(int64_t factor, melspec_decimator_fir *fir)
{
    const int64_t half = 10 * factor, n_taps = 2 * half + 1;
    double *h = melspec_alloc(&fir->allocator, (size_t)n_taps * sizeof *h);
    if (h == NULL) return -1;
    const double kaiser_beta = 5.0, cutoff = 1.0 / (double)factor;
    if (melspec_dsp_symmetric_kaiser(kaiser_beta, n_taps, h) != 0) {
        melspec_free(&fir->allocator, h);
        return -1;
    }
    /* firwin: cutoff * sinc(cutoff * (i - alpha)) times the window, then unit gain at DC */
    const double alpha = 0.5 * (double)(n_taps - 1), pi = 3.141592653589793238462643383280;
    double sum = 0.0;
    for (int64_t i = 0; i < n_taps; i++) {
        const double t = cutoff * ((double)i - alpha);
        const double y = pi * (t == 0.0 ? 1.0e-20 : t);
        h[i] *= cutoff * (sin(y) / y);
        sum += h[i];
    }
    for (int64_t i = 0; i < n_taps; i++) h[i] /= sum;
    fir->factor = factor;
    fir->first = -half;
    fir->n_taps = n_taps;
    fir->taps = h;
    fir->full_length = 1;
    return 0;
}

int melspec_decimator_fir_measure(int64_t factor, int32_t res_type,
                                  const melspec_allocator *allocator, melspec_decimator_fir *fir)
{
    memset(fir, 0, sizeof *fir);
    if (factor < 2) return -1;
    if (allocator != NULL) fir->allocator = *allocator;
    const melspec_allocator *a = &fir->allocator;
    if (res_type == MELSPEC_CQT_RES_POLYPHASE) return design_polyphase(factor, fir);
    const long recipe = melspec_soxr_recipe(res_type);
    if (recipe < 0) return -1;
    fir->factor = factor;
    /* SOXR_HQ's filter spans about +-103 M input samples, VHQ's is longer; look well beyond */
    const int64_t reach = (res_type == MELSPEC_CQT_RES_SOXR_VHQ ? 320 : 160) * factor + 64;
    const int64_t centre = round_up(2 * reach, factor);
    const int64_t max_columns = 8 * factor + 64;
    const int64_t n = centre + factor + 2 * reach + max_columns + factor * PROBE_ROWS;
    float *x = melspec_alloc(a, (size_t)n * sizeof *x);
    float *y = melspec_alloc(a, (size_t)(n / factor + 2) * sizeof *y);
    double *h = melspec_alloc_zeroed(a, (size_t)(2 * reach + 1), sizeof *h);
    double *columns = melspec_alloc(a, (size_t)(max_columns * PROBE_ROWS) * sizeof *columns);
    int status = -1;
    if (!x || !y || !h || !columns) goto done;
    if (measure_taps(factor, recipe, reach, h, x, y, n, centre) != 0) goto done;

    double peak = 0.0;
    for (int64_t i = 0; i <= 2 * reach; i++) peak = fabs(h[i]) > peak ? fabs(h[i]) : peak;
    const double floor_value = TAP_FLOOR * peak;
    int64_t lo = 0, hi = 2 * reach;
    while (lo < hi && fabs(h[lo]) <= floor_value) lo++;
    while (hi > lo && fabs(h[hi]) <= floor_value) hi--;
    fir->first = lo - reach;
    fir->n_taps = hi - lo + 1;
    fir->taps = melspec_alloc(a, (size_t)fir->n_taps * sizeof *fir->taps);
    if (fir->taps == NULL) goto done;
    memcpy(fir->taps, h + lo, (size_t)fir->n_taps * sizeof *fir->taps);
    status = measure_correction(fir, recipe, START_FLOOR * peak, x, y, n, columns, max_columns);

done:
    melspec_free(a, x);
    melspec_free(a, y);
    melspec_free(a, h);
    melspec_free(a, columns);
    if (status != 0) melspec_decimator_fir_free(fir);
    return status;
}

void melspec_decimator_fir_apply(const melspec_decimator_fir *fir, const float *x, int64_t n,
                                 double *y)
{
    const int64_t factor = fir->factor;
    const int64_t length = (n + factor - 1) / factor;
    const int64_t produced = fir->full_length ? length : soxr_length(n, factor);
    for (int64_t m = 0; m < produced; m++) {
        /* x index factor m - first - i must lie in 0 .. n-1 */
        const int64_t base = factor * m - fir->first;
        int64_t i0 = base - (n - 1), i1 = base;
        i0 = i0 > 0 ? i0 : 0;
        i1 = i1 < fir->n_taps - 1 ? i1 : fir->n_taps - 1;
        double sum = 0.0;
        for (int64_t i = i0; i <= i1; i++) sum += fir->taps[i] * (double)x[base - i];
        if (m < fir->correction_rows) {
            const int64_t columns = fir->correction_columns < n ? fir->correction_columns : n;
            for (int64_t j = 0; j < columns; j++)
                sum += fir->correction[m * fir->correction_columns + j] * (double)x[j];
        }
        y[m] = sum;
    }
    for (int64_t m = produced; m < length; m++) y[m] = 0.0;
}
