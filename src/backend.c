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

melspec_status melspec_select_backend(melspec_backend wanted, int32_t device_ordinal,
                                      melspec_backend *chosen, const melspec_backend_ops **ops,
                                      char *message, size_t capacity)
{
    if (wanted == MELSPEC_BACKEND_CPU) {
        *chosen = MELSPEC_BACKEND_CPU;
        *ops = &melspec_cpu_ops;
        return MELSPEC_OK;
    }
#ifdef MELSPEC_HAVE_CUDA
    const int n_devices = melspec_cuda_runtime_device_count();
    if (n_devices > device_ordinal) {
        *chosen = MELSPEC_BACKEND_CUDA;
        *ops = &melspec_cuda_ops;
        return MELSPEC_OK;
    }
    if (wanted == MELSPEC_BACKEND_CUDA)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_BACKEND_UNAVAILABLE,
                                    "backend CUDA: device_ordinal = %d but %d CUDA device(s) "
                                    "are usable",
                                    (int)device_ordinal, n_devices);
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
