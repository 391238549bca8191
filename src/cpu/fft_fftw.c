/* melspec_rfft on FFTW (GPL: a binary built with this file falls under the GPL). */
#include <pthread.h>

#include <fftw3.h>

#include "fft.h"

struct melspec_rfft {
    fftwf_plan plan;
    float *input;
    fftwf_complex *output;
};

/* FFTW's planner is not thread-safe; plans of different threads are made one at a time. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

melspec_rfft *melspec_rfft_create(int64_t n, const melspec_allocator *allocator)
{
    (void)allocator; /* FFTW takes no allocator: fftwf_malloc (include/melspec.h says so) */
    if (n < 1 || n > INT32_MAX) return NULL;
    melspec_rfft *fft = fftwf_malloc(sizeof *fft);
    if (fft == NULL) return NULL;
    fft->plan = NULL;
    fft->input = fftwf_malloc((size_t)n * sizeof *fft->input);
    fft->output = fftwf_malloc((size_t)(n / 2 + 1) * sizeof *fft->output);
    if (fft->input != NULL && fft->output != NULL) {
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
    fftwf_free(fft);
}

float *melspec_rfft_input(melspec_rfft *fft) { return fft->input; }

const float *melspec_rfft_execute(melspec_rfft *fft)
{
    fftwf_execute(fft->plan);
    return (const float *)fft->output;
}

const char *melspec_rfft_library(void) { return "fftw3f"; }
