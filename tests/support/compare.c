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
