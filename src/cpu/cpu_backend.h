/* The CPU backend's building blocks, shared by offline execution and streaming so that both
 * produce the same bits. */
#ifndef MELSPEC_CPU_BACKEND_H
#define MELSPEC_CPU_BACKEND_H

#include "../plan.h"

/* Sample t of a signal of n samples extended by the config's pad mode (t may be < 0 or >= n). */
float melspec_cpu_padded_sample(const float *signal, int64_t n, int64_t t,
                                melspec_pad_mode pad_mode);

/* The n_fft raw (unwindowed) samples of frame `frame` of a signal of n_samples samples, padded as
 * librosa.stft pads. samples holds the signal from sample `first` on (0: all of it): the samples
 * the frame reads, its padding included (first must be 0 for frames that start before the
 * signal). */
void melspec_cpu_gather_frame(const melspec_config *config, const float *samples, int64_t first,
                              int64_t n_samples, int64_t frame, float *frame_samples);

/* Number of floats melspec_cpu_frame_values writes: n_bins, or 2 (1 + n_fft/2) for STFT. */
int64_t melspec_cpu_values_per_frame(const melspec_plan *plan);

/* Window, FFT, |.|^power and filterbank of one frame of n_fft raw samples, unscaled. The plan
 * must be a CPU plan. values receives melspec_cpu_values_per_frame floats. */
void melspec_cpu_frame_values(melspec_plan *plan, const float *frame_samples, float *values);

/* The scaling stage over one clip's n_values values (any layout), in place. */
void melspec_cpu_scale_clip(const melspec_config *config, float *values, int64_t n_values);

/* Scratch of n_fft floats owned by the plan's CPU state (for gathering a frame). */
float *melspec_cpu_frame_scratch(melspec_plan *plan);

/* CQT plans on the CPU: 1 replaces libsoxr by the FIR measured from it (what the GPU backend
 * computes; src/cqt_decimator.h), 0 restores libsoxr. For tests. */
melspec_status melspec_cpu_cqt_use_fir(melspec_plan *plan, int use_fir);

/* CQT plans on the CPU: the portable kernel product instead of the one picked for this CPU
 * (AVX2 and FMA where available). For tests. */
melspec_status melspec_cpu_cqt_use_portable_product(melspec_plan *plan);

#endif
