/* One-line failure reasons, written into a caller's buffer (the command prints them with the
 * file's name). */
#ifndef MELSPEC_CLI_MESSAGE_H
#define MELSPEC_CLI_MESSAGE_H

#include <stddef.h>

/* Formats the reason into why (at most capacity bytes) and returns -1, for `return cli_fail(...)`. */
int cli_fail(char *why, size_t capacity, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* cli_fail(why, capacity, "out of memory"). */
int cli_fail_out_of_memory(char *why, size_t capacity);

#endif
