/* The one definition of "these numbers agree", shared by the tests and by melspec-bench --verify
 * (FFTW's libbench2 idea: the benchmark checks what it times with the tests' own yardstick).
 *
 * The measure is the normalized maximum error: max |got - want| / max |want|. It is scale-free
 * (a spectrogram's values span many decades, and an absolute tolerance would mean something
 * different for every signal level) and it is dominated by the largest values, which is what a
 * float32 computation gets right to about 1e-6 and a wrong computation gets wrong by far more. */
#ifndef MELSPEC_TESTS_COMPARE_H
#define MELSPEC_TESTS_COMPARE_H

#include <stddef.h>
#include <stdint.h>

typedef struct compare_result {
    double max_abs_error;     /* max |got - want| over the finite pairs */
    double max_abs_reference; /* max |want| */
    double normalized_error;  /* max_abs_error / max_abs_reference (the absolute error when the
                                 reference is all zero); INFINITY when a NaN/Inf mismatches */
    int64_t worst_index;      /* where max_abs_error occurs (-1 when n is 0) */
    int64_t n_mismatched_non_finite; /* pairs where one side is NaN/Inf and the other is not,
                                        or where both are infinite with different signs */
} compare_result;

/* got and want hold n floats each. */
compare_result compare_floats(const float *got, const float *want, size_t n);

/* The same against a double-precision reference (oracles in higher precision). */
compare_result compare_floats_to_doubles(const float *got, const double *want, size_t n);

/* Complex values: got and want hold n (re, im) pairs (2 n floats each), |.| above being the
 * modulus, so that the error of a complex value is not split between its parts; worst_index
 * counts pairs. */
compare_result compare_complex_floats(const float *got, const float *want, size_t n);

/* Natural-log outputs (MELSPEC_SCALING_LOG) compared as the values they stand for, exp(v) of
 * both sides in double: a float32 FFT's error is relative to the peak in that domain. */
compare_result compare_logs(const float *got, const float *want, size_t n);

/* 1 when result.normalized_error <= tolerance and nothing non-finite mismatched. */
int compare_ok(const compare_result *result, double tolerance);

/* One line for a failure message: "normalized error 3.1e-05 (max |diff| 2.0e-03 at 117, max
 * |want| 6.4e+01)". Writes at most capacity bytes, NUL-terminated; returns buffer. */
char *compare_describe(const compare_result *result, char *buffer, size_t capacity);

/*
 * Decibel outputs (power_to_db, amplitude_to_db) are compared in dB, clip by clip, because the
 * clamp to max - top_db lives there: a value clamped on one side and not on the other differs by
 * tens of dB, which the linear domain shrinks to 1e-8 of the peak and hides.
 *
 * Element-wise, a float32 computation is accurate relative to the clip's peak in the linear
 * domain S (the value the dB are of), so the dB error it can make grows as a value lies deeper
 * below the maximum: element i may differ by
 *     tolerance_db + factor / ln(10) * relative_tolerance * 10^((max_want - want[i]) / factor)
 * (factor 10 for power_to_db, 20 for amplitude_to_db). The clamp is then checked exactly at both
 * ends: the maxima agree to that tolerance, no value of got or of want lies below its own
 * max - top_db, and where want reaches its floor got reaches its own (top_db INFINITY: no clamp
 * to check).
 */
typedef struct compare_db_result {
    double max_abs_error_db; /* max |got - want| in dB over the finite pairs */
    int64_t worst_index;     /* where the largest error relative to its allowance occurs */
    double worst_ratio;      /* max over i of |got - want| / allowed(i); <= 1 is within */
    int64_t worst_clip;      /* the clip of the clamp check that failed, -1 when none */
    double got_max, want_max, got_min, want_min; /* of worst_clip, or of the last clip */
    int64_t n_mismatched_non_finite;
} compare_db_result;

/* got and want hold n floats each, n_clips equal contiguous clips (the batch is the outermost
 * dimension in both layouts). */
compare_db_result compare_decibels(const float *got, const float *want, size_t n, size_t n_clips,
                                   double factor, double top_db, double relative_tolerance,
                                   double tolerance_db);
int compare_decibels_ok(const compare_db_result *result);
/* The result as a number to hold to relative_tolerance like a normalized error: worst_ratio
 * times relative_tolerance (at most relative_tolerance exactly when every value is within its
 * allowance), INFINITY when a peak, the clamp or a non-finite value disagrees. */
double compare_decibels_error(const compare_db_result *result, double relative_tolerance);
char *compare_decibels_describe(const compare_db_result *result, char *buffer, size_t capacity);

#endif
