/* The CUDA backend's host side, shared by the files of src/cuda/. Not installed. */
#ifndef MELSPEC_SRC_CUDA_INTERNAL_H
#define MELSPEC_SRC_CUDA_INTERNAL_H

#include <cuda_runtime_api.h>
#include <cublas_v2.h>
#include <cufft.h>

#include "../../kernels/kernels.h"
#include "../alloc.h"
#include "../config.h"
#include "../plan.h"

/* cuFFT plans a cuda_buffers keeps: one for the whole reserved frame count, made with the
 * buffers, and up to this many more, each for the exact frame count of a call shape seen before,
 * made the first time that shape is seen outside any capture and dropped least recently used
 * unless a cached graph runs it (cuda_buffers.c says why this scheme). */
#define MELSPEC_CUDA_FFT_PLANS 8

/* Executable graphs a plan keeps (see cuda_graph.c for the replay rule). */
#define MELSPEC_CUDA_GRAPH_SLOTS 4

/* A cuFFT R2C plan over `batch` frames of the plan's n_fft (made: the handle exists). */
typedef struct cuda_fft_plan {
    int made;
    int pinned;      /* used inside a caller's own capture: never dropped while the buffers live */
    int64_t batch;
    cufftHandle handle;
    uint64_t last_use;
} cuda_fft_plan;

/* Everything sized by the reserved batch x samples: made at creation, replaced by reserve,
 * never touched by execute except to use it. */
typedef struct cuda_buffers {
    int64_t batch;             /* signals per call */
    int64_t samples;           /* samples per signal */
    int64_t frames_per_signal; /* frames of a signal of `samples` samples (0 when too short) */
    int64_t total_frames;      /* batch x frames_per_signal */
    size_t output_bytes;       /* output of batch signals of `samples` samples */

    float *d_input;    /* batch x samples: the host path's input */
    float *d_frames;   /* total_frames x frame_stride windowed frames */
    float *d_spectrum; /* total_frames x n_freq complex (NULL when cuFFT writes the output) */
    float *d_values;   /* total_frames x n_bins float, when the scaling needs clip maxima */
    void *d_output;    /* output_bytes: the host path's output */
    float *d_partial;  /* batch x MELSPEC_K_MAX_CHUNKS partial maxima */
    double *d_clip_offset; /* batch */
    float *d_clip_floor;   /* batch */
    float *h_input;        /* pinned staging, batch x samples */
    void *h_output;        /* pinned staging, output_bytes */

    cuda_fft_plan full_fft;                     /* batch total_frames (none when 0 frames) */
    cuda_fft_plan fft[MELSPEC_CUDA_FFT_PLANS]; /* exact batches, least recently used dropped */
    size_t fft_work_bytes;
    void *d_fft_work; /* one work area shared by the plans (they run one after another) */
    float *d_levels;  /* CQT plans: the decimated signals of a call, level after level */
} cuda_buffers;

/* Most kernel-node parameters a graph patches when a caller's pointers change (cuda_graph.c). */
#define MELSPEC_CUDA_GRAPH_PATCHES 32

/* One kernel-node parameter word that holds (an address inside) the caller's input or output. */
typedef struct cuda_graph_patch {
    cudaGraphNode_t node; /* of slot->graph */
    uint32_t param;       /* parameter index */
    uint32_t n_params;    /* parameters of the node's kernel */
    uint32_t byte;        /* offset of the pointer within that parameter */
    int output;           /* 0: inside the input, 1: inside the output */
    uint64_t offset;      /* bytes from the start of that buffer */
} cuda_graph_patch;

/* One captured and instantiated graph and the call shape it replays. */
typedef struct cuda_graph_slot {
    cudaGraphExec_t exec; /* NULL: empty slot */
    cudaGraph_t graph;    /* kept: its node handles address the exec's nodes */
    int host_path;        /* 1: melspec_execute (staging copies included), 0: device pointers */
    int64_t n_signals;
    int64_t n_samples;
    int64_t fft_batch;    /* frames of the cuFFT plan it runs (0: none), see cuda_buffers.c */
    const void *input;    /* the device pointers its nodes hold now */
    void *output;
    int patchable;        /* every use of input/output is a patch below */
    int n_patches;
    cuda_graph_patch patches[MELSPEC_CUDA_GRAPH_PATCHES];
    uint64_t last_use;
} cuda_graph_slot;

typedef struct cuda_transform cuda_transform;

typedef struct cuda_state {
    const cuda_transform *transform; /* what this plan's kind computes (see below) */
    const melspec_allocator *allocator; /* the plan's: every host block of this state */
    int device;
    cudaStream_t stream;         /* the caller's (melspec_plan_set_stream); NULL: legacy */
    cudaStream_t capture_stream; /* private: graphs are captured here, never run here */
    cudaEvent_t done;            /* recorded after each call's work */
    cudaStream_t done_stream;    /* where `done` was last recorded */
    int done_pending;            /* `done` was recorded since the last wait on it */
    /* A sticky error seen by a call of this plan (the device's context is lost, cudaSuccess
     * otherwise): every later call refuses with it, only destroy still works (GPU faults,
     * include/melspec.h). */
    cudaError_t lost;

    int64_t frame_stride;   /* floats between frames: n_fft rounded up to even (8-byte aligned) */
    int needs_clip_max;     /* the scaling uses each clip's maximum */
    melspec_k_power power;     /* the plan's stages (src/stages.h), as the kernels take them */
    melspec_scale_stage scale;

    float *d_window; /* n_fft */
    melspec_k_mel mel; /* device arrays; n_rows 0 unless MEL */
    /* MELSPEC_MEL_PRODUCT_GEMM (cuda_pipeline.c): the dense filterbank as float, n_mels rows of
     * n_freq (column-major n_freq x n_mels for cuBLAS), a cuBLAS handle and its workspace. */
    float *d_filterbank;
    double *d_mfcc_basis; /* feature MFCC (issue 15): plan->mfcc_basis, n_mfcc x spectrum_bins */
    cublasHandle_t cublas;
    void *d_cublas_work;
    size_t cublas_work_bytes;

    cuda_buffers buffers;
    cuda_graph_slot graphs[MELSPEC_CUDA_GRAPH_SLOTS];
    uint64_t clock; /* counts calls, for least-recently-used replacement */
    struct cuda_cqt *cqt; /* CQT plans: kernels and decimators on the device (cqt_cuda.c) */
    /* Streaming (cuda_stream.c): MELSPEC_CUDA_STREAM_BATCH frames of n_fft raw samples, made by
     * the plan's first melspec_stream_create (batch 0 until then). */
    cuda_buffers stream_buffers;
    /* Streams with rings on the device (cuda_stream.c, issue 12c): step buffers and graph, made
     * with the plan's first ring (NULL until then). */
    struct cuda_stream_steps *stream_steps;
    /* White-box counters (read by nothing in the library; a debugger or test can): graphs
     * captured, and replays whose pointers were patched instead. */
    uint64_t n_graph_captures;
    uint64_t n_graph_patches;
} cuda_state;

typedef struct cuda_cqt cuda_cqt;

/* The backend's ops table (every plan kind), handed to the core by cuda_plugin.c. */
extern const melspec_backend_ops melspec_cuda_ops;

/* Usable devices; when 0, writes the runtime's answer into message (may be NULL). */
int melspec_cuda_runtime_device_count(char *message, size_t capacity);

/* ---- error plumbing (each macro expects `plan` in scope) ---------------------------------------- */

/* Records "<what>: <error name> (<error text>)" on the plan and returns the mapped status
 * (OUT_OF_MEMORY for allocation failures, DEVICE otherwise). */
melspec_status melspec_cuda_fail(melspec_plan *plan, cudaError_t error, const char *what);
melspec_status melspec_cufft_fail(melspec_plan *plan, cufftResult result, const char *what);
melspec_status melspec_cublas_fail(melspec_plan *plan, cublasStatus_t status, const char *what);

#define CUDA_TRY(call)                                                        \
    do {                                                                      \
        const cudaError_t cuda_error_ = (call);                               \
        if (cuda_error_ != cudaSuccess)                                       \
            return melspec_cuda_fail(plan, cuda_error_, #call);               \
    } while (0)

#define CUFFT_TRY(call)                                                       \
    do {                                                                      \
        const cufftResult cufft_result_ = (call);                             \
        if (cufft_result_ != CUFFT_SUCCESS)                                   \
            return melspec_cufft_fail(plan, cufft_result_, #call);            \
    } while (0)

#define CUBLAS_TRY(call)                                                      \
    do {                                                                      \
        const cublasStatus_t cublas_status_ = (call);                         \
        if (cublas_status_ != CUBLAS_STATUS_SUCCESS)                          \
            return melspec_cublas_fail(plan, cublas_status_, #call);          \
    } while (0)

/* After a kernel launcher: the launch's own error, named after the kernel. */
#define LAUNCH_CHECK(kernel_name)                                             \
    do {                                                                      \
        const cudaError_t cuda_error_ = cudaGetLastError();                   \
        if (cuda_error_ != cudaSuccess)                                       \
            return melspec_cuda_fail(plan, cuda_error_, "launch of " kernel_name); \
    } while (0)

#define FORWARD_IF_ERROR(expression)                                          \
    do {                                                                      \
        const melspec_status forwarded_ = (expression);                       \
        if (forwarded_ != MELSPEC_OK) return forwarded_;                      \
    } while (0)

/* ---- cuda_buffers.c ------------------------------------------------------------------------------ */

/* Allocates every size-dependent buffer and cuFFT plan for batch x samples into *buffers (zeroed
 * first) and runs them once so that nothing loads lazily later. On failure frees what it made. */
melspec_status melspec_cuda_buffers_create(melspec_plan *plan, int64_t batch, int64_t samples,
                                           cuda_buffers *buffers);
/* The same for n_frames raw frames of n_fft samples, one frame each (streaming). */
melspec_status melspec_cuda_frame_buffers_create(melspec_plan *plan, int64_t n_frames,
                                                 cuda_buffers *buffers);
/* Frees what buffers holds (any part may be missing) and zeroes it. */
void melspec_cuda_buffers_destroy(cuda_buffers *buffers);

/* The cuFFT plan for n_frames frames of buffers: the exact one, made now when missing and
 * allowed (not capturing; it may drop the least recently used exact plan and, with it, the
 * plan's graphs that ran it), else the full-capacity plan over the padded scratch. *batch: the
 * frames it transforms. Never allocates while capturing; never drops a plan that a cached graph
 * runs or that a caller's capture used. */
melspec_status melspec_cuda_fft_plan(melspec_plan *plan, cuda_buffers *buffers, int64_t n_frames,
                                     int capturing, cufftHandle *handle, int64_t *batch);

/* ---- cuda_pipeline.c ----------------------------------------------------------------------------- */

/* Enqueues the whole transform of n_signals x n_samples on stream: device input to device output
 * through `buffers`. Allocates nothing. */
melspec_status melspec_cuda_enqueue(melspec_plan *plan, const cuda_buffers *buffers,
                                    cudaStream_t stream, const float *input, int64_t n_signals,
                                    int64_t n_samples, void *output);

/* Enqueues the frame pipeline (window, FFT, |.|^power, filterbank, element-wise scaling) on
 * n_frames frames of n_fft raw samples each, already padded (raw_frames, device memory), into
 * output frame after frame (frames-major, the plan's dtype). For streaming: the scaling must not
 * need clip maxima. Allocates nothing. */
melspec_status melspec_cuda_enqueue_frames(melspec_plan *plan, const cuda_buffers *buffers,
                                           cudaStream_t stream, const float *raw_frames,
                                           int64_t n_frames, void *output);

/* The scaling stage from buffers->d_values (n_signals clips of clip_values unscaled values) into
 * output: per-clip references when the scaling needs each clip's maximum, else the constants. */
melspec_status melspec_cuda_scale_values(melspec_plan *plan, const cuda_buffers *buffers,
                                         cudaStream_t stream, int64_t n_signals,
                                         int64_t clip_values, void *output);

/* Frames of one signal of n_samples samples for the plan's kind (0 when too short). */
int64_t melspec_cuda_frames(const melspec_plan *plan, int64_t n_samples);

/* Input and output bytes of one call. */
void melspec_cuda_call_size(const melspec_plan *plan, int64_t n_signals, int64_t n_samples,
                            size_t *input_bytes, size_t *output_bytes);

/* ---- the transforms: what the backend does for each kind of plan -------------------------------- */

/* The STFT family (cuda_backend.c, cuda_pipeline.c) or the constant-Q transform (cqt_cuda.c). The
 * plan's kind picks one when the plan is made (cuda_backend.c), the one place that looks at it;
 * everything else asks the plan's transform. */
struct cuda_transform {
    /* Device constants: the window and mel rows, or the octaves' kernels and decimators (freed
     * by cuda_destroy whatever was made). */
    melspec_status (*create)(melspec_plan *plan);
    /* Frames of one signal of n_samples samples, 0 when too short; the shortest signal. */
    int64_t (*frames)(const melspec_plan *plan, int64_t n_samples);
    int64_t (*shortest_signal)(const melspec_plan *plan);
    /* Floats of decimated signals for batch x samples (0: none). */
    int64_t (*level_floats)(const melspec_plan *plan, int64_t batch, int64_t samples);
    int uses_fft;     /* frames, spectra and cuFFT plans */
    int (*needs_values)(const melspec_plan *plan); /* unscaled values before the scaling */
    /* melspec_cuda_enqueue for this kind. */
    melspec_status (*enqueue)(melspec_plan *plan, const cuda_buffers *buffers,
                              cudaStream_t stream, const float *input, int64_t n_signals,
                              int64_t n_samples, void *output);
};
extern const cuda_transform melspec_cuda_spectrum_transform;
extern const cuda_transform melspec_cuda_cqt_transform;

/* cuda_pipeline.c: the STFT family's enqueue. */
melspec_status melspec_cuda_spectrum_enqueue(melspec_plan *plan, const cuda_buffers *buffers,
                                             cudaStream_t stream, const float *input,
                                             int64_t n_signals, int64_t n_samples, void *output);
/* cqt_cuda.c: frees the CQT's device constants (NULL-safe). */
void melspec_cuda_cqt_destroy(cuda_state *state);

/* Rule for everything enqueued here: the caller's pointers (device input, device output) go only
 * to our own kernels, never to cuFFT or cuBLAS, which work on the plan's scratch buffers; so a
 * captured graph can be re-pointed by patching kernel-node parameters (cuda_graph.c). */

/* ---- cuda_graph.c -------------------------------------------------------------------------------- */

/* Runs one call on the plan's stream, replaying or capturing a graph (see the rule there).
 * host_path: host staging copies around the transform (input/output are the staging buffers'
 * device twins and are ignored). */
melspec_status melspec_cuda_run(melspec_plan *plan, int host_path, const float *input,
                                int64_t n_signals, int64_t n_samples, void *output);
/* Destroys every cached graph (after reserve: they point at the old buffers). */
void melspec_cuda_graphs_clear(cuda_state *state);
/* Whether a cached graph runs the cuFFT plan of fft_batch frames (then it is never dropped). */
int melspec_cuda_graphs_use_fft(const cuda_state *state, int64_t fft_batch);

/* ---- cuda_stream.c ------------------------------------------------------------------------------- */

/* Frames per batch of stream frames (the staging made by melspec_cuda_stream_prepare). */
#define MELSPEC_CUDA_STREAM_BATCH 256

/* The backend's stream hooks (melspec_backend_ops.stream_prepare / stream_compute), called with
 * the plan's device current. */
melspec_status melspec_cuda_stream_prepare(melspec_plan *plan, float **raw_frames,
                                           const void **values, int64_t *max_frames);
melspec_status melspec_cuda_stream_compute(melspec_plan *plan, int64_t n_frames);

/* ---- cuda_stream.c: rings on the device (issue 12c) ---------------------------------------------- */

typedef struct cuda_stream_steps cuda_stream_steps;

/* melspec_backend_ops.stream_ring_create / _destroy / stream_step_begin / _add / _run (src/plan.h),
 * called with the plan's device current. */
melspec_status melspec_cuda_stream_ring_create(melspec_plan *plan, int64_t capacity, void **ring);
void melspec_cuda_stream_ring_destroy(melspec_plan *plan, void *ring);
melspec_status melspec_cuda_stream_step_begin(melspec_plan *plan,
                                              const melspec_stream_step_size *size, int may_grow);
melspec_status melspec_cuda_stream_step_add(melspec_plan *plan, const melspec_stream_step *step);
melspec_status melspec_cuda_stream_step_run(melspec_plan *plan, const void **values);
/* Frees the step buffers and graph (cuda_destroy; NULL-safe). */
void melspec_cuda_stream_destroy(cuda_state *state);

#endif
