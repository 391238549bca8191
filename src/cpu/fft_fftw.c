/* melspec_rfft on FFTW (GPL: a binary built with this file falls under the GPL). */
#include <pthread.h>
#include <stdlib.h>

#include <fftw3.h>

#include "fft.h"

struct melspec_rfft {
    int64_t n;
    fftwf_plan plan;
    float *input;
    fftwf_complex *output;
    float *lane_output; /* execute_frames' result in lane layout */
};

/* FFTW's planner is not thread-safe; plans of different threads are made one at a time. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

melspec_rfft *melspec_rfft_create_kernel(int64_t n, melspec_lanes_kernel kernel)
{
    (void)kernel; /* FFTW picks its own codelets */
    return melspec_rfft_create(n);
}

melspec_rfft *melspec_rfft_create(int64_t n)
{
    if (n < 1 || n > INT32_MAX) return NULL;
    melspec_rfft *fft = fftwf_malloc(sizeof *fft);
    if (fft == NULL) return NULL;
    fft->plan = NULL;
    fft->input = fftwf_malloc((size_t)n * sizeof *fft->input);
    fft->output = fftwf_malloc((size_t)(n / 2 + 1) * sizeof *fft->output);
    fft->lane_output = calloc((size_t)(2 * (n / 2 + 1) * MELSPEC_RFFT_BATCH),
                              sizeof *fft->lane_output);
    fft->n = n;
    if (fft->input != NULL && fft->output != NULL && fft->lane_output != NULL) {
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
    free(fft->lane_output);
    fftwf_free(fft);
}

float *melspec_rfft_input(melspec_rfft *fft) { return fft->input; }

const float *melspec_rfft_execute(melspec_rfft *fft)
{
    fftwf_execute(fft->plan);
    return (const float *)fft->output;
}

const char *melspec_rfft_library(void) { return "fftw3f"; }

/* One frame at a time through the plan made for the input buffer: the transform FFTW's own floor
 * program (bench/fft_floor.c) times. */
const float *melspec_rfft_execute_frames(melspec_rfft *fft, const float *const *frames,
                                         int64_t n_frames, const float *window)
{
    for (int64_t f = 0; f < n_frames; f++) {
        for (int64_t i = 0; i < fft->n; i++) fft->input[i] = frames[f][i] * window[i];
        fftwf_execute(fft->plan);
        melspec_rfft_spectrum_to_lane((const float *)fft->output, fft->n / 2 + 1, f,
                                      fft->lane_output);
    }
    return fft->lane_output;
}

const char *melspec_rfft_path(const melspec_rfft *fft)
{
    (void)fft;
    return "fftw3f";
}
