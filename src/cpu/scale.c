/* The scaling stage on the CPU: librosa's power_to_db / amplitude_to_db and a natural log. */
#include <math.h>

#include "cpu_backend.h"

static float clip_max(const float *values, int64_t n)
{
    float m = values[0];
    for (int64_t i = 1; i < n; i++) m = values[i] > m ? values[i] : m;
    return m;
}

/* decibels = factor * log10(max(amin, S)) - factor * log10(max(amin, ref)), then clamped to
 * (max - top_db). amplitude_to_db is power_to_db of S^2 with ref^2 and amin^2, which is the same
 * as factor 20 on the magnitudes. */
static void to_decibels(const melspec_config *c, float *values, int64_t n, double factor)
{
    const double amin = c->amin;
    const double ref = c->ref_mode == MELSPEC_REF_MAX ? fabs((double)clip_max(values, n)) : c->ref;
    const double offset = factor * log10(ref > amin ? ref : amin);
    const float amin_f = (float)amin;
    float peak = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        const float s = values[i] > amin_f ? values[i] : amin_f;
        const float db = (float)(factor * (double)log10f(s) - offset);
        values[i] = db;
        peak = db > peak ? db : peak;
    }
    if (isinf(c->top_db)) return;
    const float floor_db = (float)((double)peak - c->top_db);
    for (int64_t i = 0; i < n; i++) values[i] = values[i] > floor_db ? values[i] : floor_db;
}

void melspec_cpu_scale_clip(const melspec_config *config, float *values, int64_t n_values)
{
    switch ((melspec_scaling)config->scaling) {
    case MELSPEC_SCALING_NONE: return;
    case MELSPEC_SCALING_POWER_TO_DB: to_decibels(config, values, n_values, 10.0); return;
    case MELSPEC_SCALING_AMPLITUDE_TO_DB: to_decibels(config, values, n_values, 20.0); return;
    case MELSPEC_SCALING_LOG: {
        const float offset = (float)config->log_offset;
        for (int64_t i = 0; i < n_values; i++) values[i] = logf(values[i] + offset);
        return;
    }
    }
}
