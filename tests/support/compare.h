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

/* 1 when result.normalized_error <= tolerance and nothing non-finite mismatched. */
int compare_ok(const compare_result *result, double tolerance);

/* One line for a failure message: "normalized error 3.1e-05 (max |diff| 2.0e-03 at 117, max
 * |want| 6.4e+01)". Writes at most capacity bytes, NUL-terminated; returns buffer. */
char *compare_describe(const compare_result *result, char *buffer, size_t capacity);

#endif
