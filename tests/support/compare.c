#include "compare.h"

#include <math.h>
#include <stdio.h>

/* Both sides as doubles, so that one loop serves float and double references. */
typedef double (*value_at)(const void *array, size_t i);

static double float_at(const void *array, size_t i) { return (double)((const float *)array)[i]; }
static double double_at(const void *array, size_t i) { return ((const double *)array)[i]; }
static double exp_float_at(const void *array, size_t i)
{
    return exp((double)((const float *)array)[i]);
}

/* Non-finite values agree only as equal infinities (a dB floor at -inf, say); NaN never does. */
static int non_finite_agree(double g, double w)
{
    return isinf(g) && isinf(w) && (g > 0) == (w > 0);
}

/* The loop behind every variant: width 1 compares real values, width 2 complex values stored as
 * (re, im) pairs, |.| being the modulus (n counts values, not floats). */
static compare_result compare(const float *got, value_at got_at, const void *want,
                              value_at want_at, size_t n, size_t width)
{
    compare_result r = {0.0, 0.0, 0.0, -1, 0};
    for (size_t i = 0; i < n; i++) {
        double g[2] = {0.0, 0.0}, w[2] = {0.0, 0.0};
        int finite = 1, mismatched = 0;
        for (size_t part = 0; part < width; part++) {
            g[part] = got_at(got, width * i + part);
            w[part] = want_at(want, width * i + part);
            if (isfinite(g[part]) && isfinite(w[part])) continue;
            finite = 0;
            if (!non_finite_agree(g[part], w[part])) mismatched = 1;
        }
        if (!finite) {
            if (mismatched) r.n_mismatched_non_finite++;
            continue;
        }
        const double error = width == 1 ? fabs(g[0] - w[0]) : hypot(g[0] - w[0], g[1] - w[1]);
        if (r.worst_index < 0 || error > r.max_abs_error) {
            r.max_abs_error = error;
            r.worst_index = (int64_t)i;
        }
        r.max_abs_reference =
            fmax(r.max_abs_reference, width == 1 ? fabs(w[0]) : hypot(w[0], w[1]));
    }
    r.normalized_error =
        r.max_abs_reference > 0.0 ? r.max_abs_error / r.max_abs_reference : r.max_abs_error;
    if (r.n_mismatched_non_finite > 0) r.normalized_error = INFINITY;
    return r;
}

compare_result compare_floats(const float *got, const float *want, size_t n)
{
    return compare(got, float_at, want, float_at, n, 1);
}

compare_result compare_floats_to_doubles(const float *got, const double *want, size_t n)
{
    return compare(got, float_at, want, double_at, n, 1);
}

compare_result compare_complex_floats(const float *got, const float *want, size_t n)
{
    return compare(got, float_at, want, float_at, n, 2);
}

compare_result compare_logs(const float *got, const float *want, size_t n)
{
    return compare(got, exp_float_at, want, exp_float_at, n, 1);
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
 * values themselves. Both sides are held to their own floor: a reference without the clamp is
 * as wrong as a result without it, and element-wise a value deep below the maximum has an
 * allowance too wide to notice either. */
static int clamp_holds(double got_max, double got_min, double want_max, double want_min,
                       double top_db, double slack)
{
    if (isinf(top_db)) return 1;
    if (got_min < got_max - top_db - slack) return 0;        /* below the floor: no clamp */
    if (want_min < want_max - top_db - slack) return 0;      /* the reference's, likewise */
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
                if (!non_finite_agree(g[i], w[i])) r.n_mismatched_non_finite++;
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

double compare_decibels_error(const compare_db_result *result, double relative_tolerance)
{
    if (result->n_mismatched_non_finite > 0 || result->worst_clip >= 0) return INFINITY;
    return result->worst_ratio * relative_tolerance;
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
