/* How the audio library reports a failure: the reason written to the caller's message buffer
 * (may be NULL), the status returned. */
#ifndef MELSPEC_AUDIO_FAIL_H
#define MELSPEC_AUDIO_FAIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "melspec_audio.h"

#if defined(__GNUC__)
#define PRINTF_LIKE(format_index) __attribute__((format(printf, format_index, format_index + 1)))
#else
#define PRINTF_LIKE(format_index)
#endif

PRINTF_LIKE(4)
static inline melspec_status fail(melspec_status status, char *message, size_t capacity,
                                  const char *format, ...)
{
    if (message != NULL && capacity > 0) {
        va_list arguments;
        va_start(arguments, format);
        vsnprintf(message, capacity, format, arguments);
        va_end(arguments);
    }
    return status;
}

#endif
