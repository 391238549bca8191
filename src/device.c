/* The device-pointer API of melspec_cuda.h, backend-neutral: the same argument checks as
 * melspec_execute, then dispatch through the ops table. Backends without device memory (the CPU
 * backend, which every plan gets where the CUDA plugin is missing) leave the entries NULL and
 * get a status. */
#include "melspec_cuda.h"
#include "plan.h"

static melspec_status unavailable(melspec_plan *plan, const char *call)
{
    char why[MELSPEC_MESSAGE_CAPACITY / 2];
    if (melspec_backend_available(MELSPEC_BACKEND_CUDA, why, sizeof why) == MELSPEC_OK)
        return melspec_fail(plan, MELSPEC_ERROR_BACKEND_UNAVAILABLE,
                            "%s needs a plan on the CUDA backend, but this plan runs on the %s "
                            "backend (create it with config.backend = MELSPEC_BACKEND_CUDA)",
                            call, plan->ops->name);
    return melspec_fail(plan, MELSPEC_ERROR_BACKEND_UNAVAILABLE,
                        "%s needs a plan on the CUDA backend, but this plan runs on the %s "
                        "backend, and CUDA is unavailable here (%s)",
                        call, plan->ops->name, why);
}

static melspec_status set_cuda_stream(melspec_plan *plan, void *cuda_stream)
{
    if (plan->ops->set_stream == NULL) return unavailable(plan, "melspec_plan_set_cuda_stream");
    return plan->ops->set_stream(plan, cuda_stream);
}

melspec_status melspec_plan_set_cuda_stream(melspec_plan *plan, void *cuda_stream)
{
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    MELSPEC_ENTER_PLAN(plan);
    return melspec_plan_leave(plan, set_cuda_stream(plan, cuda_stream));
}

static melspec_status execute_device(melspec_plan *plan, const float *device_input,
                                     int64_t n_signals, int64_t n_samples, void *device_output,
                                     size_t output_capacity)
{
    if (plan->ops->execute_device == NULL) return unavailable(plan, "melspec_execute_device");
    if (device_input == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "device_input is NULL");
    if (device_output == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "device_output is NULL");
    const melspec_status status =
        melspec_check_call(plan, n_signals, n_samples, output_capacity, "device_output");
    if (status != MELSPEC_OK) return status;
    return plan->ops->execute_device(plan, device_input, n_signals, n_samples, device_output);
}

melspec_status melspec_execute_device(melspec_plan *plan, const float *device_input,
                                      int64_t n_signals, int64_t n_samples, void *device_output,
                                      size_t output_capacity)
{
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    MELSPEC_ENTER_PLAN(plan);
    return melspec_plan_leave(plan, execute_device(plan, device_input, n_signals, n_samples,
                                                   device_output, output_capacity));
}
