/* The lane-parallel real FFT's plan (fft_lanes.h): factorisation, twiddles in double, buffers,
 * and the choice of kernel, made once at creation. */
#include <math.h>
#include <stdlib.h>

#include "fft_lanes.h"

#include "../alloc.h"
#include "../cpu_features.h"

struct melspec_lanes_fft {
    melspec_lanes_plan plan;
    void (*execute)(const melspec_lanes_plan *plan, const float *const *frames,
                    const float *window);
    void (*execute_one)(const melspec_lanes_plan *plan, const float *const *frames,
                        const float *window); /* lane 0 only: a frame alone */
    void (*power)(const melspec_lanes_plan *plan, const float *const *frames,
                  const float *window, int magnitude, float *out); /* |X|^2 or |X| */
    void (*power_one)(const melspec_lanes_plan *plan, const float *const *frames,
                      const float *window, int magnitude, float *out);
    const char *kernel_name;
    void *block;   /* one allocation for every buffer below, each aligned to a cache line */
    float *tables; /* every stage's twiddles and roots, then the half rotation */
    float *zeros;
    melspec_allocator allocator; /* what made block and this object */
};

/* floats rounded up to whole cache lines */
static int64_t cache_lines(int64_t floats) { return (floats + 15) / 16 * 16; }

/* Radices of m, largest butterflies first (4, then 2, 3, 5, then odd primes); 0 stages when
 * m == 1. Returns -1 when a prime factor exceeds the generic radix's limit. */
static int factor(int64_t m, int64_t radices[MELSPEC_FFT_LANES_MAX_STAGES])
{
    int count = 0;
    while (m % 4 == 0) radices[count++] = 4, m /= 4;
    if (m % 2 == 0) radices[count++] = 2, m /= 2;
    for (int64_t p = 3; m > 1; p += 2) {
        if (p > MELSPEC_FFT_LANES_MAX_RADIX) return -1;
        while (m % p == 0) {
            if (count == MELSPEC_FFT_LANES_MAX_STAGES) return -1;
            radices[count++] = p;
            m /= p;
        }
    }
    return count;
}

/* w as the kernels' v_splat makes it, 0 + w in every lane: -0 becomes +0 (the twiddle of p j = 0
 * is 1 - 0i), so that a frame alone, whose tables hold one twiddle per element, multiplies by
 * the bits a block multiplies by. */
static float as_splat(float w) { return 0.0f + w; }

static const double two_pi = 6.28318530717958647692528676655900577;

/* exp(-2 pi i num / den) with num reduced first, so that large products stay exact. */
static void unit_root(int64_t num, int64_t den, float *out)
{
    const double angle = -two_pi * (double)(num % den) / (double)den;
    out[0] = (float)cos(angle);
    out[1] = (float)sin(angle);
}

/* The AVX2 + FMA kernels exist on x86 only (fft_lanes_avx2.c); elsewhere the portable ones run. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define LANES_HAVE_AVX2 1
static int use_avx2(melspec_lanes_kernel kernel)
{
    return kernel == MELSPEC_LANES_AUTO && melspec_cpu_has_avx2_fma();
}
#else
#define LANES_HAVE_AVX2 0
#endif

int melspec_lanes_kernel_is_avx2(melspec_lanes_kernel kernel)
{
#if LANES_HAVE_AVX2
    return use_avx2(kernel);
#else
    (void)kernel;
    return 0;
#endif
}

melspec_lanes_product melspec_lanes_product_for(melspec_lanes_kernel kernel)
{
#if LANES_HAVE_AVX2
    if (use_avx2(kernel)) return melspec_lanes_mel_avx2;
#else
    (void)kernel;
#endif
    return melspec_lanes_mel_portable;
}

int melspec_lanes_fft_takes(int64_t n)
{
    int64_t radices[MELSPEC_FFT_LANES_MAX_STAGES];
    return n >= 1 && n <= MELSPEC_FFT_LANES_MAX_N && factor(n % 2 == 0 ? n / 2 : n, radices) >= 0;
}

melspec_lanes_gather_fn melspec_lanes_gather_for(melspec_lanes_kernel kernel)
{
#if LANES_HAVE_AVX2
    if (use_avx2(kernel)) return melspec_lanes_gather_avx2;
#else
    (void)kernel;
#endif
    return melspec_lanes_gather_portable;
}

melspec_lanes_fft *melspec_lanes_fft_create(int64_t n, melspec_lanes_kernel kernel,
                                            const melspec_allocator *allocator)
{
    (void)kernel; /* read below where AVX2 kernels exist */
    if (!melspec_lanes_fft_takes(n)) return NULL;
    const int even = n % 2 == 0;
    const int64_t m = even ? n / 2 : n;
    int64_t radices[MELSPEC_FFT_LANES_MAX_STAGES];
    const int n_stages = factor(m, radices);

    melspec_lanes_fft *fft = melspec_alloc_zeroed(allocator, 1, sizeof *fft);
    if (fft == NULL) return NULL;
    if (allocator != NULL) fft->allocator = *allocator;
    melspec_lanes_plan *plan = &fft->plan;
    plan->n = n;
    plan->m = m;
    plan->even = even;
    plan->n_stages = n_stages;

    /* table sizes: m (radix - 1) twiddles per stage (a product over stages is < m radix),
     * radix roots for each generic stage, m + 1 half rotations */
    int64_t table_floats = 2 * (m + 1);
    {
        int64_t length = m;
        for (int s = 0; s < n_stages; s++) {
            table_floats += 2 * (length / radices[s]) * (radices[s] - 1) + 2 * radices[s];
            length /= radices[s];
        }
    }
    /* a frame alone: two work buffers, the half rotations, the twiddles of the stages whose
     * stride is not a multiple of the vector */
    const int64_t span = cache_lines(m + 1 + 16);
    int64_t flat_floats = 3 * 2 * span;
    {
        int64_t stride = 1;
        for (int s = 0; s < n_stages; s++) {
            if (stride % MELSPEC_FFT_LANES != 0) flat_floats += 2 * (radices[s] - 1) * span;
            stride *= radices[s];
        }
    }
    const int64_t sizes[6] = {cache_lines(table_floats), cache_lines(n),
                              cache_lines(2 * m * MELSPEC_FFT_LANES),
                              cache_lines(2 * m * MELSPEC_FFT_LANES),
                              cache_lines(2 * (n / 2 + 1) * MELSPEC_FFT_LANES), flat_floats};
    const int64_t total = sizes[0] + sizes[1] + sizes[2] + sizes[3] + sizes[4] + sizes[5];
    /* zeroed: the zeros, and lanes that are never written before being read */
    fft->block = melspec_alloc_zeroed(&fft->allocator, (size_t)(total + 16), sizeof(float));
    if (fft->block == NULL) {
        melspec_free(&fft->allocator, fft);
        return NULL;
    }
    float *aligned = (float *)(((uintptr_t)fft->block + 63) / 64 * 64);
    fft->tables = aligned;
    fft->zeros = fft->tables + sizes[0];
    plan->work[0] = fft->zeros + sizes[1];
    plan->work[1] = plan->work[0] + sizes[2];
    plan->output = plan->work[1] + sizes[3];
    plan->zeros = fft->zeros;
    plan->flat_span = span;
    plan->flat_work[0] = plan->output + sizes[4];
    plan->flat_work[1] = plan->flat_work[0] + 2 * span;
    float *flat_half = plan->flat_work[1] + 2 * span, *flat_next = flat_half + 2 * span;
    plan->flat_half = flat_half;

    float *next = fft->tables;
    int64_t length = m, stride = 1;
    for (int s = 0; s < n_stages; s++) {
        melspec_lanes_stage *stage = &plan->stages[s];
        const int64_t r = radices[s], sub = length / r;
        stage->radix = r;
        stage->m = sub;
        stage->stride = stride;
        stage->twiddles = next;
        for (int64_t p = 0; p < sub; p++)
            for (int64_t j = 1; j < r; j++, next += 2) unit_root(p * j, length, next);
        stage->roots = next;
        for (int64_t t = 0; t < r; t++, next += 2) unit_root(t, r, next);
        length = sub;
        stride *= r;
    }
    plan->half_rotation = next;
    for (int64_t k = 0; k <= m; k++, next += 2) {
        unit_root(k, n, next);
        next[0] *= 0.5f; /* exact: a power of two */
        next[1] *= 0.5f;
        flat_half[k] = as_splat(next[0]);
        flat_half[span + k] = as_splat(next[1]);
    }
    for (int s = 0; s < n_stages; s++) {
        melspec_lanes_stage *stage = &plan->stages[s];
        if (stage->stride % MELSPEC_FFT_LANES == 0) continue;
        const int64_t r = stage->radix, count = stage->stride * stage->m;
        for (int64_t j = 1; j < r; j++)
            for (int64_t e = 0; e < count; e++) {
                const float *w = stage->twiddles + 2 * ((r - 1) * (e / stage->stride) + j - 1);
                flat_next[2 * (j - 1) * span + e] = as_splat(w[0]);
                flat_next[(2 * (j - 1) + 1) * span + e] = as_splat(w[1]);
            }
        stage->flat_twiddles = flat_next;
        flat_next += 2 * (r - 1) * span;
    }

    fft->execute = melspec_lanes_execute_portable;
    fft->execute_one = melspec_lanes_execute_one_portable;
    fft->power = melspec_lanes_execute_power_portable;
    fft->power_one = melspec_lanes_execute_one_power_portable;
    fft->kernel_name = "lanes-portable";
#if LANES_HAVE_AVX2
    if (use_avx2(kernel)) {
        fft->execute = melspec_lanes_execute_avx2;
        fft->execute_one = melspec_lanes_execute_one_avx2;
        fft->power = melspec_lanes_execute_power_avx2;
        fft->power_one = melspec_lanes_execute_one_power_avx2;
        fft->kernel_name = "lanes-avx2";
    }
#endif
    return fft;
}

void melspec_lanes_fft_destroy(melspec_lanes_fft *fft)
{
    if (fft == NULL) return;
    const melspec_allocator a = fft->allocator; /* a copy: fft itself is freed with it */
    melspec_free(&a, fft->block);
    melspec_free(&a, fft);
}

const float *melspec_lanes_fft_execute(melspec_lanes_fft *fft, const float *const *frames,
                                       int64_t n_frames, const float *window)
{
    if (n_frames == 1) {
        /* streams push one frame at a time: 8 lanes of work for one would cost 8 times */
        fft->execute_one(&fft->plan, frames, window);
        return fft->plan.output;
    }
    const float *lanes[MELSPEC_FFT_LANES];
    for (int64_t f = 0; f < MELSPEC_FFT_LANES; f++)
        lanes[f] = f < n_frames ? frames[f] : fft->plan.zeros;
    fft->execute(&fft->plan, lanes, window);
    return fft->plan.output;
}

void melspec_lanes_fft_power(melspec_lanes_fft *fft, const float *const *frames, int64_t n_frames,
                             const float *window, int magnitude, float *out)
{
    if (n_frames == 1) {
        fft->power_one(&fft->plan, frames, window, magnitude, out);
        return;
    }
    const float *lanes[MELSPEC_FFT_LANES];
    for (int64_t f = 0; f < MELSPEC_FFT_LANES; f++)
        lanes[f] = f < n_frames ? frames[f] : fft->plan.zeros;
    fft->power(&fft->plan, lanes, window, magnitude, out);
}

const char *melspec_lanes_fft_kernel_name(const melspec_lanes_fft *fft)
{
    return fft->kernel_name;
}
