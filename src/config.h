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
#define MELSPEC_CONFIG_CHECK_ENUM(field, last)                                                \
    do {                                                                                      \
        if (c->field < 0 || c->field > (last))                                                \
            MELSPEC_CONFIG_FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,                               \
                                #field " = %d is not a known value (0..%d)", (int)c->field,   \
                                (int)(last));                                                 \
    } while (0)

/* Copies a caller's config struct of `theirs` bytes into `out` (`ours` bytes) by the
 * copy_struct_from_user rule; init_name is the function that fills it (for messages). */
melspec_status melspec_copy_config_struct(const void *config, size_t theirs, void *out,
                                          size_t ours, size_t smallest, const char *init_name,
                                          char *message, size_t capacity);

/* Bytes of one output value for a config (8 for complex64). */
size_t melspec_output_value_bytes(const melspec_config *config);

#endif
