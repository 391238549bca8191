// The host side of the CPU emulation of CUDA (see README.md here): the CUDA runtime, graph and
// cuFFT calls that melspec's CUDA backend and its tests use. Everything runs synchronously on the host, except work enqueued on a stream that is
// being captured, which is recorded into the graph. Misuse that real CUDA rejects is rejected
// here too where it is cheap to see (unsafe calls during capture, sync on a capturing stream,
// bad launch configurations, cuFFT without work area, unaligned cuFFT data).
#include <algorithm>
#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <fftw3.h>

#include "emu_device.h"
#include <cufft.h>
#include <cublas_v2.h>

thread_local emu_index blockIdx, threadIdx;
emu_index blockDim, gridDim;

// A node of a graph: a kernel launch (its parameters readable and replaceable, as on a GPU), or
// any other work (copies, memsets, cuFFT, host functions) as an opaque operation.
struct emu_node {
    bool is_kernel = false;
    emu_kernel_launch kernel;
    std::function<void()> op;
    void run() const { if (is_kernel) kernel.run(kernel); else op(); }
};
struct CUstream_st {
    bool capturing = false;
    bool invalidated = false;
    bool non_blocking = false;                       // cudaStreamNonBlocking
    cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal; // of the capture in progress
    std::vector<emu_node> recorded;
};
struct CUgraph_st;
struct CUgraphNode_st {
    CUgraph_st *graph;
    size_t index;
    std::vector<void *> kernel_params; // what cudaGraphKernelNodeGetParams hands out
};
struct CUgraph_st {
    std::vector<emu_node> nodes;
    std::vector<std::unique_ptr<CUgraphNode_st>> handles;
};
struct CUgraphExec_st {
    std::vector<emu_node> nodes;
    const CUgraph_st *source; // the graph it was instantiated from (node handles refer to it)
};
struct CUevent_st { int dummy; };
static std::set<const CUgraph_st *> live_graphs;
// cudaFuncGetParamInfo: the parameter layout of every kernel launched so far
static std::map<const void *, std::vector<std::pair<size_t, size_t>>> kernel_layouts;

// CUDA's last error is per host thread
static thread_local cudaError_t last_error = cudaSuccess;

// One lock around the whole emulation: its state (allocations, handles, graphs, the launch
// geometry) is shared, and host threads may call it at once (test_threads on the CUDA backend).
// Recursive: work enqueued by one call runs inside it and may call the runtime again.
static std::recursive_mutex emu_lock;
#define EMU_LOCKED std::lock_guard<std::recursive_mutex> emu_guard_(emu_lock)

// ---- fault injection (tests/gpu/test_cuda_faults.c) -------------------------------------------
// emu_fault_arm(kind, n) makes the n-th call of that kind from now fail: allocations with
// cudaErrorMemoryAllocation / CUFFT_ALLOC_FAILED / CUBLAS_STATUS_ALLOC_FAILED; a kernel launch or
// a copy with a sticky error, after which every call fails with it (as on a GPU whose context
// is lost) until emu_fault_clear().
enum emu_fault_kind {
    EMU_FAULT_MALLOC = 0,          // cudaMalloc
    EMU_FAULT_HOST_ALLOC = 1,      // cudaMallocHost, cudaHostAlloc
    EMU_FAULT_FFT_PLAN = 2,        // cufftMakePlanMany64 (the backend's cufftPlan)
    EMU_FAULT_BLAS_CREATE = 3,     // cublasCreate
    EMU_FAULT_GRAPH_INSTANTIATE = 4,
    EMU_FAULT_KERNEL_LOST = 5,     // a kernel run (direct or in a graph): cudaErrorLaunchFailure
    EMU_FAULT_COPY_LOST = 6,       // cudaMemcpy / cudaMemcpyAsync: cudaErrorECCUncorrectable
    EMU_N_FAULTS = 7
};
static long fault_calls[EMU_N_FAULTS], fault_at[EMU_N_FAULTS];
static cudaError_t sticky = cudaSuccess;
static long live_streams = 0, live_events = 0, live_execs = 0, live_blas = 0;

static bool fault_hit(int kind)
{
    fault_calls[kind]++;
    return fault_at[kind] != 0 && fault_calls[kind] == fault_at[kind];
}
// Captures in progress that restrict this thread's unsafe calls (its own in ThreadLocal or Global
// mode) and every thread's (Global mode), as CUDA's capture modes do; and captures on streams
// that synchronize with the legacy default stream.
static thread_local int captures_here = 0;
static int captures_global = 0, captures_blocking = 0;
static std::map<uintptr_t, std::pair<size_t, int>> allocations; // start -> (bytes, 1 device / 2 pinned)
static long n_launches = 0, n_graph_launches = 0, n_captures = 0, n_instantiations = 0,
    n_exec_updates = 0, n_kernel_node_updates = 0, n_fft_runs = 0, n_fft_frames = 0;

static cudaError_t fail(cudaError_t e) { last_error = e; return e; }

static bool unsafe_during_capture()
{
    if (captures_here > 0 || captures_global > 0) {
        fprintf(stderr, "emu: unsafe CUDA call during stream capture\n");
        return true;
    }
    return false;
}

void emu_launch_error(cudaError_t error) { last_error = error; }

void emu_enqueue(cudaStream_t stream, std::function<void()> op)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return; // a lost device runs nothing
    if (stream != nullptr && stream->capturing) {
        emu_node node;
        node.op = std::move(op);
        stream->recorded.push_back(std::move(node));
        return;
    }
    op();
}

void emu_enqueue_kernel(cudaStream_t stream, emu_kernel_launch launch)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) { last_error = sticky; return; }
    auto &layout = kernel_layouts[launch.func];
    if (layout.empty())
        for (size_t i = 0; i < launch.offsets.size(); i++)
            layout.push_back({launch.offsets[i], launch.sizes[i]});
    if (stream != nullptr && stream->capturing) {
        emu_node node;
        node.is_kernel = true;
        node.kernel = std::move(launch);
        stream->recorded.push_back(std::move(node));
        return;
    }
    launch.run(launch);
}

static std::barrier<> *block_barrier = nullptr;
static thread_local bool in_threaded_block = false;

void __syncthreads()
{
    if (!in_threaded_block) {
        fprintf(stderr, "emu: __syncthreads in a kernel launched without emu_launch_sync\n");
        abort();
    }
    block_barrier->arrive_and_wait();
}

void emu_run_grid(unsigned grid, unsigned block, bool threaded, const std::function<void()> &body)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return;
    if (fault_hit(EMU_FAULT_KERNEL_LOST)) { sticky = last_error = cudaErrorLaunchFailure; return; }
    n_launches++;
    gridDim = {grid, 1, 1};
    blockDim = {block, 1, 1};
    for (unsigned b = 0; b < grid; b++) {
        if (!threaded) {
            for (unsigned t = 0; t < block; t++) {
                blockIdx = {b, 0, 0};
                threadIdx = {t, 0, 0};
                body();
            }
            continue;
        }
        std::barrier<> barrier((std::ptrdiff_t)block);
        block_barrier = &barrier;
        std::vector<std::thread> threads;
        for (unsigned t = 0; t < block; t++)
            threads.emplace_back([&, b, t]() {
                blockIdx = {b, 0, 0};
                threadIdx = {t, 0, 0}; // blockDim is shared, set above (a write here raced)
                in_threaded_block = true;
                body();
            });
        for (auto &th : threads) th.join();
        block_barrier = nullptr;
    }
}

// ---- device, errors ---------------------------------------------------------------------------

extern "C" {

cudaError_t cudaGetDeviceCount(int *count)
{
    EMU_LOCKED;
    const char *none = getenv("EMU_NO_DEVICE");
    *count = (none && none[0] == '1') ? 0 : 1;
    if (*count == 0) return fail(cudaErrorNoDevice);
    return cudaSuccess;
}
cudaError_t cudaGetDevice(int *device) { EMU_LOCKED; if (sticky != cudaSuccess) return fail(sticky); *device = 0; return cudaSuccess; }
cudaError_t cudaSetDevice(int device) { EMU_LOCKED; if (sticky != cudaSuccess) return fail(sticky); return device == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice); }
cudaError_t cudaGetLastError(void) { EMU_LOCKED; if (sticky != cudaSuccess) return sticky; cudaError_t e = last_error; last_error = cudaSuccess; return e; }
cudaError_t cudaPeekAtLastError(void) { EMU_LOCKED; return sticky != cudaSuccess ? sticky : last_error; }
const char *cudaGetErrorName(cudaError_t e) { EMU_LOCKED; static char b[64]; snprintf(b, sizeof b, "cudaError%d", (int)e); return b; }
const char *cudaGetErrorString(cudaError_t e) { EMU_LOCKED; return e == cudaSuccess ? "no error" : "emulated error"; }
cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int device)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "CPU emulation of a CUDA device %d", device);
    p->major = 9;
    p->minor = 0;
    return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize(void) { EMU_LOCKED; if (sticky != cudaSuccess) return fail(sticky); return unsafe_during_capture() ? fail(cudaErrorStreamCaptureUnsupported) : cudaSuccess; }

// ---- memory --------------------------------------------------------------------------------------

static void *track(size_t bytes, int kind)
{
    // cudaMalloc and cudaHostAlloc return 256-byte aligned memory (cuBLAS checks its workspace)
    const size_t rounded = (bytes + 255) / 256 * 256;
    void *p = aligned_alloc(256, rounded ? rounded : 256);
    memset(p, 0xFF, bytes); // NaN everywhere: reads of never-written memory show up as NaN
    allocations[(uintptr_t)p] = {bytes, kind};
    return p;
}
static bool untrack(void *p, int kind)
{
    auto it = allocations.find((uintptr_t)p);
    if (it == allocations.end() || it->second.second != kind) return false;
    allocations.erase(it);
    free(p);
    return true;
}
cudaError_t cudaMalloc(void **p, size_t bytes)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    if (unsafe_during_capture()) return fail(cudaErrorStreamCaptureUnsupported);
    if (fault_hit(EMU_FAULT_MALLOC)) { *p = nullptr; return fail(cudaErrorMemoryAllocation); }
    *p = track(bytes, 1);
    return cudaSuccess;
}
cudaError_t cudaFree(void *p)
{
    EMU_LOCKED;
    if (p == nullptr) return cudaSuccess;
    if (!untrack(p, 1)) return fail(cudaErrorInvalidValue);
    return sticky != cudaSuccess ? fail(sticky) : cudaSuccess;
}
static cudaError_t host_alloc(void **p, size_t bytes)
{
    if (sticky != cudaSuccess) return fail(sticky);
    if (fault_hit(EMU_FAULT_HOST_ALLOC)) { *p = nullptr; return fail(cudaErrorMemoryAllocation); }
    *p = track(bytes, 2);
    return cudaSuccess;
}
cudaError_t cudaHostAlloc(void **p, size_t bytes, unsigned int) { EMU_LOCKED; return host_alloc(p, bytes); }
cudaError_t cudaMallocHost(void **p, size_t bytes) { EMU_LOCKED; return host_alloc(p, bytes); }
cudaError_t cudaFreeHost(void *p)
{
    EMU_LOCKED;
    if (p == nullptr) return cudaSuccess;
    if (!untrack(p, 2)) return fail(cudaErrorInvalidValue);
    return sticky != cudaSuccess ? fail(sticky) : cudaSuccess;
}
cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes *a, const void *p)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    memset(a, 0, sizeof *a);
    auto it = allocations.upper_bound((uintptr_t)p);
    if (it != allocations.begin()) {
        --it;
        if ((uintptr_t)p < it->first + (it->second.first ? it->second.first : 1)) {
            a->type = it->second.second == 1 ? cudaMemoryTypeDevice : cudaMemoryTypeHost;
            a->device = 0;
            a->devicePointer = (void *)p;
            a->hostPointer = it->second.second == 2 ? (void *)p : nullptr;
            return cudaSuccess;
        }
    }
    a->type = cudaMemoryTypeUnregistered;
    return cudaSuccess;
}
cudaError_t cudaMemcpy(void *d, const void *s, size_t n, enum cudaMemcpyKind)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    if (unsafe_during_capture()) return fail(cudaErrorStreamCaptureUnsupported);
    if (fault_hit(EMU_FAULT_COPY_LOST)) return fail(sticky = cudaErrorECCUncorrectable);
    memcpy(d, s, n);
    return cudaSuccess;
}
cudaError_t cudaMemset(void *d, int v, size_t n)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    if (unsafe_during_capture()) return fail(cudaErrorStreamCaptureUnsupported);
    memset(d, v, n);
    return cudaSuccess;
}
static void copy_bytes(void *d, const void *s, size_t n)
{
    // byte loop, instrumented by AddressSanitizer (plain memcpy would be too, but be explicit)
    unsigned char *dd = (unsigned char *)d;
    const unsigned char *ss = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) dd[i] = ss[i];
}
cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, enum cudaMemcpyKind, cudaStream_t st)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    // the copy fails when it runs (at once, or when its graph is replayed), reported later, as
    // an asynchronous copy's error is on a GPU
    emu_enqueue(st, [=]() {
        if (fault_hit(EMU_FAULT_COPY_LOST)) { sticky = cudaErrorECCUncorrectable; return; }
        copy_bytes(d, s, n);
    });
    return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t st)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    emu_enqueue(st, [=]() { memset(d, v, n); });
    return cudaSuccess;
}

// ---- streams, events ----------------------------------------------------------------------------

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned int flags)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    *s = new CUstream_st;
    (*s)->non_blocking = (flags & cudaStreamNonBlocking) != 0;
    live_streams++;
    return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t *s) { EMU_LOCKED; if (sticky != cudaSuccess) return fail(sticky); *s = new CUstream_st; live_streams++; return cudaSuccess; }
cudaError_t cudaStreamDestroy(cudaStream_t s) { EMU_LOCKED; if (!s) return fail(cudaErrorInvalidResourceHandle); delete s; live_streams--; return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t s)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    if (s && s->capturing) { s->invalidated = true; return fail(cudaErrorStreamCaptureUnsupported); }
    if (!s && captures_blocking) return fail(cudaErrorStreamCaptureImplicit);
    return cudaSuccess;
}
cudaError_t cudaStreamGetDevice(cudaStream_t, int *device) { EMU_LOCKED; if (sticky != cudaSuccess) return fail(sticky); *device = 0; return cudaSuccess; }
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned int) { EMU_LOCKED; if (sticky != cudaSuccess) return fail(sticky); *e = new CUevent_st; live_events++; return cudaSuccess; }
cudaError_t cudaEventCreate(cudaEvent_t *e) { EMU_LOCKED; if (sticky != cudaSuccess) return fail(sticky); *e = new CUevent_st; live_events++; return cudaSuccess; }
cudaError_t cudaEventDestroy(cudaEvent_t e) { EMU_LOCKED; if (e) live_events--; delete e; return cudaSuccess; }
cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { EMU_LOCKED; if (sticky != cudaSuccess) return fail(sticky); return cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t) { EMU_LOCKED; if (sticky != cudaSuccess) return fail(sticky); return unsafe_during_capture() ? fail(cudaErrorStreamCaptureUnsupported) : cudaSuccess; }
// work has already run when it is enqueued, so every recorded event is complete
cudaError_t cudaEventQuery(cudaEvent_t) { EMU_LOCKED; if (sticky != cudaSuccess) return fail(sticky); return unsafe_during_capture() ? fail(cudaErrorStreamCaptureUnsupported) : cudaSuccess; }
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t, cudaEvent_t) { EMU_LOCKED; if (sticky != cudaSuccess) return fail(sticky); *ms = 1.0f; return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned int) { EMU_LOCKED; if (sticky != cudaSuccess) return fail(sticky); return cudaSuccess; }
cudaError_t cudaLaunchHostFunc(cudaStream_t s, cudaHostFn_t fn, void *data)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    emu_enqueue(s, [=]() { fn(data); });
    return cudaSuccess;
}

// ---- capture and graphs ------------------------------------------------------------------------

static void count_capture(cudaStream_t s, int delta)
{
    if (s->mode == cudaStreamCaptureModeGlobal) captures_global += delta;
    else if (s->mode == cudaStreamCaptureModeThreadLocal) captures_here += delta;
    if (!s->non_blocking) captures_blocking += delta;
}
cudaError_t cudaStreamBeginCapture(cudaStream_t s, enum cudaStreamCaptureMode mode)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    if (s == nullptr || s->capturing) return fail(cudaErrorIllegalState);
    s->capturing = true;
    s->invalidated = false;
    s->recorded.clear();
    s->mode = mode;
    count_capture(s, 1);
    n_captures++;
    return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g)
{
    EMU_LOCKED;
    if (s == nullptr || !s->capturing) return fail(sticky != cudaSuccess ? sticky : cudaErrorIllegalState);
    s->capturing = false;
    count_capture(s, -1);
    if (sticky != cudaSuccess) { s->recorded.clear(); *g = nullptr; return fail(sticky); } // ended, no graph
    if (s->invalidated) { *g = nullptr; return fail(cudaErrorStreamCaptureInvalidated); }
    CUgraph_st *graph = new CUgraph_st;
    graph->nodes = std::move(s->recorded);
    s->recorded.clear();
    for (size_t i = 0; i < graph->nodes.size(); i++)
        graph->handles.push_back(std::unique_ptr<CUgraphNode_st>(new CUgraphNode_st{graph, i, {}}));
    live_graphs.insert(graph);
    *g = graph;
    return cudaSuccess;
}
cudaError_t cudaStreamIsCapturing(cudaStream_t s, enum cudaStreamCaptureStatus *status)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    *status = (s && s->capturing) ? cudaStreamCaptureStatusActive : cudaStreamCaptureStatusNone;
    return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t *e, cudaGraph_t g, unsigned long long)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    if (unsafe_during_capture()) return fail(cudaErrorStreamCaptureUnsupported);
    if (g == nullptr || !live_graphs.count(g)) return fail(cudaErrorInvalidValue);
    if (fault_hit(EMU_FAULT_GRAPH_INSTANTIATE)) { *e = nullptr; return fail(cudaErrorMemoryAllocation); }
    n_instantiations++;
    *e = new CUgraphExec_st{g->nodes, g};
    live_execs++;
    return cudaSuccess;
}
// Real CUDA refuses an update that changes the topology or a kernel node's function.
cudaError_t cudaGraphExecUpdate(cudaGraphExec_t e, cudaGraph_t g, cudaGraphExecUpdateResultInfo *info)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    memset(info, 0, sizeof *info);
    if (e->nodes.size() != g->nodes.size()) {
        info->result = cudaGraphExecUpdateErrorTopologyChanged;
        return fail(cudaErrorGraphExecUpdateFailure);
    }
    for (size_t i = 0; i < g->nodes.size(); i++)
        if (e->nodes[i].is_kernel != g->nodes[i].is_kernel ||
            (g->nodes[i].is_kernel && e->nodes[i].kernel.func != g->nodes[i].kernel.func)) {
            info->result = cudaGraphExecUpdateErrorFunctionChanged;
            return fail(cudaErrorGraphExecUpdateFailure);
        }
    n_exec_updates++;
    e->nodes = g->nodes;
    e->source = g;
    return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    n_graph_launches++;
    std::vector<emu_node> nodes = e->nodes; // the parameters as of this launch
    emu_enqueue(s, [nodes]() { for (auto &node : nodes) node.run(); });
    return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) { EMU_LOCKED; if (e) live_execs--; delete e; return cudaSuccess; }
cudaError_t cudaGraphDestroy(cudaGraph_t g)
{
    EMU_LOCKED;
    if (g == nullptr || !live_graphs.erase(g)) return fail(cudaErrorInvalidValue);
    delete g;
    return cudaSuccess;
}
cudaError_t cudaGraphGetNodes(cudaGraph_t g, cudaGraphNode_t *nodes, size_t *count)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    if (g == nullptr || !live_graphs.count(g) || count == nullptr) return fail(cudaErrorInvalidValue);
    if (nodes == nullptr) { *count = g->handles.size(); return cudaSuccess; }
    const size_t n = std::min(*count, g->handles.size());
    for (size_t i = 0; i < n; i++) nodes[i] = g->handles[i].get();
    *count = n;
    return cudaSuccess;
}
static const emu_node *graph_node(cudaGraphNode_t node)
{
    if (node == nullptr || !live_graphs.count(node->graph)) return nullptr;
    return &node->graph->nodes[node->index];
}
cudaError_t cudaGraphNodeGetType(cudaGraphNode_t node, enum cudaGraphNodeType *type)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    const emu_node *n = graph_node(node);
    if (n == nullptr) return fail(cudaErrorInvalidValue);
    // opaque work is reported as a memcpy node: anything but a kernel
    *type = n->is_kernel ? cudaGraphNodeTypeKernel : cudaGraphNodeTypeMemcpy;
    return cudaSuccess;
}
cudaError_t cudaGraphKernelNodeGetParams(cudaGraphNode_t node, struct cudaKernelNodeParams *p)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    const emu_node *n = graph_node(node);
    if (n == nullptr || !n->is_kernel) return fail(cudaErrorInvalidValue);
    *p = cudaKernelNodeParams{};
    const emu_kernel_launch &k = n->kernel;
    p->func = const_cast<void *>(k.func);
    p->gridDim = dim3(k.grid, 1, 1);
    p->blockDim = dim3(k.block, 1, 1);
    node->kernel_params.clear(); // owned by the node, like the driver's copy
    for (size_t i = 0; i < k.offsets.size(); i++)
        node->kernel_params.push_back((void *)(k.args.data() + k.offsets[i]));
    p->kernelParams = node->kernel_params.data();
    return cudaSuccess;
}
cudaError_t cudaFuncGetParamInfo(const void *func, size_t index, size_t *offset, size_t *size)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    auto it = kernel_layouts.find(func);
    if (it == kernel_layouts.end()) return fail(cudaErrorInvalidDeviceFunction);
    if (index >= it->second.size()) return fail(cudaErrorInvalidValue);
    *offset = it->second[index].first;
    *size = it->second[index].second;
    return cudaSuccess;
}
// As on a GPU: only for a kernel node of the graph the exec was instantiated from, with the same
// function (the argument values and the geometry may change); later launches see the change.
cudaError_t cudaGraphExecKernelNodeSetParams(cudaGraphExec_t e, cudaGraphNode_t node,
                                             const struct cudaKernelNodeParams *p)
{
    EMU_LOCKED;
    if (sticky != cudaSuccess) return fail(sticky);
    if (e == nullptr || p == nullptr || graph_node(node) == nullptr || node->graph != e->source)
        return fail(cudaErrorInvalidValue);
    emu_node &target = e->nodes[node->index];
    if (!target.is_kernel || p->func != target.kernel.func || p->kernelParams == nullptr ||
        p->extra != nullptr || p->gridDim.x == 0 || p->gridDim.y != 1 || p->gridDim.z != 1 ||
        p->blockDim.x == 0 || p->blockDim.x > 1024 || p->blockDim.y != 1 || p->blockDim.z != 1)
        return fail(cudaErrorInvalidValue);
    emu_kernel_launch &k = target.kernel;
    for (size_t i = 0; i < k.offsets.size(); i++)
        memcpy(k.args.data() + k.offsets[i], p->kernelParams[i], k.sizes[i]);
    k.grid = p->gridDim.x;
    k.block = p->blockDim.x;
    n_kernel_node_updates++;
    return cudaSuccess;
}

// ---- cuFFT (R2C on FFTW, an FFT independent of the CPU backend's KissFFT) ------------------------

struct emu_fft {
    bool auto_allocate = true, made = false;
    long long n = 0, idist = 0, odist = 0, batch = 0;
    size_t work_bytes = 0;
    void *work = nullptr;
    cudaStream_t stream = nullptr;
};
static std::map<int, emu_fft> ffts;
static int next_fft = 1;

cufftResult cufftCreate(cufftHandle *h) { EMU_LOCKED; *h = next_fft++; ffts[*h] = emu_fft{}; return CUFFT_SUCCESS; }
cufftResult cufftSetAutoAllocation(cufftHandle h, int a) { EMU_LOCKED; ffts.at(h).auto_allocate = a != 0; return CUFFT_SUCCESS; }
cufftResult cufftMakePlanMany64(cufftHandle h, int rank, long long *n, long long *inembed,
                                long long istride, long long idist, long long *onembed,
                                long long ostride, long long odist, cufftType type,
                                long long batch, size_t *work)
{
    EMU_LOCKED;
    emu_fft &f = ffts.at(h);
    if (sticky != cudaSuccess) return CUFFT_INTERNAL_ERROR;
    if (fault_hit(EMU_FAULT_FFT_PLAN)) return CUFFT_ALLOC_FAILED;
    if (rank != 1 || type != CUFFT_R2C || batch < 1 || n[0] < 1) return CUFFT_INVALID_VALUE;
    if ((inembed == nullptr) != (onembed == nullptr)) return CUFFT_INVALID_VALUE;
    f.n = n[0];
    if (inembed == nullptr) { f.idist = n[0]; f.odist = n[0] / 2 + 1; }
    else {
        if (istride != 1 || ostride != 1 || idist < n[0] || odist < n[0] / 2 + 1) return CUFFT_INVALID_VALUE;
        f.idist = idist;
        f.odist = odist;
    }
    f.batch = batch;
    f.work_bytes = (size_t)(n[0] * 16 + batch * 8); // something, so that the work area is checked
    f.made = true;
    *work = f.work_bytes;
    return CUFFT_SUCCESS;
}
cufftResult cufftSetWorkArea(cufftHandle h, void *w) { EMU_LOCKED; ffts.at(h).work = w; return CUFFT_SUCCESS; }
cufftResult cufftSetStream(cufftHandle h, cudaStream_t s) { EMU_LOCKED; ffts.at(h).stream = s; return CUFFT_SUCCESS; }
cufftResult cufftDestroy(cufftHandle h) { EMU_LOCKED; return ffts.erase(h) ? CUFFT_SUCCESS : CUFFT_INVALID_PLAN; }

static std::mutex fftw_lock;
cufftResult cufftExecR2C(cufftHandle h, cufftReal *in, cufftComplex *out)
{
    EMU_LOCKED;
    emu_fft f = ffts.at(h);
    if (sticky != cudaSuccess) return CUFFT_EXEC_FAILED;
    if (!f.made) return CUFFT_INVALID_PLAN;
    if (!f.auto_allocate) {
        struct cudaPointerAttributes a;
        cudaPointerGetAttributes(&a, f.work);
        if (f.work == nullptr || a.type != cudaMemoryTypeDevice) return CUFFT_NO_WORKSPACE;
        unsigned char *w = (unsigned char *)f.work; // touch the whole work area (bounds check)
        for (size_t i = 0; i < f.work_bytes; i++) w[i] = (unsigned char)i;
    }
    if ((uintptr_t)in % 4 || (uintptr_t)out % 8) return CUFFT_UNALIGNED_DATA;
    emu_enqueue(f.stream, [f, in, out]() {
        n_fft_runs++;
        n_fft_frames += f.batch;
        const long long n = f.n, n_out = n / 2 + 1;
        float *tin = fftwf_alloc_real((size_t)n);
        fftwf_complex *tout = fftwf_alloc_complex((size_t)n_out);
        fftwf_plan p;
        {
            std::lock_guard<std::mutex> guard(fftw_lock);
            p = fftwf_plan_dft_r2c_1d((int)n, tin, tout, FFTW_ESTIMATE);
        }
        for (long long b = 0; b < f.batch; b++) {
            for (long long i = 0; i < n; i++) tin[i] = in[b * f.idist + i];
            fftwf_execute(p);
            for (long long k = 0; k < n_out; k++) {
                out[b * f.odist + k].x = tout[k][0];
                out[b * f.odist + k].y = tout[k][1];
            }
        }
        {
            std::lock_guard<std::mutex> guard(fftw_lock);
            fftwf_destroy_plan(p);
        }
        fftwf_free(tin);
        fftwf_free(tout);
    });
    return CUFFT_SUCCESS;
}

// ---- cuBLAS (SGEMM, column-major as cuBLAS is; float accumulation like its float32 kernels) ----

struct cublasContext {
    cudaStream_t stream = nullptr;
    cublasMath_t math = CUBLAS_DEFAULT_MATH;
    void *workspace = nullptr;
    size_t workspace_bytes = 0;
};

cublasStatus_t cublasCreate_v2(cublasHandle_t *handle)
{
    EMU_LOCKED;
    if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    if (unsafe_during_capture()) return CUBLAS_STATUS_NOT_INITIALIZED; // it allocates
    if (sticky != cudaSuccess) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (fault_hit(EMU_FAULT_BLAS_CREATE)) { *handle = nullptr; return CUBLAS_STATUS_ALLOC_FAILED; }
    *handle = new cublasContext;
    live_blas++;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy_v2(cublasHandle_t handle)
{
    EMU_LOCKED;
    if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
    live_blas--;
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream)
{
    EMU_LOCKED;
    if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->stream = stream;
    // as documented by cuBLAS: setting the stream resets the workspace to the default pool
    handle->workspace = nullptr;
    handle->workspace_bytes = 0;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)
{
    EMU_LOCKED;
    if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->math = mode;
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void *workspace, size_t bytes)
{
    EMU_LOCKED;
    if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
    struct cudaPointerAttributes a;
    cudaPointerGetAttributes(&a, workspace);
    if (bytes > 0 && (workspace == nullptr || a.type != cudaMemoryTypeDevice ||
                      (uintptr_t)workspace % 256 != 0))
        return CUBLAS_STATUS_INVALID_VALUE;
    handle->workspace = workspace;
    handle->workspace_bytes = bytes;
    return CUBLAS_STATUS_SUCCESS;
}

// C = alpha op(A) op(B) + beta C for `batch` matrices (column-major, strides in elements),
// with cuBLAS's argument checks. beta == 0 means C is not read (cuBLAS's rule: NaN in C stays out).
static cublasStatus_t sgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                            int n, int k, const float *alpha, const float *A, int lda,
                            long long stride_a, const float *B, int ldb, long long stride_b,
                            const float *beta, float *C, int ldc, long long stride_c, int batch)
{
    if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (sticky != cudaSuccess) return CUBLAS_STATUS_EXECUTION_FAILED;
    const bool a_t = ta == CUBLAS_OP_T, b_t = tb == CUBLAS_OP_T;
    if ((ta != CUBLAS_OP_N && !a_t) || (tb != CUBLAS_OP_N && !b_t)) return CUBLAS_STATUS_INVALID_VALUE;
    if (m < 0 || n < 0 || k < 0 || batch < 0 || ldc < std::max(1, m) ||
        lda < std::max(1, a_t ? k : m) || ldb < std::max(1, b_t ? n : k))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (h->math != CUBLAS_DEFAULT_MATH && h->math != CUBLAS_PEDANTIC_MATH &&
        h->math != (cublasMath_t)(CUBLAS_DEFAULT_MATH | CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION))
        return CUBLAS_STATUS_NOT_SUPPORTED; // this emulation has no TF32: refuse, never pretend
    // Stricter than cuBLAS, on purpose: without a workspace of the caller's, cuBLAS may take one
    // from its pool, an allocation a capture must not see; here that is refused.
    if (h->stream != nullptr && h->stream->capturing && h->workspace == nullptr)
        return CUBLAS_STATUS_NOT_SUPPORTED;
    const float a = *alpha, b = *beta; // host pointer mode: read at the call, as cuBLAS does
    emu_enqueue(h->stream, [=]() {
        for (int p = 0; p < batch; p++) {
            const float *Ap = A + p * stride_a, *Bp = B + p * stride_b;
            float *Cp = C + p * stride_c;
            for (int j = 0; j < n; j++)
                for (int i = 0; i < m; i++) {
                    float sum = 0.0f;
                    for (int l = 0; l < k; l++) {
                        const float x = a_t ? Ap[l + (long long)i * lda] : Ap[i + (long long)l * lda];
                        const float y = b_t ? Bp[j + (long long)l * ldb] : Bp[l + (long long)j * ldb];
                        sum += x * y;
                    }
                    float &c = Cp[i + (long long)j * ldc];
                    c = b == 0.0f ? a * sum : a * sum + b * c;
                }
        }
    });
    return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSgemm_v2(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
                              int n, int k, const float *alpha, const float *A, int lda,
                              const float *B, int ldb, const float *beta, float *C, int ldc)
{
    EMU_LOCKED;
    return sgemm(h, ta, tb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1);
}
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta,
                                         cublasOperation_t tb, int m, int n, int k,
                                         const float *alpha, const float *A, int lda,
                                         long long stride_a, const float *B, int ldb,
                                         long long stride_b, const float *beta, float *C, int ldc,
                                         long long stride_c, int batch)
{
    EMU_LOCKED;
    return sgemm(h, ta, tb, m, n, k, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc,
                 stride_c, batch);
}

} // extern "C"

// What the GPU tests read to see how a plan launched its work (white-box counters of the
// emulation; absent on a GPU, where the tests look the symbol up weakly).
extern "C" void emu_graph_counters(long *captures, long *instantiations, long *exec_updates,
                                   long *kernel_node_updates, long *graph_launches)
{
    EMU_LOCKED;
    *captures = n_captures;
    *instantiations = n_instantiations;
    *exec_updates = n_exec_updates;
    *kernel_node_updates = n_kernel_node_updates;
    *graph_launches = n_graph_launches;
}

// cuFFT executions run so far (a graph's replay counts its FFT nodes again) and their frames.
extern "C" void emu_fft_counters(long *runs, long *frames)
{
    EMU_LOCKED;
    *runs = n_fft_runs;
    *frames = n_fft_frames;
}

// Fault injection and live-object counts for tests/gpu/test_cuda_faults.c (see above).
extern "C" void emu_fault_arm(int kind, long nth)
{
    EMU_LOCKED;
    if (kind < 0 || kind >= EMU_N_FAULTS) abort();
    for (int k = 0; k < EMU_N_FAULTS; k++) fault_calls[k] = 0;
    fault_at[kind] = nth;
}
extern "C" long emu_fault_calls(int kind)
{
    EMU_LOCKED;
    return kind >= 0 && kind < EMU_N_FAULTS ? fault_calls[kind] : -1;
}
// Disarms every fault and forgets a sticky error: the "device" works again (a new process on a GPU).
extern "C" void emu_fault_clear(void)
{
    EMU_LOCKED;
    for (int k = 0; k < EMU_N_FAULTS; k++) fault_calls[k] = fault_at[k] = 0;
    sticky = cudaSuccess;
    last_error = cudaSuccess;
}
// Device and pinned blocks, and handles (streams, events, graphs, execs, cuFFT plans, cuBLAS
// handles), alive now.
extern "C" void emu_live_objects(long *blocks, long *handles)
{
    EMU_LOCKED;
    *blocks = (long)allocations.size();
    *handles = live_streams + live_events + (long)live_graphs.size() + live_execs +
               (long)ffts.size() + live_blas;
}

__attribute__((destructor)) static void report()
{
    if (getenv("EMU_QUIET")) return;
    fprintf(stderr, "emu: %ld kernel launches, %ld captures, %ld graph launches, %zu allocations left\n",
            n_launches, n_captures, n_graph_launches, allocations.size());
}
