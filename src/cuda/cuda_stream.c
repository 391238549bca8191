/* Streaming on the CUDA backend: the front end (src/stream.c) keeps each stream's samples and
 * gathers every ready frame, padding decided by the CPU backend's own gather, into pinned staging;
 * here a batch of such frames, from any number of streams, goes to the device in one copy, through
 * the backend's frame pipeline (window, FFT, |.|^power, filterbank, scaling) in one launch
 * sequence, and back in one copy. */
#include "cuda_internal.h"

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
    const size_t raw_bytes = (size_t)(n_frames * plan->stages.frames.n_fft) * sizeof(float);
    const size_t value_bytes = (size_t)(n_frames * plan->stages.n_bins) * plan->stages.value_bytes;
    /* On the plan's stream, after whatever the caller queued there for this plan. */
    CUDA_TRY(cudaMemcpyAsync(b->d_input, b->h_input, raw_bytes, cudaMemcpyHostToDevice,
                             s->stream));
    FORWARD_IF_ERROR(
        melspec_cuda_enqueue_frames(plan, b, s->stream, b->d_input, n_frames, b->d_output));
    CUDA_TRY(cudaMemcpyAsync(b->h_output, b->d_output, value_bytes, cudaMemcpyDeviceToHost,
                             s->stream));
    CUDA_TRY(cudaStreamSynchronize(s->stream));
    s->done_pending = 0; /* everything queued before, `done` included, has completed */
    return MELSPEC_OK;
}
