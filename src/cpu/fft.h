/* The CPU backend's real FFT, one interface over the FFT implementations: ours on 8 frames at
 * once (fft_lanes.h) wherever it takes n and is the faster, else the library the build links
 * (fft_library.h): KissFFT by default, FFTW with MELSPEC_FFTW=ON. fft.c chooses, once per
 * object. One object per plan; not thread-safe, like the plan. */
#ifndef MELSPEC_CPU_FFT_H
#define MELSPEC_CPU_FFT_H

#include <stdint.h>

#include "../dsp/scaling.h"
#include "fft_lanes.h"
#include "melspec.h"

typedef struct melspec_rfft melspec_rfft;

/* Frames one melspec_rfft_execute_frames call transforms at most. */
#define MELSPEC_RFFT_BATCH MELSPEC_FFT_LANES

/* A forward real FFT of n points, any n >= 1. NULL when out of memory. Its memory comes from
 * allocator (NULL: malloc) where the library takes memory from us (the lane FFT, KissFFT); FFTW
 * allocates its own. The allocator must outlive the object. */
melspec_rfft *melspec_rfft_create(int64_t n, const melspec_allocator *allocator);
/* The same with a choice of lane kernel: MELSPEC_LANES_PORTABLE runs the portable lane kernels
 * wherever the lane FFT takes n (tests of that path on machines with AVX2). */
melspec_rfft *melspec_rfft_create_kernel(int64_t n, melspec_lanes_kernel kernel,
                                         const melspec_allocator *allocator);
/* The build's library alone, never the lane FFT (tests of the library's paths). */
melspec_rfft *melspec_rfft_create_library(int64_t n, const melspec_allocator *allocator);
void melspec_rfft_destroy(melspec_rfft *fft);

/* One frame: where to write the n real input samples before melspec_rfft_execute. */
float *melspec_rfft_input(melspec_rfft *fft);

/* Transforms the input buffer; the result is 1 + n/2 complex values, interleaved re, im. */
const float *melspec_rfft_execute(melspec_rfft *fft);

/* The spectra of n_frames (1 .. MELSPEC_RFFT_BATCH) frames of n samples, each times window (n
 * values), in lane layout: bin k of frame f at [(2k) * 8 + f] (real) and [(2k + 1) * 8 + f]
 * (imaginary). Frames are only read. A frame's spectrum does not depend on the other frames of
 * the call, nor on its place among them (streams rely on it). */
const float *melspec_rfft_execute_frames(melspec_rfft *fft, const float *const *frames,
                                         int64_t n_frames, const float *window);

/* |X|^power (melspec_power_value) of the same frames in lane layout: bin k of frame f at
 * [k * 8 + f], n/2 + 1 bins, written to out; returns out. Bit for bit the power of
 * melspec_rfft_execute_frames' spectrum, with the same independence from the other frames.
 * (FFTW, one frame at a time, takes the power from each frame's interleaved spectrum and
 * transposes only the real values, half the floats of the spectrum.) */
const float *melspec_rfft_power_frames(melspec_rfft *fft, const float *const *frames,
                                       int64_t n_frames, const float *window,
                                       melspec_power_stage power, float *out);

/* Runs LOOP(stage), a loop of melspec_power_value(re, im, stage), once, with stage a copy of
 * power whose mode is a constant: one loop per mode, so that the compiler vectorises each on its
 * own (the arithmetic stays melspec_power_value's). */
#define MELSPEC_POWER_LOOP_BY_MODE(power, LOOP)                                                \
    do {                                                                                       \
        switch ((melspec_power_mode)(power).mode) {                                            \
        case MELSPEC_POWER_SQUARED:                                                            \
            LOOP(((melspec_power_stage){MELSPEC_POWER_SQUARED, (power).half_power}));          \
            break;                                                                             \
        case MELSPEC_POWER_MAGNITUDE:                                                          \
            LOOP(((melspec_power_stage){MELSPEC_POWER_MAGNITUDE, (power).half_power}));        \
            break;                                                                             \
        case MELSPEC_POWER_GENERAL:                                                            \
            LOOP(((melspec_power_stage){MELSPEC_POWER_GENERAL, (power).half_power}));          \
            break;                                                                             \
        }                                                                                      \
    } while (0)

/* melspec_power_value over a block's spectra in lane layout (cpu.c): what
 * melspec_rfft_power_frames computes where the FFT gives lane layout itself. */
void melspec_cpu_spectrum_power(const float *spectrum, int64_t n_freq, melspec_power_stage power,
                                float *out);

/* "kissfft" or "fftw3f": which library this build links; melspec_rfft_path: what this object
 * runs ("lanes-avx2", "lanes-portable", "kissfft", "bluestein", "fftw3f"). */
const char *melspec_rfft_library(void);
const char *melspec_rfft_path(const melspec_rfft *fft);

/* For the implementations that transform one frame at a time: frame f's interleaved spectrum
 * (n_bins complex values) into lane f of the lane layout. */
static inline void melspec_rfft_spectrum_to_lane(const float *spectrum, int64_t n_bins,
                                                 int64_t lane, float *lanes)
{
    for (int64_t k = 0; k < n_bins; k++) {
        lanes[(2 * k) * MELSPEC_RFFT_BATCH + lane] = spectrum[2 * k];
        lanes[(2 * k + 1) * MELSPEC_RFFT_BATCH + lane] = spectrum[2 * k + 1];
    }
}

#endif
