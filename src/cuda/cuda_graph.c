/*
 * Running a call: CUDA graph capture and replay.
 *
 * The rule: a plan keeps up to MELSPEC_CUDA_GRAPH_SLOTS executable graphs, each for one call
 * (path, n_signals, n_samples, input pointer, output pointer). A call equal to a kept one
 * replays its graph. Otherwise the call is captured on the plan's private stream into a new
 * graph, which takes an empty slot, else replaces the least recently used graph: patched in place
 * by cudaGraphExecUpdate when that graph is of the same path and shape (only pointers differ),
 * else instantiated anew (also when the update is refused). Host-pointer calls use the plan's own
 * staging and device buffers, so for them only the shape matters. melspec_plan_reserve drops
 * every graph (they point at the old buffers).
 *
 * When the caller's stream is itself being captured (the caller is building a graph of their
 * own), the work is enqueued on it directly and becomes part of the caller's graph.
 *
 * Calls on different streams are ordered: each call records an event at its end, and a call on
 * another stream first waits for it, since calls share the plan's scratch buffers.
 */
#include <string.h>

#include "cuda_internal.h"

void melspec_cuda_graphs_clear(cuda_state *s)
{
    for (int i = 0; i < MELSPEC_CUDA_GRAPH_SLOTS; i++) {
        if (s->graphs[i].exec != NULL) cudaGraphExecDestroy(s->graphs[i].exec);
        memset(&s->graphs[i], 0, sizeof s->graphs[i]);
    }
}

/* One call's work on stream: the transform, and for the host path the staging copies around it
 * (then on the plan's own device buffers; input and output are unused). */
static melspec_status enqueue_call(melspec_plan *plan, cudaStream_t stream, int host_path,
                                   const float *input, int64_t n_signals, int64_t n_samples,
                                   void *output)
{
    const cuda_state *s = plan->backend_state;
    const cuda_buffers *b = &s->buffers;
    if (!host_path)
        return melspec_cuda_enqueue(plan, b, stream, input, n_signals, n_samples, output);
    size_t input_bytes, output_bytes;
    melspec_cuda_call_size(plan, n_signals, n_samples, &input_bytes, &output_bytes);
    CUDA_TRY(cudaMemcpyAsync(b->d_input, b->h_input, input_bytes, cudaMemcpyHostToDevice, stream));
    FORWARD_IF_ERROR(
        melspec_cuda_enqueue(plan, b, stream, b->d_input, n_signals, n_samples, b->d_output));
    CUDA_TRY(cudaMemcpyAsync(b->h_output, b->d_output, output_bytes, cudaMemcpyDeviceToHost,
                             stream));
    return MELSPEC_OK;
}

/* Captures the call into *graph on the private stream. Capture is always ended, so the stream
 * never stays in capture mode after a failure. */
static melspec_status capture_call(melspec_plan *plan, int host_path, const float *input,
                                   int64_t n_signals, int64_t n_samples, void *output,
                                   cudaGraph_t *graph)
{
    cuda_state *s = plan->backend_state;
    *graph = NULL;
    CUDA_TRY(cudaStreamBeginCapture(s->capture_stream, cudaStreamCaptureModeThreadLocal));
    const melspec_status status = enqueue_call(plan, s->capture_stream, host_path, input,
                                               n_signals, n_samples, output);
    const cudaError_t end = cudaStreamEndCapture(s->capture_stream, graph);
    if (status != MELSPEC_OK || end != cudaSuccess) {
        if (*graph != NULL) cudaGraphDestroy(*graph);
        *graph = NULL;
        cudaGetLastError(); /* a failed capture leaves its error pending: it is reported here */
        if (status != MELSPEC_OK) return status;
        return melspec_cuda_fail(plan, end, "cudaStreamEndCapture");
    }
    return MELSPEC_OK;
}

static int same_shape(const cuda_graph_slot *slot, int host_path, int64_t n_signals,
                      int64_t n_samples)
{
    return slot->exec != NULL && slot->host_path == host_path && slot->n_signals == n_signals &&
           slot->n_samples == n_samples;
}

/* The slot a new graph goes into: an empty one, else the least recently used. */
static cuda_graph_slot *slot_for(cuda_state *s)
{
    cuda_graph_slot *oldest = &s->graphs[0];
    for (int i = 0; i < MELSPEC_CUDA_GRAPH_SLOTS; i++) {
        if (s->graphs[i].exec == NULL) return &s->graphs[i];
        if (s->graphs[i].last_use < oldest->last_use) oldest = &s->graphs[i];
    }
    return oldest;
}

static cuda_graph_slot *find_graph(cuda_state *s, int host_path, const float *input,
                                   int64_t n_signals, int64_t n_samples, void *output)
{
    for (int i = 0; i < MELSPEC_CUDA_GRAPH_SLOTS; i++) {
        cuda_graph_slot *slot = &s->graphs[i];
        if (same_shape(slot, host_path, n_signals, n_samples) &&
            (host_path || (slot->input == input && slot->output == output)))
            return slot;
    }
    return NULL;
}

/* Puts graph into slot: patched in place when only the pointers changed, else instantiated. */
static melspec_status install_graph(melspec_plan *plan, cuda_graph_slot *slot, cudaGraph_t graph,
                                    int same_call_shape)
{
    if (slot->exec != NULL && same_call_shape) {
        cudaGraphExecUpdateResultInfo info;
        if (cudaGraphExecUpdate(slot->exec, graph, &info) == cudaSuccess) return MELSPEC_OK;
        cudaGetLastError(); /* a refused update is not an error: instantiate anew */
    }
    if (slot->exec != NULL) cudaGraphExecDestroy(slot->exec);
    slot->exec = NULL;
    const cudaError_t error = cudaGraphInstantiate(&slot->exec, graph, 0);
    if (error == cudaSuccess) return MELSPEC_OK;
    slot->exec = NULL;
    return melspec_cuda_fail(plan, error, "cudaGraphInstantiate");
}

static melspec_status make_graph(melspec_plan *plan, int host_path, const float *input,
                                 int64_t n_signals, int64_t n_samples, void *output,
                                 cuda_graph_slot **made)
{
    cuda_state *s = plan->backend_state;
    cudaGraph_t graph;
    FORWARD_IF_ERROR(
        capture_call(plan, host_path, input, n_signals, n_samples, output, &graph));
    cuda_graph_slot *slot = slot_for(s);
    const melspec_status status =
        install_graph(plan, slot, graph, same_shape(slot, host_path, n_signals, n_samples));
    cudaGraphDestroy(graph);
    if (status != MELSPEC_OK) {
        memset(slot, 0, sizeof *slot);
        return status;
    }
    slot->host_path = host_path;
    slot->n_signals = n_signals;
    slot->n_samples = n_samples;
    slot->input = host_path ? NULL : input;
    slot->output = host_path ? NULL : output;
    *made = slot;
    return MELSPEC_OK;
}

/* A device pointer must be one the plan's device can address as it is: device memory of that
 * device, managed memory, or mapped pinned host memory. Malloc'd host memory is refused here
 * rather than faulting in a kernel (a fault would ruin the CUDA context for the whole process). */
static melspec_status check_device_pointer(melspec_plan *plan, const void *pointer,
                                           const char *name)
{
    const cuda_state *s = plan->backend_state;
    struct cudaPointerAttributes attributes;
    CUDA_TRY(cudaPointerGetAttributes(&attributes, pointer));
    if (attributes.type == cudaMemoryTypeUnregistered || attributes.devicePointer != pointer)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                            "%s = %p is not memory CUDA device %d can address (host memory from "
                            "malloc? pass device memory, or use melspec_execute for host "
                            "buffers)",
                            name, pointer, s->device);
    if (attributes.type == cudaMemoryTypeDevice && attributes.device != s->device)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                            "%s is memory of CUDA device %d, but the plan runs on device %d "
                            "(config.device_ordinal)",
                            name, attributes.device, s->device);
    return MELSPEC_OK;
}

/* Orders this call after the previous one when it ran on another stream. */
static melspec_status wait_for_previous(melspec_plan *plan, cudaStream_t stream)
{
    cuda_state *s = plan->backend_state;
    if (s->done_pending && s->done_stream != stream)
        CUDA_TRY(cudaStreamWaitEvent(stream, s->done, 0));
    return MELSPEC_OK;
}

static melspec_status mark_done(melspec_plan *plan, cudaStream_t stream)
{
    cuda_state *s = plan->backend_state;
    CUDA_TRY(cudaEventRecord(s->done, stream));
    s->done_stream = stream;
    s->done_pending = 1;
    return MELSPEC_OK;
}

melspec_status melspec_cuda_run(melspec_plan *plan, int host_path, const float *input,
                                int64_t n_signals, int64_t n_samples, void *output)
{
    cuda_state *s = plan->backend_state;
    const cudaStream_t stream = s->stream;
    enum cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    CUDA_TRY(cudaStreamIsCapturing(stream, &capture));
    if (capture != cudaStreamCaptureStatusNone) {
        if (host_path)
            return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                                "melspec_execute (host pointers) waits for its results, which "
                                "cannot happen while the plan's stream is being captured: use "
                                "melspec_execute_device");
        /* no pointer check here: only stream work is certain to be legal in every capture
         * mode, and a failed call would invalidate the caller's capture */
        return enqueue_call(plan, stream, 0, input, n_signals, n_samples, output);
    }

    cuda_graph_slot *slot = find_graph(s, host_path, input, n_signals, n_samples, output);
    if (slot == NULL) {
        if (!host_path) {
            /* checked once per new graph: a replay has the pointers of a checked call */
            FORWARD_IF_ERROR(check_device_pointer(plan, input, "device_input"));
            FORWARD_IF_ERROR(check_device_pointer(plan, output, "device_output"));
        }
        FORWARD_IF_ERROR(
            make_graph(plan, host_path, input, n_signals, n_samples, output, &slot));
    }
    slot->last_use = ++s->clock;
    FORWARD_IF_ERROR(wait_for_previous(plan, stream));
    CUDA_TRY(cudaGraphLaunch(slot->exec, stream));
    return mark_done(plan, stream);
}
