/* The CPU backend's real FFT, one interface over the packaged FFT libraries (KissFFT by default,
 * FFTW with MELSPEC_FFTW=ON). One object per plan; not thread-safe, like the plan. */
#ifndef MELSPEC_CPU_FFT_H
#define MELSPEC_CPU_FFT_H

#include <stdint.h>

#include "melspec.h"

typedef struct melspec_rfft melspec_rfft;

/* A forward real FFT of n points, any n >= 1. NULL when out of memory. Its memory comes from
 * allocator (NULL: malloc) where the library takes memory from us (KissFFT); FFTW allocates its
 * own. The allocator must outlive the object. */
melspec_rfft *melspec_rfft_create(int64_t n, const melspec_allocator *allocator);
void melspec_rfft_destroy(melspec_rfft *fft);

/* Where to write the n real input samples before melspec_rfft_execute. */
float *melspec_rfft_input(melspec_rfft *fft);

/* Transforms the input buffer; the result is 1 + n/2 complex values, interleaved re, im. */
const float *melspec_rfft_execute(melspec_rfft *fft);

/* "kissfft" or "fftw3f": which library this build uses. */
const char *melspec_rfft_library(void);

#endif
