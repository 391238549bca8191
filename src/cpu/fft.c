/* melspec_rfft (fft.h): the lane FFT (fft_lanes.h) wherever it takes n and the build's library
 * (fft_library.h: KissFFT or FFTW) does not claim n as its own, the library for every other n.
 * The choice is made here and only here, once per plan.
 *
 * Why the FFTW build runs the lane FFT too (issue 18): on this project's x86 machines the lane
 * FFT's AVX2 kernels, 8 frames at once, took less time per frame than FFTW_MEASURE's best plan of
 * one frame at every size measured up to 12000 (400: 0.36 against 0.46 us, 2048: 2.5 against
 * 3.0 us, 1102 = 2 x 19 x 29: 2.7 against 7.3 us), and FFTW won from 16384 on. FFTW's own
 * approach is to run whichever algorithm measures fastest; the lane FFT is one more. */
#include <stdlib.h>

#include "../alloc.h"
#include "fft.h"
#include "fft_library.h"

struct melspec_rfft {
    int64_t n;
    melspec_lanes_fft *lanes;     /* the lane FFT, or NULL: the library */
    melspec_library_fft *library; /* the library, or NULL: the lane FFT */
    float *input;                 /* lane FFT: n, the one-frame entry's input */
    float *ones;                  /* lane FFT: n ones, the one-frame entry's window */
    float *output;                /* lane FFT: 2 (1 + n/2), the one-frame entry's result */
    melspec_allocator allocator;  /* the lane FFT and the blocks above */
};

/* The lane FFT for n, or the library: kernel PORTABLE asks for the portable lane kernels
 * wherever they take n (tests), AUTO for the faster of the two. */
static int on_lanes(int64_t n, melspec_lanes_kernel kernel)
{
    if (!melspec_lanes_fft_takes(n)) return 0;
    if (kernel == MELSPEC_LANES_PORTABLE) return 1;
    return !melspec_library_fft_preferred(n, melspec_lanes_kernel_is_avx2(kernel));
}

static melspec_rfft *create(int64_t n, melspec_lanes_kernel kernel, int library_only,
                            const melspec_allocator *allocator)
{
    if (n < 1) return NULL; /* the largest n is each path's own to refuse */
    melspec_rfft *fft = melspec_alloc_zeroed(allocator, 1, sizeof *fft);
    if (fft == NULL) return NULL;
    if (allocator != NULL) fft->allocator = *allocator;
    const melspec_allocator *a = &fft->allocator;
    fft->n = n;
    int ready;
    if (!library_only && on_lanes(n, kernel)) {
        fft->lanes = melspec_lanes_fft_create(n, kernel, a);
        fft->input = melspec_alloc_zeroed(a, (size_t)n, sizeof *fft->input);
        fft->ones = melspec_alloc(a, (size_t)n * sizeof *fft->ones);
        fft->output = melspec_alloc(a, (size_t)(2 * (n / 2 + 1)) * sizeof *fft->output);
        ready = fft->lanes && fft->input && fft->ones && fft->output;
        for (int64_t i = 0; ready && i < n; i++) fft->ones[i] = 1.0f;
    } else {
        fft->library = melspec_library_fft_create(n, kernel, a);
        ready = fft->library != NULL;
    }
    if (!ready) {
        melspec_rfft_destroy(fft);
        return NULL;
    }
    return fft;
}

melspec_rfft *melspec_rfft_create(int64_t n, const melspec_allocator *allocator)
{
    return create(n, MELSPEC_LANES_AUTO, 0, allocator);
}

melspec_rfft *melspec_rfft_create_kernel(int64_t n, melspec_lanes_kernel kernel,
                                         const melspec_allocator *allocator)
{
    return create(n, kernel, 0, allocator);
}

melspec_rfft *melspec_rfft_create_library(int64_t n, const melspec_allocator *allocator)
{
    return create(n, MELSPEC_LANES_AUTO, 1, allocator);
}

void melspec_rfft_destroy(melspec_rfft *fft)
{
    if (fft == NULL) return;
    const melspec_allocator a = fft->allocator; /* a copy: fft itself is freed with it */
    melspec_lanes_fft_destroy(fft->lanes);
    melspec_library_fft_destroy(fft->library);
    melspec_free(&a, fft->input);
    melspec_free(&a, fft->ones);
    melspec_free(&a, fft->output);
    melspec_free(&a, fft);
}

float *melspec_rfft_input(melspec_rfft *fft)
{
    return fft->lanes != NULL ? fft->input : melspec_library_fft_input(fft->library);
}

const float *melspec_rfft_execute(melspec_rfft *fft)
{
    if (fft->lanes == NULL) return melspec_library_fft_execute(fft->library);
    const float *frame = fft->input;
    const float *lanes = melspec_lanes_fft_execute(fft->lanes, &frame, 1, fft->ones);
    for (int64_t k = 0; k <= fft->n / 2; k++) {
        fft->output[2 * k] = lanes[(2 * k) * MELSPEC_RFFT_BATCH];
        fft->output[2 * k + 1] = lanes[(2 * k + 1) * MELSPEC_RFFT_BATCH];
    }
    return fft->output;
}

const float *melspec_rfft_execute_frames(melspec_rfft *fft, const float *const *frames,
                                         int64_t n_frames, const float *window)
{
    if (fft->lanes == NULL)
        return melspec_library_fft_execute_frames(fft->library, frames, n_frames, window);
    return melspec_lanes_fft_execute(fft->lanes, frames, n_frames, window);
}

const float *melspec_rfft_power_frames(melspec_rfft *fft, const float *const *frames,
                                       int64_t n_frames, const float *window,
                                       melspec_power_stage power, float *out)
{
    if (fft->lanes == NULL)
        return melspec_library_fft_power_frames(fft->library, frames, n_frames, window, power,
                                                out);
    if (power.mode != MELSPEC_POWER_GENERAL) { /* powers 2 and 1, fused into the FFT */
        melspec_lanes_fft_power(fft->lanes, frames, n_frames, window,
                                power.mode == MELSPEC_POWER_MAGNITUDE, out);
        return out;
    }
    const float *spectrum = melspec_lanes_fft_execute(fft->lanes, frames, n_frames, window);
    melspec_cpu_spectrum_power(spectrum, fft->n / 2 + 1, power, out);
    return out;
}

const char *melspec_rfft_library(void) { return melspec_library_fft_name(); }

const char *melspec_rfft_path(const melspec_rfft *fft)
{
    return fft->lanes != NULL ? melspec_lanes_fft_kernel_name(fft->lanes)
                              : melspec_library_fft_path(fft->library);
}
