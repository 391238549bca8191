/* CUDA backend: the ops table, plan state, device selection and the status mapping. The work
 * itself is in cuda_pipeline.c (what runs), cuda_graph.c (how it is launched) and
 * cuda_buffers.c (what it runs in). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"

int melspec_cuda_runtime_device_count(char *message, size_t capacity)
{
    int count = 0;
    const cudaError_t error = cudaGetDeviceCount(&count);
    if (error != cudaSuccess) {
        cudaGetLastError(); /* no driver or no device: zero devices, not an error */
        if (message != NULL && capacity > 0)
            snprintf(message, capacity, "cudaGetDeviceCount: %s (%s)", cudaGetErrorName(error),
                     cudaGetErrorString(error));
        return 0;
    }
    if (count == 0 && message != NULL && capacity > 0)
        snprintf(message, capacity, "cudaGetDeviceCount: 0 devices");
    return count;
}

/* ---- statuses ------------------------------------------------------------------------------- */

/* The errors after which CUDA refuses every further call of the process (the runtime's "sticky"
 * errors: the context is lost; only a new process recovers). */
static int is_sticky(cudaError_t error)
{
    switch (error) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchTimeout:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorLaunchFailure:
    case cudaErrorECCUncorrectable:
    case cudaErrorAssert:
        return 1;
    default:
        return 0;
    }
}

/* Remembers a sticky error on the plan (the first one), so that every later call says so. */
static void note_lost(melspec_plan *plan, cudaError_t error)
{
    cuda_state *s = plan->backend_state;
    if (s != NULL && s->lost == cudaSuccess && is_sticky(error)) s->lost = error;
}

melspec_status melspec_cuda_fail(melspec_plan *plan, cudaError_t error, const char *what)
{
    note_lost(plan, error);
    const melspec_status status =
        error == cudaErrorMemoryAllocation ? MELSPEC_ERROR_OUT_OF_MEMORY : MELSPEC_ERROR_DEVICE;
    return melspec_fail(plan, status, "%s failed: %s (%s)", what, cudaGetErrorName(error),
                        cudaGetErrorString(error));
}

static const char *cufft_result_name(cufftResult result)
{
    switch (result) {
    case CUFFT_SUCCESS: return "CUFFT_SUCCESS";
    case CUFFT_INVALID_PLAN: return "CUFFT_INVALID_PLAN";
    case CUFFT_ALLOC_FAILED: return "CUFFT_ALLOC_FAILED";
    case CUFFT_INVALID_TYPE: return "CUFFT_INVALID_TYPE";
    case CUFFT_INVALID_VALUE: return "CUFFT_INVALID_VALUE";
    case CUFFT_INTERNAL_ERROR: return "CUFFT_INTERNAL_ERROR";
    case CUFFT_EXEC_FAILED: return "CUFFT_EXEC_FAILED";
    case CUFFT_SETUP_FAILED: return "CUFFT_SETUP_FAILED";
    case CUFFT_INVALID_SIZE: return "CUFFT_INVALID_SIZE";
    case CUFFT_UNALIGNED_DATA: return "CUFFT_UNALIGNED_DATA";
    case CUFFT_INVALID_DEVICE: return "CUFFT_INVALID_DEVICE";
    case CUFFT_NO_WORKSPACE: return "CUFFT_NO_WORKSPACE";
    case CUFFT_NOT_IMPLEMENTED: return "CUFFT_NOT_IMPLEMENTED";
    case CUFFT_NOT_SUPPORTED: return "CUFFT_NOT_SUPPORTED";
    default: return "cufftResult not known to this build";
    }
}

melspec_status melspec_cufft_fail(melspec_plan *plan, cufftResult result, const char *what)
{
    note_lost(plan, cudaPeekAtLastError()); /* a library's failure on a lost context */
    const melspec_status status =
        result == CUFFT_ALLOC_FAILED ? MELSPEC_ERROR_OUT_OF_MEMORY : MELSPEC_ERROR_DEVICE;
    return melspec_fail(plan, status, "%s failed: %s (%d)", what, cufft_result_name(result),
                        (int)result);
}

static const char *cublas_status_name(cublasStatus_t status)
{
    switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "cublasStatus_t not known to this build";
    }
}

melspec_status melspec_cublas_fail(melspec_plan *plan, cublasStatus_t status, const char *what)
{
    note_lost(plan, cudaPeekAtLastError());
    const melspec_status mapped =
        status == CUBLAS_STATUS_ALLOC_FAILED ? MELSPEC_ERROR_OUT_OF_MEMORY : MELSPEC_ERROR_DEVICE;
    return melspec_fail(plan, mapped, "%s failed: %s (%d)", what, cublas_status_name(status),
                        (int)status);
}

/* ---- the plan's device is current during each call, the caller's afterwards ----------------- */

typedef struct device_guard {
    int previous;
    int switched;
} device_guard;

static melspec_status enter_device(melspec_plan *plan, device_guard *guard)
{
    const cuda_state *s = plan->backend_state;
    guard->switched = 0;
    if (s->lost != cudaSuccess)
        return melspec_fail(plan, MELSPEC_ERROR_DEVICE,
                            "the CUDA device failed during an earlier call of this plan (%s: %s), "
                            "an error CUDA does not recover from in this process: the plan can "
                            "only be destroyed",
                            cudaGetErrorName(s->lost), cudaGetErrorString(s->lost));
    CUDA_TRY(cudaGetDevice(&guard->previous));
    if (guard->previous != s->device) {
        CUDA_TRY(cudaSetDevice(s->device));
        guard->switched = 1;
    }
    return MELSPEC_OK;
}

static void leave_device(const device_guard *guard)
{
    if (guard->switched) cudaSetDevice(guard->previous);
}

/* ---- creation ------------------------------------------------------------------------------- */

static void derive_stages(melspec_plan *plan)
{
    cuda_state *s = plan->backend_state;
    const melspec_stages *stages = &plan->stages;
    const int64_t n_fft = stages->frames.n_fft;
    s->frame_stride = n_fft + (n_fft & 1);
    /* the stages are the plan's (src/stages.h); the kernels take them as they are */
    s->power = stages->power;
    s->scale = stages->scale;
    s->needs_clip_max = stages->needs_clip_max;
}

static melspec_status upload(melspec_plan *plan, void **device, const void *host, size_t bytes,
                             const char *what)
{
    const cudaError_t error = cudaMalloc(device, bytes > 0 ? bytes : 1);
    if (error != cudaSuccess) {
        *device = NULL;
        return melspec_cuda_fail(plan, error, what);
    }
    const cudaError_t copied = cudaMemcpy(*device, host, bytes, cudaMemcpyHostToDevice);
    if (copied != cudaSuccess) {
        /* found by the emulator's fault injection (issue 17): callers store the block only on
         * success, so a failed copy leaked it */
        cudaFree(*device);
        *device = NULL;
        return melspec_cuda_fail(plan, copied, "cudaMemcpy (upload)");
    }
    return MELSPEC_OK;
}

/* MELSPEC_MEL_PRODUCT_GEMM: the dense filterbank as float (the values the sparse rows hold) and
 * a cuBLAS handle in full float32 (no TF32: its 3e-4 relative error is far outside the tests'
 * 1e-6) with a workspace of its own, so that cuBLAS never allocates inside a capture. */
static melspec_status gemm_create(melspec_plan *plan)
{
    cuda_state *s = plan->backend_state;
    const size_t count = (size_t)(plan->stages.spectrum_bins * plan->n_freq);
    float *dense = melspec_alloc(&plan->allocator, count * sizeof *dense);
    if (dense == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "dense filterbank of %zu floats",
                            count);
    const melspec_sparse_rows *rows = &plan->mel_rows;
    memset(dense, 0, count * sizeof *dense);
    for (int64_t m = 0; m < rows->n_rows; m++)
        memcpy(dense + m * rows->n_columns + rows->first_column[m],
               rows->weights + rows->row_offset[m], (size_t)rows->row_length[m] * sizeof *dense);
    void *device = NULL;
    const melspec_status status = upload(plan, &device, dense, count * sizeof *dense,
                                         "cudaMalloc for the dense filterbank");
    s->d_filterbank = device;
    melspec_free(&plan->allocator, dense);
    FORWARD_IF_ERROR(status);
    CUBLAS_TRY(cublasCreate(&s->cublas));
    CUBLAS_TRY(cublasSetMathMode(s->cublas, CUBLAS_DEFAULT_MATH));
    /* NVIDIA's advice: 32 MiB for Hopper and newer, 4 MiB before */
    struct cudaDeviceProp properties;
    CUDA_TRY(cudaGetDeviceProperties(&properties, s->device));
    const size_t work_bytes = (size_t)(properties.major >= 9 ? 32 : 4) << 20;
    const cudaError_t error = cudaMalloc(&s->d_cublas_work, work_bytes);
    if (error != cudaSuccess) {
        s->d_cublas_work = NULL;
        return melspec_cuda_fail(plan, error, "cudaMalloc for the cuBLAS workspace");
    }
    s->cublas_work_bytes = work_bytes;
    CUBLAS_TRY(cublasSetWorkspace(s->cublas, s->d_cublas_work, work_bytes));
    return MELSPEC_OK;
}

/* The STFT family's constants: the window (float, as the CPU backend multiplies with) and the
 * sparse mel rows, once. */
static melspec_status spectrum_create(melspec_plan *plan)
{
    cuda_state *s = plan->backend_state;
    const size_t n_fft = (size_t)plan->config.n_fft;
    float *window = melspec_alloc(&plan->allocator, n_fft * sizeof *window);
    if (window == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "window of %zu floats", n_fft);
    for (size_t i = 0; i < n_fft; i++) window[i] = (float)plan->window[i];
    const melspec_status status = upload(plan, (void **)&s->d_window, window,
                                         n_fft * sizeof *window, "cudaMalloc for the window");
    melspec_free(&plan->allocator, window);
    FORWARD_IF_ERROR(status);
    if (plan->stages.feature == MELSPEC_FEATURE_MFCC) {
        void *basis = NULL;
        const size_t count = (size_t)(plan->stages.n_bins * plan->stages.spectrum_bins);
        FORWARD_IF_ERROR(upload(plan, &basis, plan->mfcc_basis, count * sizeof(double),
                                "cudaMalloc for the MFCC basis"));
        s->d_mfcc_basis = basis;
    }
    if (!plan->stages.mel) return MELSPEC_OK;

    const melspec_sparse_rows *rows = &plan->mel_rows;
    const size_t n_rows = (size_t)rows->n_rows;
    const size_t n_weights =
        (size_t)(rows->row_offset[n_rows - 1] + rows->row_length[n_rows - 1]);
    void *first = NULL, *length = NULL, *offset = NULL, *weights = NULL;
    /* stored as soon as allocated, so that destroy frees whatever was made */
    FORWARD_IF_ERROR(upload(plan, &first, rows->first_column, n_rows * sizeof(int64_t),
                            "cudaMalloc for the mel rows"));
    s->mel.first_column = first;
    FORWARD_IF_ERROR(upload(plan, &length, rows->row_length, n_rows * sizeof(int64_t),
                            "cudaMalloc for the mel rows"));
    s->mel.row_length = length;
    FORWARD_IF_ERROR(upload(plan, &offset, rows->row_offset, n_rows * sizeof(int64_t),
                            "cudaMalloc for the mel rows"));
    s->mel.row_offset = offset;
    FORWARD_IF_ERROR(upload(plan, &weights, rows->weights, n_weights * sizeof(float),
                            "cudaMalloc for the mel weights"));
    s->mel.weights = weights;
    s->mel.n_rows = rows->n_rows;
    if (plan->stages.mel_product == MELSPEC_MEL_PRODUCT_GEMM) FORWARD_IF_ERROR(gemm_create(plan));
    return MELSPEC_OK;
}

static int64_t spectrum_frames(const melspec_plan *plan, int64_t n_samples)
{
    const int64_t frames = melspec_stages_frame_count(&plan->stages, n_samples);
    return frames > 0 ? frames : 0;
}

/* centred: one sample makes a frame; otherwise n_fft samples */
static int64_t spectrum_shortest_signal(const melspec_plan *plan)
{
    return plan->stages.frames.pad > 0 ? 1 : plan->stages.frames.n_fft;
}

static int64_t spectrum_level_floats(const melspec_plan *plan, int64_t batch, int64_t samples)
{
    (void)plan, (void)batch, (void)samples;
    return 0;
}

/* unscaled values first only when the scaling reads each clip's maximum, or cuBLAS computes the
 * mel product (it writes values, our scaling kernel the caller's output), or a feature stage
 * reads the scaled values */
static int spectrum_needs_values(const melspec_plan *plan)
{
    return plan->stages.needs_clip_max || plan->stages.feature != MELSPEC_FEATURE_NONE ||
           (plan->stages.mel && plan->stages.mel_product == MELSPEC_MEL_PRODUCT_GEMM);
}

const cuda_transform melspec_cuda_spectrum_transform = {
    .create = spectrum_create,
    .frames = spectrum_frames,
    .shortest_signal = spectrum_shortest_signal,
    .level_floats = spectrum_level_floats,
    .uses_fft = 1,
    .needs_values = spectrum_needs_values,
    .enqueue = melspec_cuda_spectrum_enqueue,
};

static melspec_status create_state(melspec_plan *plan)
{
    cuda_state *s = plan->backend_state;
    CUDA_TRY(cudaStreamCreateWithFlags(&s->capture_stream, cudaStreamNonBlocking));
    CUDA_TRY(cudaEventCreateWithFlags(&s->done, cudaEventDisableTiming));
    derive_stages(plan);
    /* the one place the backend looks at the plan's kind */
    s->transform = plan->stages.kind == MELSPEC_PLAN_KIND_CQT ? &melspec_cuda_cqt_transform
                                                              : &melspec_cuda_spectrum_transform;
    FORWARD_IF_ERROR(s->transform->create(plan));
    return melspec_cuda_buffers_create(plan, plan->stages.max_batch, plan->stages.max_samples,
                                       &s->buffers);
}

static void cuda_destroy(melspec_plan *plan)
{
    cuda_state *s = plan->backend_state;
    if (s == NULL) return;
    device_guard guard;
    const int entered = enter_device(plan, &guard) == MELSPEC_OK;
    /* work still queued on the caller's stream uses these buffers: let it finish */
    if (s->done != NULL && s->done_pending) cudaEventSynchronize(s->done);
    melspec_cuda_graphs_clear(s);
    melspec_cuda_buffers_destroy(&s->buffers);
    melspec_cuda_buffers_destroy(&s->stream_buffers);
    melspec_cuda_stream_destroy(s);
    cudaFree(s->d_window);
    cudaFree((void *)s->mel.first_column);
    cudaFree((void *)s->mel.row_length);
    cudaFree((void *)s->mel.row_offset);
    cudaFree((void *)s->mel.weights);
    if (s->cublas != NULL) cublasDestroy(s->cublas);
    cudaFree(s->d_cublas_work);
    cudaFree(s->d_filterbank);
    cudaFree(s->d_mfcc_basis);
    melspec_cuda_cqt_destroy(s);
    if (s->done != NULL) cudaEventDestroy(s->done);
    if (s->capture_stream != NULL) cudaStreamDestroy(s->capture_stream);
    if (entered) leave_device(&guard);
    melspec_free(&plan->allocator, s);
    plan->backend_state = NULL;
}

static melspec_status cuda_create(melspec_plan *plan)
{
    cuda_state *s = melspec_alloc_zeroed(&plan->allocator, 1, sizeof *s);
    if (s == NULL) return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "CUDA plan state");
    plan->backend_state = s;
    s->allocator = &plan->allocator;
    s->device = plan->stages.device_ordinal;
    device_guard guard;
    FORWARD_IF_ERROR(enter_device(plan, &guard));
    /* on failure the front end destroys the plan, and cuda_destroy frees what was made */
    const melspec_status status = create_state(plan);
    leave_device(&guard);
    return status;
}

/* ---- calls ---------------------------------------------------------------------------------- */

static melspec_status check_capacity(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    const cuda_buffers *b = &((cuda_state *)plan->backend_state)->buffers;
    if (n_signals <= b->batch && n_samples <= b->samples) return MELSPEC_OK;
    const int64_t batch = n_signals > b->batch ? n_signals : b->batch;
    const int64_t samples = n_samples > b->samples ? n_samples : b->samples;
    return melspec_fail(plan, MELSPEC_ERROR_EXCEEDS_PLAN,
                        "%lld signal(s) of %lld samples exceed the plan's buffers (%lld signal(s) "
                        "of %lld samples): call melspec_plan_reserve(plan, %lld, %lld) first, or "
                        "create the plan with config.max_batch >= %lld and config.max_samples "
                        ">= %lld",
                        (long long)n_signals, (long long)n_samples, (long long)b->batch,
                        (long long)b->samples, (long long)batch, (long long)samples,
                        (long long)batch, (long long)samples);
}

static melspec_status execute_host(melspec_plan *plan, const float *input, int64_t n_signals,
                                   int64_t n_samples, void *output)
{
    cuda_state *s = plan->backend_state;
    FORWARD_IF_ERROR(check_capacity(plan, n_signals, n_samples));
    size_t input_bytes, output_bytes;
    melspec_cuda_call_size(plan, n_signals, n_samples, &input_bytes, &output_bytes);
    memcpy(s->buffers.h_input, input, input_bytes);
    FORWARD_IF_ERROR(melspec_cuda_run(plan, 1, NULL, n_signals, n_samples, NULL));
    CUDA_TRY(cudaStreamSynchronize(s->stream));
    s->done_pending = 0;
    memcpy(output, s->buffers.h_output, output_bytes);
    return MELSPEC_OK;
}

static melspec_status cuda_execute(melspec_plan *plan, const float *input, int64_t n_signals,
                                   int64_t n_samples, void *output)
{
    device_guard guard;
    FORWARD_IF_ERROR(enter_device(plan, &guard));
    const melspec_status status = execute_host(plan, input, n_signals, n_samples, output);
    leave_device(&guard);
    return status;
}

static melspec_status execute_device(melspec_plan *plan, const float *input, int64_t n_signals,
                                     int64_t n_samples, void *output)
{
    FORWARD_IF_ERROR(check_capacity(plan, n_signals, n_samples));
    const size_t value_bytes = plan->stages.value_bytes;
    if ((uintptr_t)input % sizeof(float) != 0)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                            "device_input = %p is not aligned to 4 bytes (float)",
                            (const void *)input);
    if ((uintptr_t)output % value_bytes != 0)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                            "device_output = %p is not aligned to the %zu bytes of one output "
                            "value",
                            output, value_bytes);
    return melspec_cuda_run(plan, 0, input, n_signals, n_samples, output);
}

static melspec_status cuda_execute_device(melspec_plan *plan, const float *device_input,
                                          int64_t n_signals, int64_t n_samples,
                                          void *device_output)
{
    device_guard guard;
    FORWARD_IF_ERROR(enter_device(plan, &guard));
    const melspec_status status =
        execute_device(plan, device_input, n_signals, n_samples, device_output);
    leave_device(&guard);
    return status;
}

static melspec_status cuda_set_stream(melspec_plan *plan, void *stream)
{
    cuda_state *s = plan->backend_state;
    const cudaStream_t cuda_stream = (cudaStream_t)stream;
    if (cuda_stream != NULL) {
        int stream_device = -1;
        CUDA_TRY(cudaStreamGetDevice(cuda_stream, &stream_device));
        if (stream_device != s->device)
            return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                                "the stream belongs to CUDA device %d, but the plan runs on "
                                "device %d (config.device_ordinal)",
                                stream_device, s->device);
    }
    s->stream = cuda_stream;
    return MELSPEC_OK;
}

static melspec_status reserve(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    cuda_state *s = plan->backend_state;
    const int64_t batch = n_signals > s->buffers.batch ? n_signals : s->buffers.batch;
    const int64_t samples = n_samples > s->buffers.samples ? n_samples : s->buffers.samples;
    if (batch == s->buffers.batch && samples == s->buffers.samples) return MELSPEC_OK;
    cuda_buffers grown;
    /* the old buffers stay in use until the new ones all exist */
    FORWARD_IF_ERROR(melspec_cuda_buffers_create(plan, batch, samples, &grown));
    if (s->done_pending) {
        const cudaError_t error = cudaEventSynchronize(s->done);
        if (error != cudaSuccess) {
            melspec_cuda_buffers_destroy(&grown);
            return melspec_cuda_fail(plan, error, "cudaEventSynchronize (work of earlier calls)");
        }
        s->done_pending = 0;
    }
    melspec_cuda_graphs_clear(s);
    melspec_cuda_buffers_destroy(&s->buffers);
    s->buffers = grown;
    return MELSPEC_OK;
}

static melspec_status cuda_reserve(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    device_guard guard;
    FORWARD_IF_ERROR(enter_device(plan, &guard));
    const melspec_status status = reserve(plan, n_signals, n_samples);
    leave_device(&guard);
    return status;
}

static melspec_status cuda_stream_prepare(melspec_plan *plan, float **raw_frames,
                                          const void **values, int64_t *max_frames)
{
    device_guard guard;
    FORWARD_IF_ERROR(enter_device(plan, &guard));
    const melspec_status status = melspec_cuda_stream_prepare(plan, raw_frames, values,
                                                              max_frames);
    leave_device(&guard);
    return status;
}

static melspec_status cuda_stream_compute(melspec_plan *plan, int64_t n_frames)
{
    device_guard guard;
    FORWARD_IF_ERROR(enter_device(plan, &guard));
    const melspec_status status = melspec_cuda_stream_compute(plan, n_frames);
    leave_device(&guard);
    return status;
}

/* Streams with rings on the device (cuda_stream.c, issue 12c): each op with the device guard. */
#define MELSPEC_CUDA_GUARDED_(call)                                           \
    do {                                                                      \
        device_guard guard;                                                   \
        FORWARD_IF_ERROR(enter_device(plan, &guard));                         \
        const melspec_status status_ = (call);                                \
        leave_device(&guard);                                                 \
        return status_;                                                       \
    } while (0)

static melspec_status cuda_stream_ring_create(melspec_plan *plan, int64_t capacity, void **ring)
{
    MELSPEC_CUDA_GUARDED_(melspec_cuda_stream_ring_create(plan, capacity, ring));
}

static void cuda_stream_ring_destroy(melspec_plan *plan, void *ring)
{
    if (ring == NULL) return;
    device_guard guard;
    const int entered = enter_device(plan, &guard) == MELSPEC_OK;
    melspec_cuda_stream_ring_destroy(plan, ring);
    if (entered) leave_device(&guard);
}

static melspec_status cuda_stream_step_begin(melspec_plan *plan,
                                             const melspec_stream_step_size *size, int may_grow)
{
    MELSPEC_CUDA_GUARDED_(melspec_cuda_stream_step_begin(plan, size, may_grow));
}

static melspec_status cuda_stream_step_add(melspec_plan *plan, const melspec_stream_step *step)
{
    return melspec_cuda_stream_step_add(plan, step); /* host copies only */
}

static melspec_status cuda_stream_step_run(melspec_plan *plan, const void **values)
{
    MELSPEC_CUDA_GUARDED_(melspec_cuda_stream_step_run(plan, values));
}

const melspec_backend_ops melspec_cuda_ops = {
    .name = "CUDA",
    .create = cuda_create,
    .destroy = cuda_destroy,
    .execute = cuda_execute,
    .reserve = cuda_reserve,
    .execute_device = cuda_execute_device,
    .set_stream = cuda_set_stream,
    .stream_prepare = cuda_stream_prepare,
    .stream_compute = cuda_stream_compute,
    .stream_ring_create = cuda_stream_ring_create,
    .stream_ring_destroy = cuda_stream_ring_destroy,
    .stream_step_begin = cuda_stream_step_begin,
    .stream_step_add = cuda_stream_step_add,
    .stream_step_run = cuda_stream_step_run,
};
