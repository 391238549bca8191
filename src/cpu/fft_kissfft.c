/* The default build's library FFT (fft_library.h): KissFFT (BSD), for the sizes the lane FFT
 * (fft_lanes.h) does not take; fft.c gives every other size to the lane FFT.
 *
 * KissFFT factors n into radices 2, 3, 4 and 5 and handles any other prime factor p with an
 * O(p^2) butterfly summed in float, whose error grows with p (a prime n_fft such as 1103 lands
 * near 2e-6 of the peak). Sizes with a prime factor above MAX_DIRECT_PRIME therefore go through
 * Bluestein's identity instead, X[k] = conj(w_k) sum_t (x_t conj(w_t)) w_{k-t} with
 * w_t = exp(i pi t^2 / n): a convolution done with power-of-two KissFFT transforms, accurate to
 * float rounding for every n. Even sizes otherwise use kiss_fftr; odd ones the complex transform.
 */
#include <math.h>
#include <stdlib.h>

#include <kiss_fft.h>
#include <kiss_fftr.h>

#include "../alloc.h"
#include "fft.h"
#include "fft_library.h"

#define MAX_DIRECT_PRIME 61

/* KissFFT plans in memory from the allocator: kiss_fft_alloc and kiss_fftr_alloc say how much
 * they need, then build in the block handed to them (the plan is that block: freed with the same
 * allocator, never with kiss_fft_free). */
static void *kiss_plan(const melspec_allocator *allocator, int64_t n, int inverse, int real)
{
    size_t bytes = 0;
    if (real)
        kiss_fftr_alloc((int)n, inverse, NULL, &bytes);
    else
        kiss_fft_alloc((int)n, inverse, NULL, &bytes);
    void *memory = bytes > 0 ? melspec_alloc(allocator, bytes) : NULL;
    if (memory == NULL) return NULL;
    void *plan = real ? (void *)kiss_fftr_alloc((int)n, inverse, memory, &bytes)
                      : (void *)kiss_fft_alloc((int)n, inverse, memory, &bytes);
    if (plan == NULL) melspec_free(allocator, memory);
    return plan;
}

typedef struct bluestein {
    int64_t length;        /* m: a power of two >= 2n - 1 */
    kiss_fft_cfg forward;  /* size m */
    kiss_fft_cfg inverse;  /* size m */
    kiss_fft_cpx *chirp;   /* n: conj(w_t) */
    kiss_fft_cpx *kernel;  /* m: FFT of the chirp convolution kernel, scaled by 1/m */
    kiss_fft_cpx *work;    /* m */
    kiss_fft_cpx *product; /* m */
    melspec_allocator allocator;
} bluestein;

struct melspec_library_fft {
    int64_t n;
    float *lane_output;          /* execute_frames' result in lane layout */
    kiss_fftr_cfg real_plan;     /* even n, small prime factors */
    kiss_fft_cfg complex_plan;   /* odd n, small prime factors */
    bluestein *chirp_z;          /* n with a large prime factor */
    float *input;                /* n */
    kiss_fft_cpx *complex_input; /* n, complex_plan only */
    kiss_fft_cpx *output;        /* the transform, at least 1 + n/2 values */
    melspec_allocator allocator; /* every block above */
};

static int64_t largest_prime_factor(int64_t n)
{
    int64_t largest = 1;
    for (int64_t p = 2; p * p <= n; p++)
        while (n % p == 0) {
            largest = p;
            n /= p;
        }
    return n > 1 ? n : largest;
}

static void bluestein_free(bluestein *b)
{
    if (b == NULL) return;
    const melspec_allocator a = b->allocator;
    melspec_free(&a, b->forward);
    melspec_free(&a, b->inverse);
    melspec_free(&a, b->chirp);
    melspec_free(&a, b->kernel);
    melspec_free(&a, b->work);
    melspec_free(&a, b->product);
    melspec_free(&a, b);
}

static bluestein *bluestein_create(int64_t n, const melspec_allocator *allocator)
{
    bluestein *b = melspec_alloc_zeroed(allocator, 1, sizeof *b);
    if (b == NULL) return NULL;
    b->allocator = *allocator;
    const melspec_allocator *a = allocator;
    b->length = 1;
    while (b->length < 2 * n - 1) b->length *= 2;
    const int64_t m = b->length;
    b->forward = kiss_plan(a, m, 0, 0);
    b->inverse = kiss_plan(a, m, 1, 0);
    b->chirp = melspec_alloc_zeroed(a, (size_t)n, sizeof *b->chirp);
    b->kernel = melspec_alloc_zeroed(a, (size_t)m, sizeof *b->kernel);
    b->work = melspec_alloc_zeroed(a, (size_t)m, sizeof *b->work);
    b->product = melspec_alloc_zeroed(a, (size_t)m, sizeof *b->product);
    if (!b->forward || !b->inverse || !b->chirp || !b->kernel || !b->work || !b->product) {
        bluestein_free(b);
        return NULL;
    }
    const double pi = 3.14159265358979323846264338327950288;
    for (int64_t t = 0; t < n; t++) {
        /* t^2 mod 2n keeps the angle exact for large t */
        const double angle = pi * (double)((t * t) % (2 * n)) / (double)n;
        b->chirp[t].r = (float)cos(angle);
        b->chirp[t].i = (float)-sin(angle);
        /* the kernel w_t at t and at m - t, scaled so the inverse transform needs no pass */
        const float re = (float)(cos(angle) / (double)m), im = (float)(sin(angle) / (double)m);
        b->work[t].r = re;
        b->work[t].i = im;
        if (t > 0) {
            b->work[m - t].r = re;
            b->work[m - t].i = im;
        }
    }
    kiss_fft(b->forward, b->work, b->kernel);
    return b;
}

/* Bins 0 .. n/2 of the DFT of n real samples. */
static void bluestein_execute(bluestein *b, int64_t n, const float *x, kiss_fft_cpx *out)
{
    const int64_t m = b->length;
    for (int64_t t = 0; t < n; t++) {
        b->work[t].r = x[t] * b->chirp[t].r;
        b->work[t].i = x[t] * b->chirp[t].i;
    }
    for (int64_t t = n; t < m; t++) b->work[t].r = b->work[t].i = 0.0f;
    kiss_fft(b->forward, b->work, b->product);
    for (int64_t k = 0; k < m; k++) {
        const kiss_fft_cpx a = b->product[k], h = b->kernel[k];
        b->product[k].r = a.r * h.r - a.i * h.i;
        b->product[k].i = a.r * h.i + a.i * h.r;
    }
    kiss_fft(b->inverse, b->product, b->work);
    for (int64_t k = 0; k <= n / 2; k++) {
        const kiss_fft_cpx c = b->work[k], w = b->chirp[k];
        out[k].r = c.r * w.r - c.i * w.i;
        out[k].i = c.r * w.i + c.i * w.r;
    }
}

/* The lane FFT is the faster wherever it takes n, even with its portable kernels. */
int melspec_library_fft_preferred(int64_t n, int lanes_avx2)
{
    (void)n, (void)lanes_avx2;
    return 0;
}

melspec_library_fft *melspec_library_fft_create(int64_t n, melspec_lanes_kernel kernel,
                                                const melspec_allocator *allocator)
{
    (void)kernel; /* KissFFT's results come one frame at a time, copied into lane layout */
    if (n < 1 || n > INT32_MAX / 4) return NULL;
    melspec_library_fft *fft = melspec_alloc_zeroed(allocator, 1, sizeof *fft);
    if (fft == NULL) return NULL;
    if (allocator != NULL) fft->allocator = *allocator;
    const melspec_allocator *a = &fft->allocator;
    fft->n = n;
    fft->input = melspec_alloc_zeroed(a, (size_t)n, sizeof *fft->input);
    fft->output = melspec_alloc_zeroed(a, (size_t)n + 1, sizeof *fft->output);
    fft->lane_output = melspec_alloc_zeroed(a, (size_t)(2 * (n / 2 + 1) * MELSPEC_FFT_LANES),
                                            sizeof *fft->lane_output);
    int ready;
    if (largest_prime_factor(n) > MAX_DIRECT_PRIME) {
        fft->chirp_z = bluestein_create(n, a);
        ready = fft->chirp_z != NULL;
    } else if (n % 2 == 0) {
        fft->real_plan = kiss_plan(a, n, 0, 1);
        ready = fft->real_plan != NULL;
    } else {
        fft->complex_plan = kiss_plan(a, n, 0, 0);
        fft->complex_input = melspec_alloc_zeroed(a, (size_t)n, sizeof *fft->complex_input);
        ready = fft->complex_plan != NULL && fft->complex_input != NULL;
    }
    if (!ready || !fft->input || !fft->output || !fft->lane_output) {
        melspec_library_fft_destroy(fft);
        return NULL;
    }
    return fft;
}

void melspec_library_fft_destroy(melspec_library_fft *fft)
{
    if (fft == NULL) return;
    const melspec_allocator a = fft->allocator;
    melspec_free(&a, fft->lane_output);
    melspec_free(&a, fft->real_plan);
    melspec_free(&a, fft->complex_plan);
    bluestein_free(fft->chirp_z);
    melspec_free(&a, fft->input);
    melspec_free(&a, fft->complex_input);
    melspec_free(&a, fft->output);
    melspec_free(&a, fft);
}

float *melspec_library_fft_input(melspec_library_fft *fft) { return fft->input; }

const float *melspec_library_fft_execute(melspec_library_fft *fft)
{
    if (fft->chirp_z != NULL) {
        bluestein_execute(fft->chirp_z, fft->n, fft->input, fft->output);
    } else if (fft->real_plan != NULL) {
        kiss_fftr(fft->real_plan, fft->input, fft->output);
    } else {
        for (int64_t i = 0; i < fft->n; i++) {
            fft->complex_input[i].r = fft->input[i];
            fft->complex_input[i].i = 0.0f;
        }
        kiss_fft(fft->complex_plan, fft->complex_input, fft->output);
    }
    return (const float *)fft->output;
}

const float *melspec_library_fft_execute_frames(melspec_library_fft *fft,
                                                const float *const *frames, int64_t n_frames,
                                                const float *window)
{
    for (int64_t f = 0; f < n_frames; f++) {
        for (int64_t i = 0; i < fft->n; i++) fft->input[i] = frames[f][i] * window[i];
        melspec_rfft_spectrum_to_lane(melspec_library_fft_execute(fft), fft->n / 2 + 1, f,
                                      fft->lane_output);
    }
    return fft->lane_output;
}

const float *melspec_library_fft_power_frames(melspec_library_fft *fft,
                                              const float *const *frames, int64_t n_frames,
                                              const float *window, melspec_power_stage power,
                                              float *out)
{
    const float *spectrum = melspec_library_fft_execute_frames(fft, frames, n_frames, window);
    melspec_cpu_spectrum_power(spectrum, fft->n / 2 + 1, power, out);
    return out;
}

const char *melspec_library_fft_name(void) { return "kissfft"; }

const char *melspec_library_fft_path(const melspec_library_fft *fft)
{
    return fft->chirp_z != NULL ? "bluestein" : "kissfft";
}
