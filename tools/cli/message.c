#include "message.h"

#include <stdarg.h>
#include <stdio.h>

int cli_fail(char *why, size_t capacity, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(why, capacity, format, args);
    va_end(args);
    return -1;
}
