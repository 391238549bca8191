/*
 * melspec_cuda.h — device pointers on the caller's CUDA stream.
 *
 * Include after melspec.h. No CUDA header is needed: streams are passed as void * (a
 * cudaStream_t). Every symbol exists in every build; in a build without CUDA, and on a plan that
 * runs on the CPU backend, the calls return MELSPEC_ERROR_BACKEND_UNAVAILABLE.
 *
 * Asynchrony: melspec_execute_device only enqueues work on the plan's stream and returns; nothing
 * waits on the host. Input and output must stay valid until the stream reaches that point. The
 * host-pointer melspec_execute on a CUDA plan is synchronous, as on the CPU.
 */
#ifndef MELSPEC_CUDA_H
#define MELSPEC_CUDA_H

#include "melspec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs the plan's work on cuda_stream (a cudaStream_t; NULL is the legacy default stream). The
 * plan keeps this handle until it is replaced or the plan is destroyed (the one caller's handle
 * the library keeps); it never destroys a caller's stream. */
MELSPEC_API melspec_status melspec_plan_set_cuda_stream(melspec_plan *plan, void *cuda_stream);

/*
 * Like melspec_execute with device_input and device_output in the memory of the plan's device
 * (output_capacity in bytes; the same memory rule). Repeated calls with the same shape and
 * pointers replay a captured CUDA graph (pointers are compared, never dereferenced, between
 * calls). Input samples are not checked for
 * NaN or Inf (that would need a round trip to the host): such samples give NaN output.
 */
MELSPEC_API melspec_status melspec_execute_device(melspec_plan *plan, const float *device_input,
                                                  int64_t n_signals, int64_t n_samples,
                                                  void *device_output, size_t output_capacity);

#ifdef __cplusplus
}
#endif

#endif /* MELSPEC_CUDA_H */
