/* The scaling stage on the CPU, with the arithmetic of src/dsp/scaling.h. */
#include "cpu_backend.h"

static float clip_max(const float *values, int64_t n)
{
    float m = values[0];
    for (int64_t i = 1; i < n; i++) m = values[i] > m ? values[i] : m;
    return m;
}

void melspec_cpu_scale_clip(const melspec_stages *stages, float *values, int64_t n)
{
    const melspec_scale_stage *scale = &stages->scale;
    switch ((melspec_scale_mode)scale->mode) {
    case MELSPEC_SCALE_NONE: return;
    case MELSPEC_SCALE_LOG:
        for (int64_t i = 0; i < n; i++) values[i] = melspec_log_value(values[i], scale->log_offset);
        return;
    case MELSPEC_SCALE_DB: {
        const float maximum = stages->needs_clip_max ? clip_max(values, n) : 0.0f;
        const double offset = melspec_db_offset(scale, maximum);
        for (int64_t i = 0; i < n; i++)
            values[i] = melspec_to_db(values[i], scale->amin_float, scale->factor, offset);
        if (!scale->clamp) return;
        const float floor_db = melspec_db_floor(
            melspec_to_db(maximum, scale->amin_float, scale->factor, offset), scale->top_db);
        for (int64_t i = 0; i < n; i++) values[i] = values[i] > floor_db ? values[i] : floor_db;
        return;
    }
    }
}
