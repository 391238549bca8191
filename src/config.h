/* Config defaults and validation: the one place that decides what a config means. */
#ifndef MELSPEC_SRC_CONFIG_H
#define MELSPEC_SRC_CONFIG_H

#include "melspec.h"

/* Largest sizes a plan accepts: far beyond any audio use, small enough that every product of
 * sizes the library forms fits in 64 bits. */
#define MELSPEC_MAX_N_FFT ((int64_t)1 << 24)
#define MELSPEC_MAX_N_MELS ((int64_t)1 << 16)
#define MELSPEC_MAX_HOP_LENGTH ((int64_t)1 << 40)

/* Copies a caller's config of any struct_size (older or newer ABI), checks every field and
 * resolves every "0 = default" into *resolved. On failure writes why into message. */
melspec_status melspec_config_resolve(const melspec_config *config, melspec_config *resolved,
                                      char *message, size_t capacity);

/* Validation helpers for functions with `char *message, size_t capacity` in scope and the config
 * being checked as `c`: fail with a formatted message, or check an enum field's range. */
#define MELSPEC_CONFIG_FAIL(status, ...) \
    return melspec_fail_message(message, capacity, status, __VA_ARGS__)
#define MELSPEC_CONFIG_CHECK_RANGE(name, value, last)                                        \
    do {                                                                                      \
        if ((value) < 0 || (value) > (last))                                                  \
            MELSPEC_CONFIG_FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,                               \
                                name " = %d is not a known value (0..%d)", (int)(value),      \
                                (int)(last));                                                 \
    } while (0)
#define MELSPEC_CONFIG_CHECK_ENUM(field, last) MELSPEC_CONFIG_CHECK_RANGE(#field, c->field, last)

/* Copies a caller's config struct of `theirs` bytes into `out` (`ours` bytes) by the
 * copy_struct_from_user rule; init_name is the function that fills it (for messages). */
melspec_status melspec_copy_config_struct(const void *config, size_t theirs, void *out,
                                          size_t ours, size_t smallest, const char *init_name,
                                          char *message, size_t capacity);

/* The fields both config structs share, checked and resolved by one function each (pointers
 * into the caller's resolved copy, so that "0 = default" is written back). */
typedef struct melspec_scaling_fields {
    int32_t *scaling, *ref_mode;
    double *ref, *amin, *top_db, *log_offset;
    int complex_values;       /* the output is complex: only SCALING_NONE applies */
    const char *complex_name; /* what to call that output in the message */
} melspec_scaling_fields;
melspec_status melspec_check_scaling(const melspec_scaling_fields *fields, char *message,
                                     size_t capacity);

typedef struct melspec_execution_fields {
    int32_t *layout, *backend, *device_ordinal, *fixed_memory;
    int64_t *max_batch, *max_samples;
    double sample_rate; /* for the default max_samples, 60 s */
} melspec_execution_fields;
melspec_status melspec_check_execution(const melspec_execution_fields *fields, char *message,
                                       size_t capacity);

#endif
