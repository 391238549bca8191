/* The two element-wise stages after the transform, |X|^power and the scaling (librosa's
 * power_to_db / amplitude_to_db, or a natural log), as parameters decided once at plan creation
 * (src/stages.c) and the arithmetic every backend applies with them: the CPU backend, the streams
 * and the CUDA kernels all call these functions, so that each rule is written once. */
#ifndef MELSPEC_DSP_SCALING_H
#define MELSPEC_DSP_SCALING_H

#include <math.h>
#include <stdint.h>

#include "host_device.h"

/* |X|^power as the CPU computes it: re*re + im*im, its sqrtf, or powf(., power/2). */
typedef enum melspec_power_mode {
    MELSPEC_POWER_SQUARED = 0,   /* power 2 */
    MELSPEC_POWER_MAGNITUDE = 1, /* power 1 */
    MELSPEC_POWER_GENERAL = 2    /* any other power */
} melspec_power_mode;

typedef struct melspec_power_stage {
    int32_t mode;     /* melspec_power_mode */
    float half_power; /* (float)(power / 2), for MELSPEC_POWER_GENERAL */
} melspec_power_stage;

typedef enum melspec_scale_mode {
    MELSPEC_SCALE_NONE = 0,
    MELSPEC_SCALE_DB = 1, /* power_to_db (factor 10) or amplitude_to_db (factor 20) */
    MELSPEC_SCALE_LOG = 2 /* logf(v + log_offset) */
} melspec_scale_mode;

/*
 * dB: value -> factor log10(max(value, amin)) - offset, clamped below at floor. offset is
 * factor log10(max(ref, amin)) with ref fixed (ref_is_max 0: `offset` below) or each clip's
 * maximum; floor is the clip's peak dB - top_db when clamp is set. amplitude_to_db is power_to_db
 * of S^2 with ref^2 and amin^2, which is the same as factor 20 on the magnitudes.
 */
typedef struct melspec_scale_stage {
    int32_t mode;       /* melspec_scale_mode */
    int32_t ref_is_max; /* dB: the reference is each clip's maximum (ref_mode MAX) */
    int32_t clamp;      /* dB: top_db is finite */
    float amin_float;   /* dB: (float)amin, the floor applied to values */
    double amin;        /* dB: amin as configured (librosa's default resolved) */
    double ref;         /* dB: the fixed reference */
    double factor;      /* dB: 10 or 20 */
    double offset;      /* dB: factor log10(max(ref, amin)) when the reference is fixed */
    double top_db;      /* dB: the clamp's range */
    float log_offset;   /* LOG */
} melspec_scale_stage;

/* Whether the scaling reads the clip's maximum (so a stream, which never sees the whole clip,
 * cannot apply it). */
static inline MELSPEC_HOST_DEVICE int melspec_scale_needs_clip_max(const melspec_scale_stage *s)
{
    return s->mode == MELSPEC_SCALE_DB && (s->ref_is_max || s->clamp);
}

static inline MELSPEC_HOST_DEVICE float melspec_power_value(float re, float im,
                                                            melspec_power_stage power)
{
    const float squared = melspec_fadd_rn(melspec_fmul_rn(re, re), melspec_fmul_rn(im, im));
    switch (power.mode) {
    case MELSPEC_POWER_SQUARED: return squared;
    case MELSPEC_POWER_MAGNITUDE: return sqrtf(squared);
    default: return powf(squared, power.half_power);
    }
}

/* The dB offset for a clip whose largest value is clip_max (ignored for a fixed reference). */
static inline MELSPEC_HOST_DEVICE double melspec_db_offset(const melspec_scale_stage *s,
                                                           float clip_max)
{
    if (!s->ref_is_max) return s->offset;
    const double ref = fabs((double)clip_max);
    return melspec_mul_rn(s->factor, log10(ref > s->amin ? ref : s->amin));
}

static inline MELSPEC_HOST_DEVICE float melspec_to_db(float value, float amin, double factor,
                                                      double offset)
{
    const float floored = value > amin ? value : amin;
    return (float)melspec_add_rn(melspec_mul_rn(factor, (double)log10f(floored)), -offset);
}

/* The clamp's floor from the clip's peak in dB (dB is non-decreasing in the value, so the peak dB
 * is that of the clip's maximum). */
static inline MELSPEC_HOST_DEVICE float melspec_db_floor(float peak_db, double top_db)
{
    return (float)melspec_add_rn((double)peak_db, -top_db);
}

static inline MELSPEC_HOST_DEVICE float melspec_log_value(float value, float log_offset)
{
    return logf(melspec_fadd_rn(value, log_offset));
}

#endif
