/* Backend selection: the one place that asks for the CUDA plugin (src/plugin.c). */
#include "backend_plugin.h"

/* OK when CUDA device `ordinal` is usable; else BACKEND_UNAVAILABLE with the reason in message
 * (the plugin's load failure, or the driver's answer). */
static melspec_status cuda_usable(int ordinal, char *message, size_t capacity)
{
    const char *detail;
    const melspec_backend_plugin *plugin = melspec_cuda_plugin(&detail);
    if (plugin == NULL)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_BACKEND_UNAVAILABLE,
                                    "backend CUDA: no CUDA backend, its plugin could not be "
                                    "loaded (%s)",
                                    detail);
    char driver[256] = "";
    const int n_devices = plugin->device_count(driver, sizeof driver);
    if (n_devices > ordinal && ordinal >= 0) return MELSPEC_OK;
    if (n_devices == 0)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_BACKEND_UNAVAILABLE,
                                    "backend CUDA: device_ordinal = %d but no CUDA device or "
                                    "driver is usable (%s; plugin %s)",
                                    ordinal, driver[0] != '\0' ? driver : "0 devices", detail);
    return melspec_fail_message(message, capacity, MELSPEC_ERROR_BACKEND_UNAVAILABLE,
                                "backend CUDA: device_ordinal = %d but %d CUDA device(s) are "
                                "usable",
                                ordinal, n_devices);
}

int melspec_cuda_compiled(void)
{
    return melspec_cuda_plugin(NULL) != NULL;
}

int melspec_cuda_device_count(void)
{
    const melspec_backend_plugin *plugin = melspec_cuda_plugin(NULL);
    return plugin != NULL ? plugin->device_count(NULL, 0) : 0;
}

melspec_status melspec_backend_available(melspec_backend backend, char *message,
                                         size_t message_capacity)
{
    switch (backend) {
    case MELSPEC_BACKEND_CPU:
        return melspec_fail_message(message, message_capacity, MELSPEC_OK,
                                    "backend CPU: always available");
    case MELSPEC_BACKEND_CUDA: {
        const char *detail;
        const melspec_status status = cuda_usable(0, message, message_capacity);
        if (status != MELSPEC_OK) return status;
        melspec_cuda_plugin(&detail);
        return melspec_fail_message(message, message_capacity, MELSPEC_OK,
                                    "backend CUDA: %d device(s), plugin %s",
                                    melspec_cuda_device_count(), detail);
    }
    case MELSPEC_BACKEND_AUTO: {
        char why[MELSPEC_MESSAGE_CAPACITY];
        if (cuda_usable(0, why, sizeof why) == MELSPEC_OK)
            return melspec_fail_message(message, message_capacity, MELSPEC_OK,
                                        "backend AUTO: picks CUDA (device 0)");
        return melspec_fail_message(message, message_capacity, MELSPEC_OK,
                                    "backend AUTO: picks the CPU, because %s", why);
    }
    }
    return melspec_fail_message(message, message_capacity, MELSPEC_ERROR_INVALID_ARGUMENT,
                                "backend = %d is not a melspec_backend value", (int)backend);
}

melspec_status melspec_select_backend(melspec_backend wanted, int32_t device_ordinal,
                                      melspec_backend *chosen, const melspec_backend_ops **ops,
                                      char *message, size_t capacity)
{
    *chosen = MELSPEC_BACKEND_CPU;
    *ops = &melspec_cpu_ops;
    if (wanted == MELSPEC_BACKEND_CPU) return MELSPEC_OK;
    /* AUTO falls back silently; melspec_backend_available still says why */
    const melspec_status status =
        cuda_usable((int)device_ordinal, wanted == MELSPEC_BACKEND_CUDA ? message : NULL,
                    capacity);
    if (status == MELSPEC_OK) {
        *chosen = MELSPEC_BACKEND_CUDA;
        *ops = melspec_cuda_plugin(NULL)->ops;
        return MELSPEC_OK;
    }
    return wanted == MELSPEC_BACKEND_CUDA ? status : MELSPEC_OK;
}
