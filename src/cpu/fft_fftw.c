/* melspec_rfft on FFTW (GPL: a binary built with this file falls under the GPL).
 *
 * Blocks of frames: each frame windowed into the plan's input and transformed by the one 1-D plan
 * (its own arrays, so they stay in L1). For the spectrum (STFT) each frame's interleaved output is
 * kept and the 8 spectra turned into lane layout by the lane kernels' 8 x 8 transpose; for the
 * power the frame's |X|^p is taken from the interleaved output at once and only those real values
 * are transposed, half the floats (issue 18: the passes around FFTW cost more than FFTW did).
 * (One guru plan of 8 strided transforms writing lane layout directly measured 3x slower per
 * frame than the 1-D plan, at 400, 800 and 2048.) */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "fft.h"
#include "../widest_vectors.h"

#include "../alloc.h"

struct melspec_rfft {
    int64_t n;
    fftwf_plan plan;                             /* one frame: input -> output */
    float *input;                                /* n */
    fftwf_complex *output;                       /* 1 + n/2 */
    fftwf_complex *spectra[MELSPEC_RFFT_BATCH];  /* 1 + n/2 each: a block's spectra */
    float *power_rows;                           /* MELSPEC_RFFT_BATCH x (1 + n/2): a block's powers */
    float *lane_output;                          /* (1 + n/2) x 2 x MELSPEC_RFFT_BATCH */
    float *ones;                                 /* 2 (1 + n/2): the transpose's "window" */
    melspec_lanes_gather_fn transpose;
    melspec_allocator allocator;                 /* lane_output and ones */
};

/* FFTW's planner is not thread-safe; plans of different threads are made one at a time. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

melspec_rfft *melspec_rfft_create_kernel(int64_t n, melspec_lanes_kernel kernel,
                                         const melspec_allocator *allocator)
{
    /* FFTW takes no allocator: its plan and the arrays it transforms come from fftwf_malloc
     * (include/melspec.h says so); the lane-layout arrays from the caller's */
    if (n < 1 || n > INT32_MAX / (2 * MELSPEC_RFFT_BATCH)) return NULL;
    melspec_rfft *fft = fftwf_malloc(sizeof *fft);
    if (fft == NULL) return NULL;
    const int64_t n_bins = n / 2 + 1;
    fft->n = n;
    fft->plan = NULL;
    fft->allocator = allocator != NULL ? *allocator : (melspec_allocator){0};
    fft->input = fftwf_malloc((size_t)n * sizeof *fft->input);
    fft->output = fftwf_malloc((size_t)n_bins * sizeof *fft->output);
    int ready = fft->input != NULL && fft->output != NULL;
    for (int f = 0; f < MELSPEC_RFFT_BATCH; f++) {
        fft->spectra[f] = fftwf_malloc((size_t)n_bins * sizeof *fft->spectra[f]);
        if (fft->spectra[f] != NULL)
            memset(fft->spectra[f], 0, (size_t)n_bins * sizeof *fft->spectra[f]);
        ready = ready && fft->spectra[f] != NULL;
    }
    fft->lane_output = melspec_alloc(&fft->allocator, (size_t)(2 * n_bins * MELSPEC_RFFT_BATCH) *
                                                          sizeof *fft->lane_output);
    fft->ones = melspec_alloc(&fft->allocator, (size_t)(2 * n_bins) * sizeof *fft->ones);
    /* zeroed: the lanes a short block leaves unused are transposed too */
    fft->power_rows = melspec_alloc_zeroed(&fft->allocator, (size_t)(MELSPEC_RFFT_BATCH * n_bins),
                                           sizeof *fft->power_rows);
    ready = ready && fft->lane_output != NULL && fft->ones != NULL && fft->power_rows != NULL;
    for (int64_t i = 0; ready && i < 2 * n_bins; i++) fft->ones[i] = 1.0f;
    fft->transpose = melspec_lanes_gather_for(kernel);
    if (ready) {
        pthread_mutex_lock(&planner_lock);
        fft->plan = fftwf_plan_dft_r2c_1d((int)n, fft->input, fft->output, FFTW_MEASURE);
        pthread_mutex_unlock(&planner_lock);
    }
    if (fft->plan == NULL) {
        melspec_rfft_destroy(fft);
        return NULL;
    }
    return fft;
}

melspec_rfft *melspec_rfft_create(int64_t n, const melspec_allocator *allocator)
{
    return melspec_rfft_create_kernel(n, MELSPEC_LANES_AUTO, allocator);
}

void melspec_rfft_destroy(melspec_rfft *fft)
{
    if (fft == NULL) return;
    if (fft->plan != NULL) {
        pthread_mutex_lock(&planner_lock);
        fftwf_destroy_plan(fft->plan);
        pthread_mutex_unlock(&planner_lock);
    }
    fftwf_free(fft->input);
    fftwf_free(fft->output);
    for (int f = 0; f < MELSPEC_RFFT_BATCH; f++) fftwf_free(fft->spectra[f]);
    melspec_free(&fft->allocator, fft->lane_output);
    melspec_free(&fft->allocator, fft->ones);
    melspec_free(&fft->allocator, fft->power_rows);
    fftwf_free(fft);
}

float *melspec_rfft_input(melspec_rfft *fft) { return fft->input; }

const float *melspec_rfft_execute(melspec_rfft *fft)
{
    fftwf_execute(fft->plan);
    return (const float *)fft->output;
}

/* frame x times the window into the plan's input */
WIDEST_VECTORS static void window_frame(int64_t n, const float *restrict x,
                                        const float *restrict window, float *restrict in)
{
    for (int64_t i = 0; i < n; i++) in[i] = x[i] * window[i];
}

/* Asks for the samples of frame `next` that frame `current` (the one before it) did not hold,
 * one prefetch per 64-byte line, while `current` is transformed: a long signal's frames come from
 * beyond L2, and the samples new to each frame lie at its end, where the hardware prefetcher,
 * restarting at every frame, comes too late (music: window_frame was a third of the passes'
 * time). Frames of different arrays (padded ones) are compared as addresses only. */
static void prefetch_new_samples(const float *current, const float *next, int64_t n)
{
    const uintptr_t bytes = (uintptr_t)n * sizeof *next;
    const uintptr_t from = (uintptr_t)current, to = (uintptr_t)next;
    const int64_t first_new = to > from && to - from < bytes ? (int64_t)((from + bytes - to) / sizeof *next) : 0;
    for (int64_t i = first_new; i < n; i += 16) __builtin_prefetch(next + i);
    __builtin_prefetch(next + n - 1);
}

/* |X|^power of one interleaved spectrum */
WIDEST_VECTORS static void power_row(const float *restrict spectrum, int64_t n_bins,
                                     melspec_power_stage power, float *restrict row)
{
#define ROW_POWER_LOOP(stage)              \
    for (int64_t k = 0; k < n_bins; k++) \
        row[k] = melspec_power_value(spectrum[2 * k], spectrum[2 * k + 1], stage)
    MELSPEC_POWER_LOOP_BY_MODE(power, ROW_POWER_LOOP);
#undef ROW_POWER_LOOP
}

const float *melspec_rfft_execute_frames(melspec_rfft *fft, const float *const *frames,
                                         int64_t n_frames, const float *window)
{
    const float *spectra[MELSPEC_RFFT_BATCH];
    for (int64_t f = 0; f < MELSPEC_RFFT_BATCH; f++) {
        spectra[f] = (const float *)fft->spectra[f];
        if (f >= n_frames) continue; /* unused lanes keep an earlier frame's spectrum */
        window_frame(fft->n, frames[f], window, fft->input);
        if (f + 1 < n_frames) prefetch_new_samples(frames[f], frames[f + 1], fft->n);
        fftwf_execute_dft_r2c(fft->plan, fft->input, fft->spectra[f]);
    }
    /* the interleaved spectra (value v of frame f at [v] of spectra[f]) into lane layout */
    fft->transpose(2 * (fft->n / 2 + 1), spectra, fft->ones, fft->lane_output);
    return fft->lane_output;
}

const float *melspec_rfft_power_frames(melspec_rfft *fft, const float *const *frames,
                                       int64_t n_frames, const float *window,
                                       melspec_power_stage power, float *out)
{
    const int64_t n_bins = fft->n / 2 + 1;
    const float *rows[MELSPEC_RFFT_BATCH];
    for (int64_t f = 0; f < MELSPEC_RFFT_BATCH; f++) {
        rows[f] = fft->power_rows + f * n_bins;
        if (f >= n_frames) continue; /* unused lanes keep an earlier frame's power */
        window_frame(fft->n, frames[f], window, fft->input);
        if (f + 1 < n_frames) prefetch_new_samples(frames[f], frames[f + 1], fft->n);
        fftwf_execute(fft->plan); /* the plan's own arrays: they stay in L1 */
        power_row((const float *)fft->output, n_bins, power, fft->power_rows + f * n_bins);
    }
    fft->transpose(n_bins, rows, fft->ones, out);
    return out;
}

const char *melspec_rfft_library(void) { return "fftw3f"; }

const char *melspec_rfft_path(const melspec_rfft *fft)
{
    (void)fft;
    return "fftw3f";
}
