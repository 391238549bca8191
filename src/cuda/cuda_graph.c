/*
 * Running a call: CUDA graph capture and replay.
 *
 * The rule: a plan keeps up to MELSPEC_CUDA_GRAPH_SLOTS executable graphs, each for one call
 * shape (path, n_signals, n_samples). A call of a kept shape replays its graph; when its device
 * pointers differ from the ones the graph holds, the graph is re-pointed first by patching the
 * kernel-node parameters that carry them (cudaGraphExecKernelNodeSetParams), not re-captured.
 * A call of a new shape is captured on the plan's private stream into a new graph, which takes
 * an empty slot, else replaces the least recently used one. Host-pointer calls use the plan's own
 * staging and device buffers, so they never need patching. melspec_plan_reserve drops every
 * graph (they point at the old buffers).
 *
 * Why patching is safe and cheap: every caller pointer goes only to our own kernels; cuFFT and
 * cuBLAS only ever see the plan's scratch buffers (the rule in cuda_internal.h), because their
 * nodes are launched by the libraries with parameters we neither know nor may rewrite. After a
 * capture the graph's kernel nodes are searched once for parameter words that point into the
 * call's input or output (cudaFuncGetParamInfo gives each parameter's size); each hit is kept as
 * (node, parameter, byte, which buffer, offset). Re-pointing then costs, per node hit, one
 * parameter read and one SetParams on the host (microseconds in all, against a capture, an
 * instantiation or update and two pointer queries for a re-capture: tens of microseconds), and
 * nothing on the device: the replay is the same graph. Already enqueued launches keep their old
 * parameters (CUDA's rule for SetParams), so patching never races with work in flight. When a
 * capture's pointers cannot all be found (a future step handing a caller pointer to a library, or
 * more hits than a slot holds), the slot is marked unpatchable and a changed pointer falls back to
 * a re-capture and cudaGraphExecUpdate, which is always correct.
 *
 * When the caller's stream is itself being captured (the caller is building a graph of their
 * own), the work is enqueued on it directly and becomes part of the caller's graph.
 *
 * Calls on different streams are ordered: each call records an event at its end, and a call on
 * another stream first waits for it, since calls share the plan's scratch buffers.
 */
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"

/* Parameters of one kernel we can patch, at most, and their bytes (our kernels take ~200). */
#define MAX_KERNEL_PARAMS 64
#define MAX_PARAM_BYTES 4096

static void slot_clear(cuda_graph_slot *slot)
{
    if (slot->exec != NULL) cudaGraphExecDestroy(slot->exec);
    if (slot->graph != NULL) cudaGraphDestroy(slot->graph);
    memset(slot, 0, sizeof *slot);
}

void melspec_cuda_graphs_clear(cuda_state *s)
{
    for (int i = 0; i < MELSPEC_CUDA_GRAPH_SLOTS; i++) slot_clear(&s->graphs[i]);
}

int melspec_cuda_graphs_use_fft(const cuda_state *s, int64_t fft_batch)
{
    for (int i = 0; i < MELSPEC_CUDA_GRAPH_SLOTS; i++)
        if (s->graphs[i].exec != NULL && s->graphs[i].fft_batch == fft_batch) return 1;
    return 0;
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
    s->n_graph_captures++;
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

/* ---- finding and patching the caller's pointers in a graph's kernel nodes -------------------- */

/* Parameters of func (0 when CUDA cannot say: not a kernel of ours, e.g. a library's). */
static uint32_t param_count(const void *func)
{
    size_t offset, size;
    uint32_t n = 0;
    while (n <= MAX_KERNEL_PARAMS && cudaFuncGetParamInfo(func, n, &offset, &size) == cudaSuccess)
        n++;
    cudaGetLastError(); /* the query past the last parameter fails: that is how the end shows */
    return n;
}

/* Where value points into [base, base + bytes): 1 and *offset, else 0. */
static int points_into(uintptr_t value, const void *base, size_t bytes, uint64_t *offset)
{
    const uintptr_t start = (uintptr_t)base;
    if (value < start || value - start >= bytes) return 0;
    *offset = (uint64_t)(value - start);
    return 1;
}

/* Records every kernel-node parameter word of slot->graph that points into the call's input or
 * output; the slot is patchable when both were found and every hit fits. */
static void find_patches(melspec_plan *plan, cuda_graph_slot *slot, const void *input,
                         size_t input_bytes, const void *output, size_t output_bytes)
{
    slot->n_patches = 0;
    slot->patchable = 0;
    size_t n_nodes = 0;
    if (cudaGraphGetNodes(slot->graph, NULL, &n_nodes) != cudaSuccess || n_nodes == 0) {
        cudaGetLastError();
        return;
    }
    cudaGraphNode_t *nodes = melspec_alloc(&plan->allocator, n_nodes * sizeof *nodes);
    if (nodes == NULL) return; /* unpatchable: a changed pointer re-captures */
    int found_input = 0, found_output = 0, overflow = 0;
    if (cudaGraphGetNodes(slot->graph, nodes, &n_nodes) != cudaSuccess) {
        cudaGetLastError();
        n_nodes = 0;
        overflow = 1;
    }
    for (size_t i = 0; i < n_nodes && !overflow; i++) {
        enum cudaGraphNodeType type;
        struct cudaKernelNodeParams params;
        if (cudaGraphNodeGetType(nodes[i], &type) != cudaSuccess ||
            type != cudaGraphNodeTypeKernel ||
            cudaGraphKernelNodeGetParams(nodes[i], &params) != cudaSuccess ||
            params.kernelParams == NULL) {
            cudaGetLastError(); /* not a kernel node we can read: it holds no caller pointer */
            continue;
        }
        const uint32_t n_params = param_count(params.func);
        if (n_params > MAX_KERNEL_PARAMS) overflow = 1;
        size_t total = 0;
        for (uint32_t k = 0; k < n_params && !overflow; k++) {
            size_t offset, size;
            if (cudaFuncGetParamInfo(params.func, k, &offset, &size) != cudaSuccess) {
                cudaGetLastError();
                overflow = 1;
                break;
            }
            total += size;
            if (total > MAX_PARAM_BYTES) overflow = 1;
            /* pointers sit at multiples of 8 within a parameter (a struct holding one is 8-byte
             * aligned); memcpy, since the node's copy of a small parameter may be unaligned */
            for (size_t byte = 0; byte + sizeof(uintptr_t) <= size && !overflow; byte += 8) {
                uintptr_t value;
                memcpy(&value, (const char *)params.kernelParams[k] + byte, sizeof value);
                uint64_t where;
                int is_output;
                if (points_into(value, input, input_bytes, &where)) is_output = 0;
                else if (points_into(value, output, output_bytes, &where)) is_output = 1;
                else continue;
                if (slot->n_patches == MELSPEC_CUDA_GRAPH_PATCHES) {
                    overflow = 1;
                    break;
                }
                cuda_graph_patch *patch = &slot->patches[slot->n_patches++];
                patch->node = nodes[i];
                patch->param = k;
                patch->n_params = n_params;
                patch->byte = (uint32_t)byte;
                patch->output = is_output;
                patch->offset = where;
                found_input |= !is_output;
                found_output |= is_output;
            }
        }
    }
    melspec_free(&plan->allocator, nodes);
    slot->patchable = !overflow && found_input && found_output;
    if (!slot->patchable) slot->n_patches = 0;
}

/* Re-points the slot's exec at input/output, node by node: every parameter copied from the
 * graph's node, the patched words rewritten, then one SetParams. */
static cudaError_t apply_patches(cuda_graph_slot *slot, const void *input, void *output)
{
    unsigned char bytes[MAX_PARAM_BYTES];
    void *values[MAX_KERNEL_PARAMS];
    for (int first = 0; first < slot->n_patches;) {
        const cuda_graph_patch *p = &slot->patches[first];
        int last = first;
        while (last + 1 < slot->n_patches && slot->patches[last + 1].node == p->node) last++;
        struct cudaKernelNodeParams params;
        cudaError_t error = cudaGraphKernelNodeGetParams(p->node, &params);
        if (error != cudaSuccess) return error;
        size_t used = 0;
        for (uint32_t k = 0; k < p->n_params; k++) {
            size_t offset, size;
            error = cudaFuncGetParamInfo(params.func, k, &offset, &size);
            if (error != cudaSuccess) return error;
            if (used + size > sizeof bytes) return cudaErrorInvalidValue;
            memcpy(bytes + used, params.kernelParams[k], size);
            values[k] = bytes + used;
            used += size;
        }
        for (int j = first; j <= last; j++) {
            const cuda_graph_patch *q = &slot->patches[j];
            const uintptr_t base = q->output ? (uintptr_t)output : (uintptr_t)input;
            const uintptr_t value = base + (uintptr_t)q->offset;
            memcpy((unsigned char *)values[q->param] + q->byte, &value, sizeof value);
        }
        params.kernelParams = values;
        error = cudaGraphExecKernelNodeSetParams(slot->exec, p->node, &params);
        if (error != cudaSuccess) return error;
        first = last + 1;
    }
    return cudaSuccess;
}

/* ---- the cache of graphs -------------------------------------------------------------------- */

static cuda_graph_slot *find_shape(cuda_state *s, int host_path, int64_t n_signals,
                                   int64_t n_samples)
{
    for (int i = 0; i < MELSPEC_CUDA_GRAPH_SLOTS; i++) {
        cuda_graph_slot *slot = &s->graphs[i];
        if (slot->exec != NULL && slot->host_path == host_path && slot->n_signals == n_signals &&
            slot->n_samples == n_samples)
            return slot;
    }
    return NULL;
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

/* Captures the call into a slot: `same` (a slot of this shape whose pointers could not be
 * patched) is updated in place when CUDA accepts it, else a new or the least recently used slot
 * gets a fresh instantiation. */
static melspec_status make_graph(melspec_plan *plan, int host_path, const float *input,
                                 int64_t n_signals, int64_t n_samples, void *output,
                                 int64_t fft_batch, cuda_graph_slot *same,
                                 cuda_graph_slot **made)
{
    cuda_state *s = plan->backend_state;
    cudaGraph_t graph;
    FORWARD_IF_ERROR(
        capture_call(plan, host_path, input, n_signals, n_samples, output, &graph));
    cuda_graph_slot candidate;
    memset(&candidate, 0, sizeof candidate);
    candidate.graph = graph;
    candidate.host_path = host_path;
    candidate.n_signals = n_signals;
    candidate.n_samples = n_samples;
    candidate.fft_batch = fft_batch;
    candidate.input = host_path ? NULL : input;
    candidate.output = host_path ? NULL : output;
    if (!host_path) {
        size_t input_bytes, output_bytes;
        melspec_cuda_call_size(plan, n_signals, n_samples, &input_bytes, &output_bytes);
        find_patches(plan, &candidate, input, input_bytes, output, output_bytes);
    }
    if (same != NULL && !candidate.patchable) {
        cudaGraphExecUpdateResultInfo info;
        if (cudaGraphExecUpdate(same->exec, graph, &info) == cudaSuccess) {
            candidate.exec = same->exec;
            same->exec = NULL;
            slot_clear(same); /* the old graph; the exec lives on in the candidate */
            *same = candidate;
            *made = same;
            return MELSPEC_OK;
        }
        cudaGetLastError(); /* a refused update is not an error: instantiate anew */
    }
    const cudaError_t error = cudaGraphInstantiate(&candidate.exec, graph, 0);
    if (error != cudaSuccess) {
        cudaGraphDestroy(graph);
        return melspec_cuda_fail(plan, error, "cudaGraphInstantiate");
    }
    cuda_graph_slot *slot = same != NULL ? same : slot_for(s);
    slot_clear(slot);
    *slot = candidate;
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

/* The exact cuFFT plan of the call's frames, made now (outside any capture) when new. */
static melspec_status prepare_fft(melspec_plan *plan, int64_t n_signals, int64_t n_samples,
                                  int64_t *fft_batch)
{
    cuda_state *s = plan->backend_state;
    *fft_batch = 0;
    if (!s->transform->uses_fft) return MELSPEC_OK;
    cufftHandle unused;
    return melspec_cuda_fft_plan(plan, &s->buffers, n_signals * melspec_cuda_frames(plan, n_samples),
                                 0, &unused, fft_batch);
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

    cuda_graph_slot *slot = find_shape(s, host_path, n_signals, n_samples);
    const int pointers_changed =
        slot != NULL && !host_path && (slot->input != input || slot->output != output);
    if (slot == NULL || pointers_changed) {
        if (!host_path) {
            /* checked once per new pointer: a replay has the pointers of a checked call */
            FORWARD_IF_ERROR(check_device_pointer(plan, input, "device_input"));
            FORWARD_IF_ERROR(check_device_pointer(plan, output, "device_output"));
        }
    }
    if (pointers_changed && slot->patchable) {
        if (apply_patches(slot, input, output) == cudaSuccess) {
            slot->input = input;
            slot->output = output;
            s->n_graph_patches++;
        } else {
            cudaGetLastError(); /* refused: re-capture below, which is always correct */
            slot->patchable = 0;
        }
    }
    if (slot == NULL || (pointers_changed && (slot->input != input || slot->output != output))) {
        int64_t fft_batch;
        FORWARD_IF_ERROR(prepare_fft(plan, n_signals, n_samples, &fft_batch));
        FORWARD_IF_ERROR(make_graph(plan, host_path, input, n_signals, n_samples, output,
                                    fft_batch, slot, &slot));
    }
    slot->last_use = ++s->clock;
    FORWARD_IF_ERROR(wait_for_previous(plan, stream));
    CUDA_TRY(cudaGraphLaunch(slot->exec, stream));
    return mark_done(plan, stream);
}
