/* The CPU backend's parts, shared by its files (cpu.c: the ops table and the STFT family; scale.c;
 * cqt.c: the constant-Q transform). */
#ifndef MELSPEC_CPU_BACKEND_H
#define MELSPEC_CPU_BACKEND_H

#include "../plan.h"

/* The scaling stage over one clip's n_values values (any layout), in place. */
void melspec_cpu_scale_clip(const melspec_stages *stages, float *values, int64_t n_values);

/* The constant-Q transform (cqt.c), behind the backend's one ops table. */
melspec_status melspec_cpu_cqt_create(melspec_plan *plan);
void melspec_cpu_cqt_destroy(melspec_plan *plan);
melspec_status melspec_cpu_cqt_execute(melspec_plan *plan, const float *input, int64_t n_signals,
                                       int64_t n_samples, void *output);
melspec_status melspec_cpu_cqt_reserve(melspec_plan *plan, int64_t n_signals, int64_t n_samples);

/* CQT plans on the CPU: 1 replaces libsoxr by the FIR measured from it (what the GPU backend
 * computes; src/cqt_decimator.h), 0 restores libsoxr. For tests. */
melspec_status melspec_cpu_cqt_use_fir(melspec_plan *plan, int use_fir);

/* CQT plans on the CPU: the portable kernel product instead of the one picked for this CPU
 * (AVX2 and FMA where available). For tests. */
melspec_status melspec_cpu_cqt_use_portable_product(melspec_plan *plan);

#endif
