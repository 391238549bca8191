/* The scaling stage on the CPU, with the arithmetic of src/dsp/scaling.h. */
#include <string.h>

#include "cpu_backend.h"
#include "fft.h"
#include "../widest_vectors.h"

typedef float clip_v8 __attribute__((vector_size(32)));
typedef int32_t clip_v8i __attribute__((vector_size(32)));

/* partial = v > partial ? v : partial, lane by lane, with a mask (compilers do not vectorise a
 * float maximum on their own, since MAX_EXPR leaves NaNs unspecified); vector casts keep the
 * bits and the registers (a memcpy of the maxima sent them through the stack at every step) */
static inline void keep_greater_of(clip_v8i *partial, const clip_v8i *v)
{
    const clip_v8i greater = (clip_v8)*v > (clip_v8)*partial;
    *partial = (*v & greater) | (*partial & ~greater);
}

/* (Vectors go by pointer: these helpers are compiled for the baseline, where a 32-byte vector
 * passed by value has another ABI than in the AVX clones that call them when not inlined, as in
 * a -O0 build.) */
static inline void keep_greater(clip_v8i *partial, const float *values)
{
    clip_v8i v;
    memcpy(&v, values, sizeof v);
    keep_greater_of(partial, &v);
}

/* The largest of start and the n values, NaNs skipped unless start is one, in running maxima
 * that all start at start: 4 vectors of 8, so that 4 compare-and-select chains overlap (one
 * chain waited on its own latency). */
WIDEST_VECTORS_LOOPS float running_max_loops(const float *values, int64_t n, float start)
{
    clip_v8 first = {start, start, start, start, start, start, start, start};
    clip_v8i a = (clip_v8i)first, b = a, c = a, d = a;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        keep_greater(&a, values + i);
        keep_greater(&b, values + i + 8);
        keep_greater(&c, values + i + 16);
        keep_greater(&d, values + i + 24);
    }
    for (; i + 8 <= n; i += 8) keep_greater(&a, values + i);
    /* the chains folded as vectors, then 8 lanes: a dB block is 640 values, where 32 scalar
     * steps at the end cost more than the loop */
    keep_greater_of(&a, &b);
    keep_greater_of(&c, &d);
    keep_greater_of(&a, &c);
    const clip_v8 partial = (clip_v8)a;
    float m = start;
    for (int j = 0; j < 8; j++) m = partial[j] > m ? partial[j] : m;
    for (; i < n; i++) m = values[i] > m ? values[i] : m;
    return m;
}
WIDEST_VECTORS(float, running_max, (const float *values, int64_t n, float start),
               (values, n, start))

/* The clip's maximum as a plain scan from values[0] finds it: NaNs skipped unless values[0] is
 * one (the value only matters through its dB, where +0 and -0 are the same floor). */
static float clip_max(const float *values, int64_t n)
{
    return running_max(values + 1, n - 1, values[0]);
}

/* log10 of a normal x > 0 or +inf (the dB stage floors values at amin, a normal float:
 * src/config.c), within 3.5 ulp of the exact value (glibc log10f: 2; both far below the dB
 * tolerances), without branches or calls so that the dB loop below vectorises: libm's log10f
 * does not, and it was half of the whisper case's time (80 x 3000 values per call). The streams
 * run this same function, one frame at a time, so they still match execute bit for bit.
 *
 * x = 2^e m with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172,
 * whose series 2s (1 + s^2/3 + s^4/5 + s^6/7 + s^8/9) is truncated below 1e-9 relative. */
static inline float log10_positive(float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int32_t exponent = (int32_t)(bits >> 23) - 127;
    uint32_t mantissa_bits = (bits & 0x007fffffu) | 0x3f800000u; /* m in [1, 2) */
    const int high = mantissa_bits > 0x3fb504f3u;                 /* m > sqrt(2) */
    mantissa_bits -= high ? 0x00800000u : 0u;                     /* m / 2, exactly */
    exponent += high;
    float m;
    memcpy(&m, &mantissa_bits, sizeof m);
    const float f = m - 1.0f; /* exact (Sterbenz) */
    const float s = f / (2.0f + f), z = s * s;
    const float series =
        1.0f / 3.0f + z * (1.0f / 5.0f + z * (1.0f / 7.0f + z * (1.0f / 9.0f)));
    const float ln_m = (s + s) + (s + s) * (z * series);
    /* log10(2) split so that exponent * the high part is exact (exponent < 2^9) */
    const float log10_2_high = 0x1.344p-2f, log10_2_low = 4.6050390e-06f;
    const float log10_e = 0.43429448190325182765f;
    const float e = (float)exponent;
    const float result = e * log10_2_high + (e * log10_2_low + ln_m * log10_e);
    return bits == 0x7f800000u ? x : result;
}

/* melspec_to_db with log10_positive for log10f (amin > 0, so the floored value is positive) */
static inline float to_db(float value, float amin, double factor, double offset)
{
    const float floored = value > amin ? value : amin;
    return (float)melspec_add_rn(melspec_mul_rn(factor, (double)log10_positive(floored)), -offset);
}

/* the clamp of dB values at floor_db (top_db below the clip's peak) */
WIDEST_VECTORS_LOOPS void clamp_db_loops(float *values, int64_t n, float floor_db)
{
    for (int64_t i = 0; i < n; i++) values[i] = values[i] > floor_db ? values[i] : floor_db;
}
WIDEST_VECTORS_VOID(clamp_db, (float *values, int64_t n, float floor_db), (values, n, floor_db))

/* the dB of n values in place, then the clamp at floor_db when clamp is set */
WIDEST_VECTORS_LOOPS void db_values_loops(float *values, int64_t n, float amin, double factor,
                                          double offset, int clamp, float floor_db)
{
    if (offset == 0.0 && (factor == 10.0 || factor == 20.0)) {
        /* ref 1 (librosa's default, Whisper's): to_db's double arithmetic in float, the same
         * bits. factor * l is exact in double (l has 24 significant bits, 10 and 20 three), so
         * to_db rounds it once, to float, as the float product does; adding -0.0 changes
         * nothing. Half the vector operations of the double path. */
        const float factor_float = (float)factor;
        for (int64_t i = 0; i < n; i++)
            values[i] = factor_float * log10_positive(values[i] > amin ? values[i] : amin);
    } else {
        for (int64_t i = 0; i < n; i++) values[i] = to_db(values[i], amin, factor, offset);
    }
    if (clamp) clamp_db_loops(values, n, floor_db);
}
WIDEST_VECTORS_VOID(db_values,
                    (float *values, int64_t n, float amin, double factor, double offset,
                     int clamp, float floor_db),
                    (values, n, amin, factor, offset, clamp, floor_db))

/* the clamp's floor for a clip whose largest value is maximum */
static float clamp_floor(const melspec_scale_stage *scale, float maximum, double offset)
{
    return melspec_db_floor(to_db(maximum, scale->amin_float, scale->factor, offset),
                            scale->top_db);
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
        /* the floor from the maximum before the values change (the clamp needs it) */
        const float floor_db = scale->clamp ? clamp_floor(scale, maximum, offset) : 0.0f;
        db_values(values, n, scale->amin_float, scale->factor, offset, scale->clamp, floor_db);
        return;
    }
    }
}

/* ---- the dB stage block by block (issue 18) --------------------------------------------------
 * With a fixed reference a value's dB does not depend on the rest of the clip, so it is taken
 * while a block's values are still in L1, and the clip's maximum, which only the clamp needs,
 * gathered in the same visit: the clip is then read once more, for the clamp, instead of three
 * times (maximum, dB, clamp) after it was stored. Each value sees db_values' arithmetic and the
 * maximum clip_max's rule (the clip's first value is frame 0's first value in every layout), so
 * the bits are melspec_cpu_scale_clip's. */

int melspec_cpu_db_by_block(const melspec_stages *stages)
{
    return stages->scale.mode == MELSPEC_SCALE_DB && !stages->scale.ref_is_max &&
           !stages->complex_values;
}

void melspec_cpu_db_block(const melspec_stages *stages, float *lanes, int64_t n_values,
                          int64_t n_frames, int64_t first_frame, float *maximum)
{
    enum { LANES = MELSPEC_RFFT_BATCH };
    const melspec_scale_stage *scale = &stages->scale;
    if (stages->needs_clip_max) {
        float m = first_frame == 0 ? lanes[0] : *maximum;
        if (n_frames == LANES) {
            m = running_max(lanes, n_values * LANES, m);
        } else { /* the lanes past n_frames hold no frame of this clip */
            for (int64_t v = 0; v < n_values; v++)
                for (int64_t f = 0; f < n_frames; f++)
                    m = lanes[v * LANES + f] > m ? lanes[v * LANES + f] : m;
        }
        *maximum = m;
    }
    db_values(lanes, n_values * LANES, scale->amin_float, scale->factor,
              melspec_db_offset(scale, 0.0f), 0, 0.0f);
}

void melspec_cpu_db_clip_end(const melspec_stages *stages, float *values, int64_t n,
                             float maximum)
{
    const melspec_scale_stage *scale = &stages->scale;
    if (scale->clamp)
        clamp_db(values, n, clamp_floor(scale, maximum, melspec_db_offset(scale, maximum)));
}
