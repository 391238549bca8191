/* The real FFT of the library this build links, one frame at a time: KissFFT with Bluestein for
 * large prime factors (fft_kissfft.c, the default build) or FFTW (fft_fftw.c, MELSPEC_FFTW=ON).
 * fft.c puts the lane FFT (fft_lanes.h) in front of it wherever that takes n and is the faster;
 * nothing else calls these. The entries mean what fft.h's melspec_rfft_* of the same name mean. */
#ifndef MELSPEC_CPU_FFT_LIBRARY_H
#define MELSPEC_CPU_FFT_LIBRARY_H

#include <stdint.h>

#include "../dsp/scaling.h"
#include "fft_lanes.h"
#include "melspec.h"

typedef struct melspec_library_fft melspec_library_fft;

/* "kissfft" or "fftw3f" */
const char *melspec_library_fft_name(void);

/* Whether this library, rather than the lane FFT, should transform n where the lane FFT takes n
 * too; lanes_avx2: the lane FFT would run its AVX2 kernels. A rule from measurements (the
 * implementations say which), so that a size always takes the same path on one CPU. */
int melspec_library_fft_preferred(int64_t n, int lanes_avx2);

/* n >= 1; NULL when out of memory. kernel picks the lane kernels' transpose where the library
 * uses it (FFTW). Memory from allocator where the library takes memory from us. */
melspec_library_fft *melspec_library_fft_create(int64_t n, melspec_lanes_kernel kernel,
                                                const melspec_allocator *allocator);
void melspec_library_fft_destroy(melspec_library_fft *fft);

float *melspec_library_fft_input(melspec_library_fft *fft);
const float *melspec_library_fft_execute(melspec_library_fft *fft);
const float *melspec_library_fft_execute_frames(melspec_library_fft *fft,
                                                const float *const *frames, int64_t n_frames,
                                                const float *window);
const float *melspec_library_fft_power_frames(melspec_library_fft *fft,
                                              const float *const *frames, int64_t n_frames,
                                              const float *window, melspec_power_stage power,
                                              float *out);

/* "kissfft", "bluestein" or "fftw3f" */
const char *melspec_library_fft_path(const melspec_library_fft *fft);

#endif
