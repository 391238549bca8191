#include "compare.h"

#include <math.h>
#include <stdio.h>

/* Both sides as doubles, so that one loop serves float and double references. */
typedef double (*value_at)(const void *array, size_t i);

static double float_at(const void *array, size_t i) { return (double)((const float *)array)[i]; }
static double double_at(const void *array, size_t i) { return ((const double *)array)[i]; }

static compare_result compare(const float *got, const void *want, value_at want_at, size_t n)
{
    compare_result r = {0.0, 0.0, 0.0, -1, 0};
    for (size_t i = 0; i < n; i++) {
        const double g = (double)got[i];
        const double w = want_at(want, i);
        if (!isfinite(g) || !isfinite(w)) {
            /* Equal infinities agree (a dB floor at -inf, say); NaN never does. */
            if (!(isinf(g) && isinf(w) && (g > 0) == (w > 0))) r.n_mismatched_non_finite++;
            continue;
        }
        const double error = fabs(g - w);
        if (r.worst_index < 0 || error > r.max_abs_error) {
            r.max_abs_error = error;
            r.worst_index = (int64_t)i;
        }
        if (fabs(w) > r.max_abs_reference) r.max_abs_reference = fabs(w);
    }
    r.normalized_error =
        r.max_abs_reference > 0.0 ? r.max_abs_error / r.max_abs_reference : r.max_abs_error;
    if (r.n_mismatched_non_finite > 0) r.normalized_error = INFINITY;
    return r;
}

compare_result compare_floats(const float *got, const float *want, size_t n)
{
    return compare(got, want, float_at, n);
}

compare_result compare_floats_to_doubles(const float *got, const double *want, size_t n)
{
    return compare(got, want, double_at, n);
}

int compare_ok(const compare_result *result, double tolerance)
{
    return result->n_mismatched_non_finite == 0 && result->normalized_error <= tolerance;
}

char *compare_describe(const compare_result *result, char *buffer, size_t capacity)
{
    if (buffer == NULL || capacity == 0) return buffer;
    snprintf(buffer, capacity,
             "normalized error %.3g (max |diff| %.3g at %lld, max |want| %.3g, %lld non-finite "
             "mismatches)",
             result->normalized_error, result->max_abs_error, (long long)result->worst_index,
             result->max_abs_reference, (long long)result->n_mismatched_non_finite);
    return buffer;
}

/* The clamp check of one clip: 1 when it holds. slack absorbs the float32 rounding of the dB
 * values themselves. */
static int clamp_holds(double got_max, double got_min, double want_max, double want_min,
                       double top_db, double slack)
{
    if (isinf(top_db)) return 1;
    if (got_min < got_max - top_db - slack) return 0;        /* below the floor: no clamp */
    if (want_min <= want_max - top_db + slack && got_min > got_max - top_db + slack)
        return 0; /* want is clamped and got never reaches its floor: a clamp at another level */
    return 1;
}

compare_db_result compare_decibels(const float *got, const float *want, size_t n, size_t n_clips,
                                   double factor, double top_db, double relative_tolerance,
                                   double tolerance_db)
{
    compare_db_result r = {0.0, -1, 0.0, -1, 0.0, 0.0, 0.0, 0.0, 0};
    const size_t per_clip = n_clips > 0 ? n / n_clips : 0;
    for (size_t clip = 0; clip < n_clips; clip++) {
        const float *g = got + clip * per_clip, *w = want + clip * per_clip;
        double got_max = -INFINITY, want_max = -INFINITY, got_min = INFINITY, want_min = INFINITY;
        for (size_t i = 0; i < per_clip; i++) {
            if (!isfinite(g[i]) || !isfinite(w[i])) {
                if (!(isinf(g[i]) && isinf(w[i]) && (g[i] > 0) == (w[i] > 0)))
                    r.n_mismatched_non_finite++;
                continue;
            }
            got_max = fmax(got_max, g[i]);
            got_min = fmin(got_min, g[i]);
            want_max = fmax(want_max, w[i]);
            want_min = fmin(want_min, w[i]);
        }
        for (size_t i = 0; i < per_clip; i++) {
            if (!isfinite(g[i]) || !isfinite(w[i])) continue;
            const double error = fabs((double)g[i] - (double)w[i]);
            const double depth = want_max - (double)w[i];
            const double allowed = tolerance_db + factor / log(10.0) * relative_tolerance *
                                                      pow(10.0, depth / factor);
            r.max_abs_error_db = fmax(r.max_abs_error_db, error);
            if (r.worst_index < 0 || error / allowed > r.worst_ratio) {
                r.worst_ratio = error / allowed;
                r.worst_index = (int64_t)(clip * per_clip + i);
            }
        }
        const int failed = r.worst_clip < 0 && per_clip > 0 &&
                           !(fabs(got_max - want_max) <=
                                 tolerance_db + factor / log(10.0) * relative_tolerance &&
                             clamp_holds(got_max, got_min, want_max, want_min, top_db,
                                         tolerance_db));
        if (r.worst_clip < 0) {
            r.got_max = got_max;
            r.want_max = want_max;
            r.got_min = got_min;
            r.want_min = want_min;
        }
        if (failed) r.worst_clip = (int64_t)clip;
    }
    return r;
}

int compare_decibels_ok(const compare_db_result *result)
{
    return result->n_mismatched_non_finite == 0 && result->worst_ratio <= 1.0 &&
           result->worst_clip < 0;
}

char *compare_decibels_describe(const compare_db_result *result, char *buffer, size_t capacity)
{
    if (buffer == NULL || capacity == 0) return buffer;
    snprintf(buffer, capacity,
             "max |diff| %.3g dB (%.3g of its allowance at %lld); clip %lld: max %.6g vs %.6g dB, "
             "min %.6g vs %.6g dB; %lld non-finite mismatches",
             result->max_abs_error_db, result->worst_ratio, (long long)result->worst_index,
             (long long)result->worst_clip, result->got_max, result->want_max, result->got_min,
             result->want_min, (long long)result->n_mismatched_non_finite);
    return buffer;
}
