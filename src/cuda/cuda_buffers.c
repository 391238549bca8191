/* The size-dependent resources of a CUDA plan: device buffers, pinned staging, cuFFT plans and
 * their shared work area. Made at plan creation for config.max_batch x config.max_samples and
 * remade, larger, by melspec_plan_reserve; the only place the backend allocates. */
#include <stdio.h>
#include <string.h>

#include "../dsp/cqt.h"
#include "cuda_internal.h"

static melspec_status device_alloc(melspec_plan *plan, void **pointer, size_t bytes,
                                   const char *what)
{
    const cudaError_t error = cudaMalloc(pointer, bytes > 0 ? bytes : 1);
    if (error == cudaSuccess) return MELSPEC_OK;
    *pointer = NULL;
    char call[128];
    snprintf(call, sizeof call, "cudaMalloc of %zu bytes for %s", bytes, what);
    return melspec_cuda_fail(plan, error, call);
}

static melspec_status pinned_alloc(melspec_plan *plan, void **pointer, size_t bytes,
                                   const char *what)
{
    const cudaError_t error = cudaHostAlloc(pointer, bytes > 0 ? bytes : 1, cudaHostAllocDefault);
    if (error == cudaSuccess) return MELSPEC_OK;
    *pointer = NULL;
    char call[128];
    snprintf(call, sizeof call, "cudaHostAlloc of %zu bytes for %s", bytes, what);
    return melspec_cuda_fail(plan, error, call);
}

/* a x b x c, or 0 with *ok cleared when the product overflows size_t. */
static size_t product(int *ok, size_t a, size_t b, size_t c)
{
    size_t ab, abc;
    if (!melspec_mul_size(a, b, &ab) || !melspec_mul_size(ab, c, &abc)) {
        *ok = 0;
        return 0;
    }
    return abc;
}

/*
 * cuFFT plans. A call of F frames runs one plan made for exactly F frames: one execution, cuFFT's
 * own choice of kernels for that batch, nothing wasted. Such a plan is made the first time a
 * call shape is seen, before any capture (cufftMakePlan allocates and may synchronize, which a
 * capture forbids), and at most MELSPEC_CUDA_FFT_PLANS of them are kept, least recently used
 * dropped unless a cached graph of the plan runs it. The plan for the whole reserved frame
 * count exists from creation: it serves a call whose exact plan cannot be made (inside a caller's
 * own capture, or when the exact plan would need a larger work area than the buffers hold) by
 * transforming the whole padded scratch (correct: the scratch is sized for it and the rows past F
 * are never read; slower, by total_frames / F). Rejected: one execution per binary digit of F
 * (what this replaced; up to log2 F + 1 executions, 3 for `realtime` and 8 for `whisper`), and
 * cuFFT load/store callbacks (they fuse framing into the FFT but need the static cuFFT library
 * and relocatable device code; worth measuring on a GPU later).
 */
static melspec_status make_fft(melspec_plan *plan, cuda_buffers *b, int64_t batch,
                               cuda_fft_plan *out, size_t *work)
{
    const cuda_state *s = plan->backend_state;
    long long n[1] = {(long long)plan->stages.frames.n_fft};
    long long input_embed[1] = {(long long)s->frame_stride};
    long long output_embed[1] = {(long long)plan->n_freq};
    const int basic_layout = s->frame_stride == plan->stages.frames.n_fft;
    (void)b;
    memset(out, 0, sizeof *out);
    CUFFT_TRY(cufftCreate(&out->handle));
    out->made = 1;
    out->batch = batch;
    CUFFT_TRY(cufftSetAutoAllocation(out->handle, 0));
    CUFFT_TRY(cufftMakePlanMany64(out->handle, 1, n, basic_layout ? NULL : input_embed, 1,
                                  s->frame_stride, basic_layout ? NULL : output_embed, 1,
                                  plan->n_freq, CUFFT_R2C, batch, work));
    return MELSPEC_OK;
}

static void destroy_fft(cuda_fft_plan *fft)
{
    if (fft->made) cufftDestroy(fft->handle);
    memset(fft, 0, sizeof *fft);
}

/* The full-capacity plan and the work area every plan of these buffers shares. */
static melspec_status make_full_fft(melspec_plan *plan, cuda_buffers *b)
{
    size_t work_bytes = 0;
    if (b->total_frames > 0)
        FORWARD_IF_ERROR(make_fft(plan, b, b->total_frames, &b->full_fft, &work_bytes));
    FORWARD_IF_ERROR(device_alloc(plan, &b->d_fft_work, work_bytes, "the cuFFT work area"));
    b->fft_work_bytes = work_bytes;
    if (b->full_fft.made) CUFFT_TRY(cufftSetWorkArea(b->full_fft.handle, b->d_fft_work));
    return MELSPEC_OK;
}

/* Makes the exact plan of batch frames into a free entry or over the least recently used one
 * that nothing runs; NULL in *made when there is none, or when the plan would need more work area
 * than the buffers hold. */
static melspec_status add_exact_fft(melspec_plan *plan, cuda_buffers *b, int64_t batch,
                                    cuda_fft_plan **made)
{
    cuda_state *s = plan->backend_state;
    *made = NULL;
    cuda_fft_plan *slot = NULL;
    for (int i = 0; i < MELSPEC_CUDA_FFT_PLANS; i++) {
        cuda_fft_plan *candidate = &b->fft[i];
        /* a graph replays it, or a caller's graph does: dropping it would free what they run */
        if (candidate->pinned ||
            (candidate->made && b == &s->buffers && melspec_cuda_graphs_use_fft(s, candidate->batch)))
            continue;
        if (!candidate->made) { slot = candidate; break; }
        if (slot == NULL || candidate->last_use < slot->last_use) slot = candidate;
    }
    if (slot == NULL) return MELSPEC_OK; /* every entry serves a caller's graph */
    if (slot->made) destroy_fft(slot);
    size_t work = 0;
    const melspec_status status = make_fft(plan, b, batch, slot, &work);
    if (status != MELSPEC_OK || work > b->fft_work_bytes) {
        destroy_fft(slot);
        return status;
    }
    CUFFT_TRY(cufftSetWorkArea(slot->handle, b->d_fft_work));
    /* Run it once now, outside any capture, so that loading its kernels never happens inside
     * one; after the plan's earlier work (it writes the shared spectra), on the private stream. */
    if (s->done_pending) CUDA_TRY(cudaStreamWaitEvent(s->capture_stream, s->done, 0));
    CUFFT_TRY(cufftSetStream(slot->handle, s->capture_stream));
    CUFFT_TRY(cufftExecR2C(slot->handle, b->d_frames, (cufftComplex *)b->d_spectrum));
    CUDA_TRY(cudaStreamSynchronize(s->capture_stream));
    *made = slot;
    return MELSPEC_OK;
}

melspec_status melspec_cuda_fft_plan(melspec_plan *plan, cuda_buffers *b, int64_t n_frames,
                                     int capturing, cufftHandle *handle, int64_t *batch)
{
    cuda_state *s = plan->backend_state;
    if (n_frames < 1 || n_frames > b->total_frames || !b->full_fft.made)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL,
                            "FFT of %lld frames with buffers for %lld", (long long)n_frames,
                            (long long)b->total_frames);
    cuda_fft_plan *found = n_frames == b->total_frames ? &b->full_fft : NULL;
    for (int i = 0; found == NULL && i < MELSPEC_CUDA_FFT_PLANS; i++)
        if (b->fft[i].made && b->fft[i].batch == n_frames) found = &b->fft[i];
    if (found == NULL && !capturing) FORWARD_IF_ERROR(add_exact_fft(plan, b, n_frames, &found));
    if (found == NULL) found = &b->full_fft;
    found->last_use = ++s->clock;
    /* a caller's graph keeps running this plan after the call: it must outlive the buffers */
    if (capturing && found != &b->full_fft) {
        enum cudaStreamCaptureStatus ours = cudaStreamCaptureStatusNone;
        CUDA_TRY(cudaStreamIsCapturing(s->capture_stream, &ours));
        if (ours == cudaStreamCaptureStatusNone) found->pinned = 1;
    }
    *handle = found->handle;
    *batch = found->batch;
    return MELSPEC_OK;
}

/* Runs the FFT plan and every kernel of the pipeline once, on zeros, so that module loading
 * and first-use setup happen here rather than in the first execute or under graph capture. */
static melspec_status warm_up(melspec_plan *plan, cuda_buffers *b, size_t input_bytes,
                              size_t frames_bytes)
{
    const cuda_state *s = plan->backend_state;
    const cudaStream_t stream = s->capture_stream;
    CUDA_TRY(cudaMemsetAsync(b->d_input, 0, input_bytes, stream));
    if (b->d_frames != NULL) CUDA_TRY(cudaMemsetAsync(b->d_frames, 0, frames_bytes, stream));
    if (b->full_fft.made) {
        CUFFT_TRY(cufftSetStream(b->full_fft.handle, stream));
        CUFFT_TRY(cufftExecR2C(b->full_fft.handle, b->d_frames, (cufftComplex *)b->d_spectrum));
    }
    const int64_t shortest = s->transform->shortest_signal(plan);
    if (b->frames_per_signal > 0 && shortest <= b->samples)
        FORWARD_IF_ERROR(
            melspec_cuda_enqueue(plan, b, stream, b->d_input, 1, shortest, b->d_output));
    CUDA_TRY(cudaStreamSynchronize(stream));
    return MELSPEC_OK;
}

static melspec_status create_buffers(melspec_plan *plan, int64_t batch, int64_t samples,
                                     int64_t frames_per_signal, cuda_buffers *b)
{
    const cuda_state *s = plan->backend_state;
    const melspec_stages *stages = &plan->stages;
    b->batch = batch;
    b->samples = samples;
    b->frames_per_signal = frames_per_signal;
    /* what the plan's transform runs in: frames, spectra and FFT plans (STFT family), or the
     * decimated signals (CQT); unscaled values when its scaling comes as a second pass */
    const int uses_fft = s->transform->uses_fft;
    const int needs_values = s->transform->needs_values(plan);
    int ok = 1;
    const size_t total_frames = product(&ok, (size_t)batch, (size_t)b->frames_per_signal, 1);
    b->total_frames = (int64_t)total_frames;
    const size_t input_bytes = product(&ok, (size_t)batch, (size_t)samples, sizeof(float));
    const size_t frames_bytes =
        product(&ok, total_frames, (size_t)s->frame_stride, sizeof(float));
    const size_t spectrum_bytes =
        product(&ok, total_frames, (size_t)plan->n_freq, 2 * sizeof(float));
    /* values before the feature stage (issue 15) have spectrum_bins rows, and a feature plan
     * keeps its scaled values in a second half (cuda_pipeline.c); a stream's frames of a feature
     * plan are those values, stream_frame_bytes each */
    const size_t values_bytes =
        product(&ok, total_frames, (size_t)stages->spectrum_bins,
                sizeof(float) * (stages->feature != MELSPEC_FEATURE_NONE ? 2 : 1));
    const size_t output_frame_bytes = (size_t)stages->n_bins * stages->value_bytes;
    b->output_bytes = product(&ok, total_frames,
                              output_frame_bytes > stages->stream_frame_bytes
                                  ? output_frame_bytes
                                  : stages->stream_frame_bytes,
                              1);
    const size_t partial_bytes =
        product(&ok, (size_t)batch, MELSPEC_K_MAX_CHUNKS, sizeof(float));
    if (!ok || total_frames > (size_t)INT64_MAX / 2 || input_bytes > (size_t)INT64_MAX / 2 ||
        frames_bytes > (size_t)INT64_MAX / 2 || spectrum_bytes > (size_t)INT64_MAX / 2)
        return melspec_fail(plan, MELSPEC_ERROR_SIZE_OVERFLOW,
                            "buffers for %lld signal(s) of %lld samples overflow 64 bits",
                            (long long)batch, (long long)samples);

    FORWARD_IF_ERROR(device_alloc(plan, (void **)&b->d_input, input_bytes, "input"));
    if (uses_fft)
        FORWARD_IF_ERROR(device_alloc(plan, (void **)&b->d_frames, frames_bytes, "frames"));
    if (uses_fft)
        FORWARD_IF_ERROR(device_alloc(plan, (void **)&b->d_spectrum, spectrum_bytes, "spectra"));
    const int64_t level_floats = s->transform->level_floats(plan, batch, samples);
    if (level_floats > 0) {
        const size_t level_bytes = product(&ok, (size_t)level_floats, sizeof(float), 1);
        if (!ok)
            return melspec_fail(plan, MELSPEC_ERROR_SIZE_OVERFLOW,
                                "CQT buffers for %lld signal(s) of %lld samples overflow",
                                (long long)batch, (long long)samples);
        FORWARD_IF_ERROR(device_alloc(plan, (void **)&b->d_levels, level_bytes,
                                      "the decimated signals"));
    }
    if (needs_values)
        FORWARD_IF_ERROR(
            device_alloc(plan, (void **)&b->d_values, values_bytes, "unscaled values"));
    FORWARD_IF_ERROR(device_alloc(plan, &b->d_output, b->output_bytes, "output"));
    FORWARD_IF_ERROR(device_alloc(plan, (void **)&b->d_partial, partial_bytes, "clip maxima"));
    FORWARD_IF_ERROR(device_alloc(plan, (void **)&b->d_clip_offset,
                                  (size_t)batch * sizeof(double), "clip dB offsets"));
    FORWARD_IF_ERROR(device_alloc(plan, (void **)&b->d_clip_floor, (size_t)batch * sizeof(float),
                                  "clip dB floors"));
    FORWARD_IF_ERROR(pinned_alloc(plan, (void **)&b->h_input, input_bytes, "input staging"));
    FORWARD_IF_ERROR(pinned_alloc(plan, &b->h_output, b->output_bytes, "output staging"));
    if (uses_fft) FORWARD_IF_ERROR(make_full_fft(plan, b));
    return warm_up(plan, b, input_bytes, frames_bytes);
}

melspec_status melspec_cuda_buffers_create(melspec_plan *plan, int64_t batch, int64_t samples,
                                           cuda_buffers *buffers)
{
    memset(buffers, 0, sizeof *buffers);
    const int64_t frames = melspec_cuda_frames(plan, samples);
    const melspec_status status = create_buffers(plan, batch, samples, frames > 0 ? frames : 0,
                                                 buffers);
    if (status != MELSPEC_OK) melspec_cuda_buffers_destroy(buffers);
    return status;
}

melspec_status melspec_cuda_frame_buffers_create(melspec_plan *plan, int64_t n_frames,
                                                 cuda_buffers *buffers)
{
    memset(buffers, 0, sizeof *buffers);
    const melspec_status status =
        create_buffers(plan, n_frames, plan->stages.frames.n_fft, 1, buffers);
    if (status != MELSPEC_OK) melspec_cuda_buffers_destroy(buffers);
    return status;
}

void melspec_cuda_buffers_destroy(cuda_buffers *b)
{
    destroy_fft(&b->full_fft);
    for (int i = 0; i < MELSPEC_CUDA_FFT_PLANS; i++) destroy_fft(&b->fft[i]);
    /* errors while freeing cannot be reported (destroy returns nothing) and change nothing */
    cudaFree(b->d_fft_work);
    cudaFree(b->d_input);
    cudaFree(b->d_frames);
    cudaFree(b->d_spectrum);
    cudaFree(b->d_values);
    cudaFree(b->d_output);
    cudaFree(b->d_partial);
    cudaFree(b->d_clip_offset);
    cudaFree(b->d_clip_floor);
    cudaFree(b->d_levels);
    cudaFreeHost(b->h_input);
    cudaFreeHost(b->h_output);
    memset(b, 0, sizeof *b);
}
