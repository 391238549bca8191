/* A real FFT computed on MELSPEC_FFT_LANES frames at once, one frame per SIMD lane (ours, MIT).
 *
 * The STFT runs one transform over many frames, so instead of vectorising inside a transform
 * (shuffles at every butterfly) each lane of a vector register holds one frame: every butterfly
 * is the scalar algorithm on 8-float vectors. A frame's result therefore does not depend on the
 * lane or the batch it is computed in (streams and execute give the same bits).
 *
 * Algorithm: even n as n/2 complex points (z_j = x_2j + i x_2j+1) and the usual split of the
 * spectrum of the even and odd samples; odd n as n complex points with zero imaginary parts.
 * The complex transform is a Stockham autosort FFT (no bit reversal) with radix 4, 2, 3 and 5
 * butterflies and a generic odd-radix one up to MELSPEC_FFT_LANES_MAX_RADIX; twiddles are
 * computed in double and rounded once. Sizes with a larger prime factor are not handled here
 * (melspec_lanes_fft_create returns NULL; the caller keeps its Bluestein path).
 *
 * A frame alone (a stream's push) runs the same butterflies with a vector holding 8 values of
 * that one frame, so that it gets the bits it gets in a block without 8 times the work.
 *
 * Two builds of the same kernel (fft_lanes_kernel.h): AVX2 + FMA (fft_lanes_avx2.c, compiled
 * with -mavx2 -mfma, chosen at creation when the CPU has both) and portable (GCC vector
 * extensions, any target). */
#ifndef MELSPEC_CPU_FFT_LANES_H
#define MELSPEC_CPU_FFT_LANES_H

#include <stdint.h>

#include "melspec.h"

#define MELSPEC_FFT_LANES 8
#define MELSPEC_FFT_LANES_MAX_RADIX 61
#define MELSPEC_FFT_LANES_MAX_STAGES 40
/* Above this n the lane buffers (64 bytes per complex point) leave the caches: Bluestein wins. */
#define MELSPEC_FFT_LANES_MAX_N (1 << 17)

typedef enum melspec_lanes_kernel {
    MELSPEC_LANES_AUTO = 0,     /* AVX2 + FMA where the CPU has them, else portable */
    MELSPEC_LANES_PORTABLE = 1, /* the portable kernel everywhere (tests) */
} melspec_lanes_kernel;

typedef struct melspec_lanes_stage {
    int64_t radix;
    int64_t m;             /* current length / radix */
    int64_t stride;        /* product of the radices before this stage */
    const float *twiddles; /* m x (radix - 1) complex: w^(p j), w = exp(-2 pi i / (m radix)) */
    const float *roots;    /* generic radix: radix complex roots exp(-2 pi i t / radix) */
    /* A frame alone, where stride is not a multiple of the vector: the twiddle of each element
     * e = q + stride p, (radix - 1) rows of real parts then imaginary parts, flat_span floats
     * each (NULL where stride is a multiple of MELSPEC_FFT_LANES). */
    const float *flat_twiddles;
} melspec_lanes_stage;

/* What the kernels read; built once by melspec_lanes_fft_create. */
typedef struct melspec_lanes_plan {
    int64_t n;         /* real length */
    int64_t m;         /* complex length: n / 2 (even n) or n (odd n) */
    int even;          /* the real-input split applies */
    int n_stages;
    melspec_lanes_stage stages[MELSPEC_FFT_LANES_MAX_STAGES];
    const float *half_rotation; /* even n: m + 1 complex w^k / 2, w = exp(-2 pi i / n) */
    const float *zeros;         /* n zeros: the input of unused lanes */
    float *work[2];             /* 2 m x 8 floats each: complex vectors (re lanes, im lanes) */
    float *output;              /* (1 + n/2) x 2 x 8 floats: the spectrum in lane layout */
    /* A frame alone (fft_lanes_kernel.h): complex value i at [i] and [flat_span + i]. */
    int64_t flat_span;          /* >= m + 1 + 16, a whole number of cache lines */
    float *flat_work[2];        /* 2 flat_span floats each */
    const float *flat_half;     /* the half rotations w^k / 2, k = 0..m, split the same way */
} melspec_lanes_plan;

typedef struct melspec_lanes_fft melspec_lanes_fft;

/* Whether kernel runs the AVX2 + FMA kernels on this CPU (else the portable ones). */
int melspec_lanes_kernel_is_avx2(melspec_lanes_kernel kernel);

/* Whether the lane FFT takes n: every prime factor at most MELSPEC_FFT_LANES_MAX_RADIX, n at
 * most MELSPEC_FFT_LANES_MAX_N. */
int melspec_lanes_fft_takes(int64_t n);

/* NULL when the lane FFT does not take n or memory runs out. */
/* Its memory comes from allocator (NULL: malloc), which must outlive the object. */
melspec_lanes_fft *melspec_lanes_fft_create(int64_t n, melspec_lanes_kernel kernel,
                                            const melspec_allocator *allocator);
void melspec_lanes_fft_destroy(melspec_lanes_fft *fft);

/* The spectra of n_frames (1..MELSPEC_FFT_LANES) frames of n samples, each multiplied by window
 * (n values) on the way in. Result in lane layout: bin k of frame f has its real part at
 * [(2k) * 8 + f] and its imaginary part at [(2k + 1) * 8 + f]; lanes past n_frames hold
 * unspecified values (the transform of zeros, or of an earlier call's frames). */
const float *melspec_lanes_fft_execute(melspec_lanes_fft *fft, const float *const *frames,
                                       int64_t n_frames, const float *window);

/* |X|^2 (magnitude 0) or |X| (magnitude 1) of the same frames' spectra in lane layout, bin k of
 * frame f at out[k * 8 + f] (n/2 + 1 bins): melspec_power_value's MELSPEC_POWER_SQUARED or
 * MELSPEC_POWER_MAGNITUDE of melspec_lanes_fft_execute's spectrum, bit for bit, without
 * storing the spectrum. Lanes past n_frames: unspecified. */
void melspec_lanes_fft_power(melspec_lanes_fft *fft, const float *const *frames, int64_t n_frames,
                             const float *window, int magnitude, float *out);

/* "lanes-avx2" or "lanes-portable": the kernel this plan runs. */
const char *melspec_lanes_fft_kernel_name(const melspec_lanes_fft *fft);

/* A sparse matrix by rows (the mel filterbank: src/plan.h's melspec_sparse_rows). */
typedef struct melspec_lanes_rows {
    int64_t n_rows;
    const float *weights;
    const int64_t *row_offset, *first_column, *row_length;
} melspec_lanes_rows;

/* The matrix times a block of MELSPEC_FFT_LANES columns in lane layout (x: [column * 8 + f],
 * out: [row * 8 + f]), with the kernel picked for kernel (each lane sums in row order). */
typedef void (*melspec_lanes_product)(const melspec_lanes_rows *rows, const float *x, float *out);
melspec_lanes_product melspec_lanes_product_for(melspec_lanes_kernel kernel);

/* The windowed samples of 8 frames of n samples in lane layout (sample i of frame f at
 * [i * 8 + f]): what a library that transforms strided vectors of frames reads (FFTW). */
typedef void (*melspec_lanes_gather_fn)(int64_t n, const float *const *frames, const float *window,
                                        float *out);
melspec_lanes_gather_fn melspec_lanes_gather_for(melspec_lanes_kernel kernel);

/* The two kernel builds (fft_lanes_kernel.h). */
void melspec_lanes_execute_portable(const melspec_lanes_plan *plan, const float *const *frames,
                                    const float *window);
void melspec_lanes_execute_avx2(const melspec_lanes_plan *plan, const float *const *frames,
                                const float *window);
void melspec_lanes_execute_power_portable(const melspec_lanes_plan *plan,
                                          const float *const *frames, const float *window,
                                          int magnitude, float *out);
void melspec_lanes_execute_power_avx2(const melspec_lanes_plan *plan, const float *const *frames,
                                      const float *window, int magnitude, float *out);
/* a frame alone, in lane 0 of the output, with the bits of the block kernels (vectorised within
 * the frame) */
void melspec_lanes_execute_one_portable(const melspec_lanes_plan *plan, const float *const *frames,
                                        const float *window);
void melspec_lanes_execute_one_avx2(const melspec_lanes_plan *plan, const float *const *frames,
                                    const float *window);
void melspec_lanes_execute_one_power_portable(const melspec_lanes_plan *plan,
                                              const float *const *frames, const float *window,
                                              int magnitude, float *out);
void melspec_lanes_execute_one_power_avx2(const melspec_lanes_plan *plan,
                                          const float *const *frames, const float *window,
                                          int magnitude, float *out);
void melspec_lanes_mel_portable(const melspec_lanes_rows *rows, const float *x, float *out);
void melspec_lanes_mel_avx2(const melspec_lanes_rows *rows, const float *x, float *out);
void melspec_lanes_gather_portable(int64_t n, const float *const *frames, const float *window,
                                   float *out);
void melspec_lanes_gather_avx2(int64_t n, const float *const *frames, const float *window,
                               float *out);

#endif
