/* Streaming on the CUDA backend.
 *
 * The ring path (the stream_ring / stream_step ops, src/plan.h): each stream's ring of the
 * samples its next frames read lives on the device (n_fft + hop floats, one cudaMalloc per
 * stream, made at melspec_stream_create). The front end (src/stream.c) decides everything about
 * a call (which frames become final, the length their padding sees, what each ring keeps); a
 * call over N streams is then one step on the plan's stream:
 *
 *   one upload   (pinned staging -> device: the N streams' descriptors and their new samples)
 *   windows      (melspec_k_stream_windows: ring + new samples, one window per stream)
 *   frames       (melspec_k_stream_frames: every final frame, padded by src/dsp/framing.h's own
 *                 rule, and each ring rewritten to what it keeps)
 *   the frame pipeline of cuda_pipeline.c (window, one batched FFT, |.|^p + mel + scaling)
 *   one download of the values,
 *
 * captured once as a CUDA graph and replayed while the step's shape (streams, uploaded samples,
 * window samples, frames) repeats, as it does when every stream gets one hop per step. The
 * descriptors and samples change from step to step, but they sit in the same staging, so the
 * graph stays valid. A step whose shape changes is captured again and patched into the kept graph
 * (cudaGraphExecUpdate), or instantiated when its topology changed.
 *
 * The frame path (stream_prepare / stream_compute) is kept: the front end uses it when a
 * fixed-memory plan cannot hold a step, gathering frames on the host as before.
 *
 * Ordering: the step's buffers are the stream's own, but a step waits for the previous call of
 * the plan when that ran on another stream (`done`), and it synchronizes its own stream; only
 * because of that wait is everything the plan queued complete afterwards (finding 5 of issue
 * 12: clearing done_pending after syncing only the current stream let the next call reuse
 * scratch that work on the old stream still read).
 */
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"

/* ---- ordering --------------------------------------------------------------------------------- */

/* The plan's previous call may run on another stream (melspec_plan_set_cuda_stream since): this
 * stream waits for it, so that synchronizing this stream also covers it. */
static melspec_status wait_for_previous_call(melspec_plan *plan, cudaStream_t stream)
{
    const cuda_state *s = plan->backend_state;
    if (s->done_pending && s->done_stream != stream)
        CUDA_TRY(cudaStreamWaitEvent(stream, s->done, 0));
    return MELSPEC_OK;
}

static melspec_status refuse_capture(melspec_plan *plan, cudaStream_t stream)
{
    enum cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    CUDA_TRY(cudaStreamIsCapturing(stream, &capture));
    if (capture != cudaStreamCaptureStatusNone)
        return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                            "streams return their frames in host memory, which cannot happen "
                            "while the plan's stream is being captured");
    return MELSPEC_OK;
}

/* ---- the frame path ------------------------------------------------------------------------- */

melspec_status melspec_cuda_stream_prepare(melspec_plan *plan, float **raw_frames,
                                           const void **values, int64_t *max_frames)
{
    cuda_state *s = plan->backend_state;
    if (s->needs_clip_max)
        return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                            "streaming needs a scaling without the clip's maximum");
    if (s->stream_buffers.batch == 0)
        FORWARD_IF_ERROR(melspec_cuda_frame_buffers_create(plan, MELSPEC_CUDA_STREAM_BATCH,
                                                           &s->stream_buffers));
    *raw_frames = s->stream_buffers.h_input;
    *values = s->stream_buffers.h_output;
    *max_frames = s->stream_buffers.batch;
    return MELSPEC_OK;
}

melspec_status melspec_cuda_stream_compute(melspec_plan *plan, int64_t n_frames)
{
    cuda_state *s = plan->backend_state;
    const cuda_buffers *b = &s->stream_buffers;
    if (n_frames < 1 || n_frames > b->batch)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL, "%lld stream frames for a batch of %lld",
                            (long long)n_frames, (long long)b->batch);
    FORWARD_IF_ERROR(refuse_capture(plan, s->stream));
    const size_t raw_bytes = (size_t)(n_frames * plan->stages.frames.n_fft) * sizeof(float);
    const size_t value_bytes = (size_t)n_frames * plan->stages.stream_frame_bytes;
    FORWARD_IF_ERROR(wait_for_previous_call(plan, s->stream));
    /* On the plan's stream, after whatever the caller queued there for this plan. */
    CUDA_TRY(cudaMemcpyAsync(b->d_input, b->h_input, raw_bytes, cudaMemcpyHostToDevice,
                             s->stream));
    FORWARD_IF_ERROR(
        melspec_cuda_enqueue_frames(plan, b, s->stream, b->d_input, n_frames, b->d_output));
    CUDA_TRY(cudaMemcpyAsync(b->h_output, b->d_output, value_bytes, cudaMemcpyDeviceToHost,
                             s->stream));
    CUDA_TRY(cudaStreamSynchronize(s->stream));
    /* the stream waited for `done` above, so this covers the previous call wherever it ran */
    s->done_pending = 0;
    return MELSPEC_OK;
}

/* ---- the ring path -------------------------------------------------------------------------- */

/* A step's first capacities (made with the first ring; a fixed-memory plan stays at them and a
 * larger step takes the frame path): MELSPEC_CUDA_STREAM_BATCH streams, one frame each, plus
 * room for chunks of a few hops. */
#define STEP_STREAMS MELSPEC_CUDA_STREAM_BATCH
#define STEP_FRAMES MELSPEC_CUDA_STREAM_BATCH

struct cuda_stream_steps {
    cuda_buffers frames;  /* frames_cap raw frames in, values out, FFT plans */
    int64_t streams_cap, upload_cap, window_cap, frames_cap;
    unsigned char *h_block; /* pinned: descriptors of the step, then its uploaded samples */
    void *d_block;          /* its device twin (one copy per step) */
    float *d_window;        /* window_cap samples */
    size_t block_bytes;

    melspec_stream_step_size size; /* the step being built (begin .. run) */
    int64_t n_added, n_uploaded, n_windowed, n_framed;

    cudaGraphExec_t exec;          /* the kept graph, NULL: none */
    melspec_stream_step_size exec_size;
};

static size_t descriptor_bytes(int64_t n_streams)
{
    const size_t bytes = (size_t)n_streams * sizeof(melspec_k_stream_step);
    return (bytes + 15) / 16 * 16; /* the samples after them stay 16-byte aligned */
}

static void steps_free(cuda_stream_steps *t)
{
    if (t == NULL) return;
    if (t->exec != NULL) cudaGraphExecDestroy(t->exec);
    melspec_cuda_buffers_destroy(&t->frames);
    cudaFreeHost(t->h_block);
    cudaFree(t->d_block);
    cudaFree(t->d_window);
    memset(t, 0, sizeof *t);
}

/* Buffers for steps up to the given capacities into *t (zeroed first; freed again on failure). */
static melspec_status steps_create(melspec_plan *plan, int64_t streams_cap, int64_t upload_cap,
                                   int64_t window_cap, int64_t frames_cap, cuda_stream_steps *t)
{
    memset(t, 0, sizeof *t);
    melspec_status status = melspec_cuda_frame_buffers_create(plan, frames_cap, &t->frames);
    if (status != MELSPEC_OK) return status;
    size_t upload_bytes = 0, window_bytes = 0;
    if (!melspec_mul_size((size_t)upload_cap, sizeof(float), &upload_bytes) ||
        !melspec_mul_size((size_t)window_cap, sizeof(float), &window_bytes)) {
        status = melspec_fail(plan, MELSPEC_ERROR_SIZE_OVERFLOW, "stream step buffers");
        goto fail;
    }
    t->block_bytes = descriptor_bytes(streams_cap) + upload_bytes;
    cudaError_t error = cudaHostAlloc((void **)&t->h_block, t->block_bytes, cudaHostAllocDefault);
    if (error == cudaSuccess) error = cudaMalloc(&t->d_block, t->block_bytes);
    if (error == cudaSuccess) error = cudaMalloc((void **)&t->d_window, window_bytes);
    if (error != cudaSuccess) {
        status = melspec_cuda_fail(plan, error, "stream step buffers (cudaHostAlloc, cudaMalloc)");
        goto fail;
    }
    t->streams_cap = streams_cap;
    t->upload_cap = upload_cap;
    t->window_cap = window_cap;
    t->frames_cap = frames_cap;
    return MELSPEC_OK;
fail:
    steps_free(t);
    return status;
}

void melspec_cuda_stream_destroy(cuda_state *s)
{
    if (s->stream_steps == NULL) return;
    steps_free(s->stream_steps);
    melspec_free(s->allocator, s->stream_steps);
    s->stream_steps = NULL;
}

melspec_status melspec_cuda_stream_ring_create(melspec_plan *plan, int64_t capacity, void **ring)
{
    cuda_state *s = plan->backend_state;
    *ring = NULL;
    if (s->stream_steps == NULL) {
        cuda_stream_steps *t = melspec_alloc_zeroed(&plan->allocator, 1, sizeof *t);
        if (t == NULL) return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "stream steps");
        const int64_t n_fft = plan->stages.frames.n_fft, hop = plan->stages.frames.hop;
        const melspec_status status =
            steps_create(plan, STEP_STREAMS, STEP_FRAMES * (n_fft + hop),
                         STEP_STREAMS * (n_fft + 3 * hop), STEP_FRAMES, t);
        if (status != MELSPEC_OK) {
            melspec_free(&plan->allocator, t);
            return status;
        }
        s->stream_steps = t;
    }
    CUDA_TRY(cudaMalloc(ring, (size_t)capacity * sizeof(float)));
    return MELSPEC_OK;
}

void melspec_cuda_stream_ring_destroy(melspec_plan *plan, void *ring)
{
    (void)plan;
    cudaFree(ring); /* waits for the device: no step still reads it */
}

static int64_t larger(int64_t need, int64_t have) { return need > have ? need : have; }

melspec_status melspec_cuda_stream_step_begin(melspec_plan *plan,
                                              const melspec_stream_step_size *size, int may_grow)
{
    cuda_state *s = plan->backend_state;
    cuda_stream_steps *t = s->stream_steps;
    if (t == NULL || size->n_frames < 1 || size->n_streams < 1)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL, "stream step without rings or frames");
    if (size->n_streams > t->streams_cap || size->n_upload > t->upload_cap ||
        size->n_window > t->window_cap || size->n_frames > t->frames_cap) {
        if (!may_grow)
            return melspec_fail(plan, MELSPEC_ERROR_EXCEEDS_PLAN,
                                "a stream step of %lld streams, %lld frames and %lld new samples "
                                "exceeds its buffers (fixed_memory)",
                                (long long)size->n_streams, (long long)size->n_frames,
                                (long long)size->n_upload);
        /* grow to the step, at least doubling what ran out, so that growth happens rarely */
        cuda_stream_steps grown;
        FORWARD_IF_ERROR(steps_create(
            plan, larger(size->n_streams, size->n_streams > t->streams_cap ? 2 * t->streams_cap : t->streams_cap),
            larger(size->n_upload, size->n_upload > t->upload_cap ? 2 * t->upload_cap : t->upload_cap),
            larger(size->n_window, size->n_window > t->window_cap ? 2 * t->window_cap : t->window_cap),
            larger(size->n_frames, size->n_frames > t->frames_cap ? 2 * t->frames_cap : t->frames_cap),
            &grown));
        steps_free(t); /* steps are synchronous: nothing queued uses the old buffers */
        *t = grown;
    }
    t->size = *size;
    t->n_added = t->n_uploaded = t->n_windowed = t->n_framed = 0;
    return MELSPEC_OK;
}

melspec_status melspec_cuda_stream_step_add(melspec_plan *plan, const melspec_stream_step *step)
{
    cuda_state *s = plan->backend_state;
    cuda_stream_steps *t = s->stream_steps;
    const int64_t end = step->received + step->n_new;
    const int64_t n_resend = step->received - step->resend_from;
    const int64_t n_upload = end - step->resend_from, n_window = end - step->window_first;
    if (t->n_added == t->size.n_streams || n_resend < 0 ||
        t->n_uploaded + n_upload > t->size.n_upload ||
        t->n_windowed + n_window > t->size.n_window ||
        t->n_framed + step->n_frames > t->size.n_frames)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL,
                            "stream step add beyond the totals given at begin");
    melspec_k_stream_step *d = (melspec_k_stream_step *)t->h_block + t->n_added;
    d->ring = step->ring;
    d->ring_first = step->ring_first;
    d->window_first = step->window_first;
    d->upload_from = step->resend_from;
    d->upload_offset = t->n_uploaded;
    d->window_offset = t->n_windowed;
    d->first_frame = step->first_frame;
    d->n_frames = step->n_frames;
    d->frame_offset = t->n_framed;
    d->n_signal = step->n_signal;
    d->keep_from = step->keep_from;
    float *samples =
        (float *)(t->h_block + descriptor_bytes(t->size.n_streams)) + t->n_uploaded;
    if (n_resend > 0) memcpy(samples, step->resend, (size_t)n_resend * sizeof(float));
    if (step->n_new > 0)
        memcpy(samples + n_resend, step->chunk, (size_t)step->n_new * sizeof(float));
    t->n_added++;
    t->n_uploaded += n_upload;
    t->n_windowed += n_window;
    t->n_framed += step->n_frames;
    return MELSPEC_OK;
}

/* The step's device work on `stream` (directly or under capture): nothing here allocates or
 * synchronizes. */
static melspec_status enqueue_step(melspec_plan *plan, cuda_stream_steps *t, cudaStream_t stream)
{
    const melspec_stages *stages = &plan->stages;
    const melspec_stream_step_size *size = &t->size;
    const size_t descriptors = descriptor_bytes(size->n_streams);
    const size_t upload_bytes = descriptors + (size_t)size->n_upload * sizeof(float);
    const melspec_k_stream_step *d_steps = t->d_block;
    const float *d_uploaded = (const float *)((unsigned char *)t->d_block + descriptors);
    CUDA_TRY(cudaMemcpyAsync(t->d_block, t->h_block, upload_bytes, cudaMemcpyHostToDevice,
                             stream));
    melspec_k_stream_windows(d_steps, size->n_streams, d_uploaded, t->d_window, size->n_window,
                             stream);
    LAUNCH_CHECK("melspec_k_stream_windows");
    melspec_k_stream_frames(d_steps, size->n_streams, t->d_window, size->n_window,
                            size->n_frames, stages->frames.n_fft, stages->frames.hop,
                            stages->frames.pad, stages->frames.pad_mode, t->frames.d_input,
                            stream);
    LAUNCH_CHECK("melspec_k_stream_frames");
    FORWARD_IF_ERROR(melspec_cuda_enqueue_frames(plan, &t->frames, stream, t->frames.d_input,
                                                 size->n_frames, t->frames.d_output));
    const size_t value_bytes = (size_t)size->n_frames * stages->stream_frame_bytes;
    CUDA_TRY(cudaMemcpyAsync(t->frames.h_output, t->frames.d_output, value_bytes,
                             cudaMemcpyDeviceToHost, stream));
    return MELSPEC_OK;
}

static int same_size(const melspec_stream_step_size *a, const melspec_stream_step_size *b)
{
    return a->n_streams == b->n_streams && a->n_upload == b->n_upload &&
           a->n_window == b->n_window && a->n_frames == b->n_frames;
}

/* The kept graph made to run this step's shape: captured on the private stream (capture always
 * ended), then patched into the kept graph or instantiated anew. */
static melspec_status make_step_graph(melspec_plan *plan, cuda_stream_steps *t)
{
    cuda_state *s = plan->backend_state;
    cudaGraph_t graph = NULL;
    CUDA_TRY(cudaStreamBeginCapture(s->capture_stream, cudaStreamCaptureModeThreadLocal));
    const melspec_status status = enqueue_step(plan, t, s->capture_stream);
    const cudaError_t end = cudaStreamEndCapture(s->capture_stream, &graph);
    if (status != MELSPEC_OK || end != cudaSuccess) {
        if (graph != NULL) cudaGraphDestroy(graph);
        cudaGetLastError(); /* a failed capture leaves its error pending: it is reported here */
        if (status != MELSPEC_OK) return status;
        return melspec_cuda_fail(plan, end, "cudaStreamEndCapture (stream step)");
    }
    cudaError_t error = cudaErrorUnknown;
    if (t->exec != NULL) {
        cudaGraphExecUpdateResultInfo info;
        error = cudaGraphExecUpdate(t->exec, graph, &info);
        if (error != cudaSuccess) {
            cudaGetLastError(); /* refused (another topology): instantiate anew */
            cudaGraphExecDestroy(t->exec);
            t->exec = NULL;
        }
    }
    if (t->exec == NULL) {
        error = cudaGraphInstantiate(&t->exec, graph, 0);
        if (error != cudaSuccess) t->exec = NULL;
    }
    cudaGraphDestroy(graph);
    if (error != cudaSuccess) return melspec_cuda_fail(plan, error, "cudaGraphInstantiate (stream step)");
    t->exec_size = t->size;
    return MELSPEC_OK;
}

melspec_status melspec_cuda_stream_step_run(melspec_plan *plan, const void **values)
{
    cuda_state *s = plan->backend_state;
    cuda_stream_steps *t = s->stream_steps;
    if (t->n_added != t->size.n_streams || t->n_uploaded != t->size.n_upload ||
        t->n_windowed != t->size.n_window || t->n_framed != t->size.n_frames)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL,
                            "stream step run with other totals than given at begin");
    FORWARD_IF_ERROR(refuse_capture(plan, s->stream));
    if (t->exec == NULL || !same_size(&t->exec_size, &t->size))
        FORWARD_IF_ERROR(make_step_graph(plan, t));
    FORWARD_IF_ERROR(wait_for_previous_call(plan, s->stream));
    CUDA_TRY(cudaGraphLaunch(t->exec, s->stream));
    CUDA_TRY(cudaStreamSynchronize(s->stream));
    s->done_pending = 0; /* the stream waited for `done`: the previous call is complete too */
    *values = t->frames.h_output;
    return MELSPEC_OK;
}
