/* Backend selection: the one place that knows whether CUDA was compiled in. */
#include "plan.h"

#ifdef MELSPEC_HAVE_CUDA
/* In src/cuda/: number of usable devices, 0 when the driver or runtime has none. */
int melspec_cuda_runtime_device_count(void);
#endif

int melspec_cuda_compiled(void)
{
#ifdef MELSPEC_HAVE_CUDA
    return 1;
#else
    return 0;
#endif
}

int melspec_cuda_device_count(void)
{
#ifdef MELSPEC_HAVE_CUDA
    return melspec_cuda_runtime_device_count();
#else
    return 0;
#endif
}

melspec_status melspec_select_backend(const melspec_config *config, melspec_backend *chosen,
                                      const melspec_backend_ops **ops, char *message,
                                      size_t capacity)
{
    const melspec_backend wanted = (melspec_backend)config->backend;
    if (wanted == MELSPEC_BACKEND_CPU) {
        *chosen = MELSPEC_BACKEND_CPU;
        *ops = &melspec_cpu_ops;
        return MELSPEC_OK;
    }
#ifdef MELSPEC_HAVE_CUDA
    const int n_devices = melspec_cuda_runtime_device_count();
    if (n_devices > config->device_ordinal) {
        *chosen = MELSPEC_BACKEND_CUDA;
        *ops = &melspec_cuda_ops;
        return MELSPEC_OK;
    }
    if (wanted == MELSPEC_BACKEND_CUDA)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_BACKEND_UNAVAILABLE,
                                    "backend CUDA: device_ordinal = %d but %d CUDA device(s) "
                                    "are usable",
                                    (int)config->device_ordinal, n_devices);
#else
    if (wanted == MELSPEC_BACKEND_CUDA)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_BACKEND_UNAVAILABLE,
                                    "backend CUDA: this build of melspec has no CUDA backend "
                                    "(built without nvcc or with MELSPEC_CUDA=OFF)");
#endif
    *chosen = MELSPEC_BACKEND_CPU;
    *ops = &melspec_cpu_ops;
    return MELSPEC_OK;
}

melspec_status melspec_select_cqt_backend(const melspec_config *config, melspec_backend *chosen,
                                          const melspec_backend_ops **ops, char *message,
                                          size_t capacity)
{
    /* the same choice; the CUDA backend runs CQT plans with its own ops, the CPU backend not */
    const melspec_status status = melspec_select_backend(config, chosen, ops, message, capacity);
    if (status == MELSPEC_OK && *chosen == MELSPEC_BACKEND_CPU) *ops = &melspec_cpu_cqt_ops;
    return status;
}
