/* The CPU backend's parts, shared by its files (cpu.c: the ops table and the STFT family; scale.c;
 * cqt.c: the constant-Q transform). */
#ifndef MELSPEC_CPU_BACKEND_H
#define MELSPEC_CPU_BACKEND_H

#include "../plan.h"

/* The scaling stage over one clip's n_values values (any layout), in place. */
void melspec_cpu_scale_clip(const melspec_stages *stages, float *values, int64_t n_values);

/* The dB stage block by block where its reference is fixed (melspec_cpu_db_by_block), with the
 * bits of melspec_cpu_scale_clip: melspec_cpu_db_block on each block's values in lane layout
 * (n_values x 8 floats, frames first_frame .. first_frame + n_frames - 1 of the clip, in order;
 * it keeps the clip's maximum in *maximum), then melspec_cpu_db_clip_end once on the clip's
 * stored values (the clamp). */
int melspec_cpu_db_by_block(const melspec_stages *stages);
void melspec_cpu_db_block(const melspec_stages *stages, float *lanes, int64_t n_values,
                          int64_t n_frames, int64_t first_frame, float *maximum);
void melspec_cpu_db_clip_end(const melspec_stages *stages, float *values, int64_t n_values,
                             float maximum);

/* The feature stage (features.c, issue 15): scratch made at create (NULL without a feature),
 * and one clip: values holds n_frames frames of spectrum_bins scaled values, frame after frame;
 * clip receives the n_bins x n_frames features in the plan's layout, float32. */
typedef struct melspec_cpu_features melspec_cpu_features;
melspec_status melspec_cpu_features_create(melspec_plan *plan, melspec_cpu_features **features);
void melspec_cpu_features_destroy(melspec_cpu_features *features);
/* Grows the input to hold n_frames frames (one clip); its buffer, or NULL without a feature. */
melspec_status melspec_cpu_features_reserve(melspec_plan *plan, melspec_cpu_features *features,
                                            int64_t n_frames);
float *melspec_cpu_features_input(melspec_cpu_features *features);
void melspec_cpu_features_clip(melspec_plan *plan, melspec_cpu_features *features,
                               const float *values, int64_t n_frames, float *clip);

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
