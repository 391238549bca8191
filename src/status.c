/* Status strings, version queries and the detail-message helpers. */
#include <stdio.h>

#include "plan.h"

const char *melspec_status_string(melspec_status status)
{
    switch (status) {
#define MELSPEC_STATUS_TEXT_(name, value, text) \
    case MELSPEC_##name: return text;
        MELSPEC_STATUS_MAP(MELSPEC_STATUS_TEXT_)
#undef MELSPEC_STATUS_TEXT_
    }
    return "unknown status";
}

const char *melspec_status_name(melspec_status status)
{
    switch (status) {
#define MELSPEC_STATUS_NAME_(name, value, text) \
    case MELSPEC_##name: return "MELSPEC_" #name;
        MELSPEC_STATUS_MAP(MELSPEC_STATUS_NAME_)
#undef MELSPEC_STATUS_NAME_
    }
    return "MELSPEC_UNKNOWN_STATUS";
}

unsigned melspec_version_number(void) { return MELSPEC_VERSION_NUMBER; }

#define MELSPEC_STRINGIFY_(x) #x
#define MELSPEC_STRINGIFY(x) MELSPEC_STRINGIFY_(x)

const char *melspec_version_string(void)
{
    return MELSPEC_STRINGIFY(MELSPEC_VERSION_MAJOR) "." MELSPEC_STRINGIFY(
        MELSPEC_VERSION_MINOR) "." MELSPEC_STRINGIFY(MELSPEC_VERSION_PATCH);
}

static void format_message(char *message, size_t capacity, const char *format, va_list args)
{
    if (message == NULL || capacity == 0) return;
    vsnprintf(message, capacity, format, args);
}

melspec_status melspec_vfail(melspec_plan *plan, melspec_status status, const char *format,
                             va_list args)
{
    if (plan != NULL) format_message(plan->last_error, sizeof plan->last_error, format, args);
    return status;
}

melspec_status melspec_fail(melspec_plan *plan, melspec_status status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    melspec_vfail(plan, status, format, args);
    va_end(args);
    return status;
}

melspec_status melspec_fail_message(char *message, size_t capacity, melspec_status status,
                                    const char *format, ...)
{
    va_list args;
    va_start(args, format);
    format_message(message, capacity, format, args);
    va_end(args);
    return status;
}
