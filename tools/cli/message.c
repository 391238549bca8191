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

int cli_fail_out_of_memory(char *why, size_t capacity)
{
    return cli_fail(why, capacity, "out of memory");
}
