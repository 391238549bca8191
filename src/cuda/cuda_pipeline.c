/* The transform as a sequence of device work on one stream: frame + window, batched R2C FFTs,
 * then either one fused pass to the output or, when the scaling needs each clip's maximum, values
 * -> per-clip maxima -> scaled output. Nothing here allocates or synchronizes, so the same code
 * runs directly on a stream or under graph capture. */
#include <string.h>

#include "cuda_internal.h"

void melspec_cuda_call_size(const melspec_plan *plan, int64_t n_signals, int64_t n_samples,
                            size_t *input_bytes, size_t *output_bytes)
{
    const int64_t n_frames = melspec_cuda_frames(plan, n_samples);
    const int64_t values = n_signals * n_frames * plan->stages.n_bins;
    *input_bytes = (size_t)(n_signals * n_samples) * sizeof(float);
    *output_bytes = (size_t)values * plan->stages.value_bytes;
}

/* R2C transforms of n_frames frames: one execution of the plan of 2^k frames for each binary
 * digit k of n_frames (the plans cover every power of two up to the reserved frame count). */
static melspec_status enqueue_fft(melspec_plan *plan, const cuda_buffers *buffers,
                                  cudaStream_t stream, int64_t n_frames, float *spectrum)
{
    const cuda_state *s = plan->backend_state;
    int64_t done = 0;
    for (int k = buffers->n_fft_plans - 1; k >= 0; k--) {
        if (n_frames - done < buffers->fft_batch[k]) continue;
        const cufftHandle fft = buffers->fft_plans[k];
        CUFFT_TRY(cufftSetStream(fft, stream));
        CUFFT_TRY(cufftExecR2C(fft, buffers->d_frames + done * s->frame_stride,
                               (cufftComplex *)(spectrum + 2 * done * plan->n_freq)));
        done += buffers->fft_batch[k];
    }
    if (done != n_frames)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL,
                            "FFT of %lld frames: the plans cover only %lld", (long long)n_frames,
                            (long long)done);
    return MELSPEC_OK;
}

melspec_status melspec_cuda_enqueue(melspec_plan *plan, const cuda_buffers *buffers,
                                    cudaStream_t stream, const float *input, int64_t n_signals,
                                    int64_t n_samples, void *output)
{
    const cuda_state *s = plan->backend_state;
    return s->transform->enqueue(plan, buffers, stream, input, n_signals, n_samples, output);
}

int64_t melspec_cuda_frames(const melspec_plan *plan, int64_t n_samples)
{
    const cuda_state *s = plan->backend_state;
    return s->transform->frames(plan, n_samples);
}

melspec_status melspec_cuda_spectrum_enqueue(melspec_plan *plan, const cuda_buffers *buffers,
                                             cudaStream_t stream, const float *input,
                                             int64_t n_signals, int64_t n_samples, void *output)
{
    const cuda_state *s = plan->backend_state;
    const melspec_stages *stages = &plan->stages;
    const melspec_frame_geometry *g = &stages->frames;
    const int64_t n_frames = melspec_stages_frame_count(stages, n_samples);
    const int64_t total_frames = n_signals * n_frames;
    if (n_frames < 1 || n_signals > buffers->batch || n_samples > buffers->samples)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL,
                            "enqueue of %lld x %lld samples outside the buffers' %lld x %lld",
                            (long long)n_signals, (long long)n_samples, (long long)buffers->batch,
                            (long long)buffers->samples);

    melspec_k_frame(input, n_signals, n_samples, n_frames, g->n_fft, s->frame_stride, g->hop,
                    g->pad, g->pad_mode, s->d_window, buffers->d_frames, stream);
    LAUNCH_CHECK("melspec_k_frame");

    float *spectrum = s->fft_into_output ? (float *)output : buffers->d_spectrum;
    FORWARD_IF_ERROR(enqueue_fft(plan, buffers, stream, total_frames, spectrum));

    const melspec_k_shape shape = {n_signals, n_frames, stages->n_bins, plan->n_freq};
    if (stages->complex_values) {
        if (s->fft_into_output) return MELSPEC_OK;
        melspec_k_stft_bins_major(spectrum, shape, (float *)output, stream);
        LAUNCH_CHECK("melspec_k_stft_bins_major");
        return MELSPEC_OK;
    }
    const melspec_k_mel *mel = stages->mel ? &s->mel : NULL;
    if (!s->needs_clip_max) {
        const melspec_k_scaling constant = {s->scale, NULL, NULL};
        melspec_k_power_spectrum(spectrum, shape, s->power, mel, stages->layout, constant,
                                 stages->dtype, output, stream);
        LAUNCH_CHECK("melspec_k_power_spectrum");
        return MELSPEC_OK;
    }

    melspec_k_scaling unscaled;
    memset(&unscaled, 0, sizeof unscaled); /* MELSPEC_SCALE_NONE */
    melspec_k_power_spectrum(spectrum, shape, s->power, mel, stages->layout, unscaled,
                             MELSPEC_DTYPE_FLOAT32, buffers->d_values, stream);
    LAUNCH_CHECK("melspec_k_power_spectrum");
    return melspec_cuda_scale_values(plan, buffers, stream, n_signals, n_frames * stages->n_bins,
                                     output);
}

melspec_status melspec_cuda_scale_values(melspec_plan *plan, const cuda_buffers *buffers,
                                         cudaStream_t stream, int64_t n_signals,
                                         int64_t clip_values, void *output)
{
    const cuda_state *s = plan->backend_state;
    const int32_t dtype = plan->stages.dtype;
    melspec_k_scaling scaling = {s->scale, NULL, NULL};
    if (!s->needs_clip_max) {
        melspec_k_scale_store(buffers->d_values, n_signals, clip_values, scaling, dtype,
                              output, stream);
        LAUNCH_CHECK("melspec_k_scale_store");
        return MELSPEC_OK;
    }
    /* about 4096 values per chunk, at most MELSPEC_K_MAX_CHUNKS chunks per clip */
    int64_t n_chunks = (clip_values + 4095) / 4096;
    if (n_chunks > MELSPEC_K_MAX_CHUNKS) n_chunks = MELSPEC_K_MAX_CHUNKS;
    melspec_k_clip_max_partial(buffers->d_values, n_signals, clip_values, n_chunks,
                               buffers->d_partial, stream);
    LAUNCH_CHECK("melspec_k_clip_max_partial");
    melspec_k_clip_reference(buffers->d_partial, n_signals, n_chunks, s->scale,
                             buffers->d_clip_offset, buffers->d_clip_floor, stream);
    LAUNCH_CHECK("melspec_k_clip_reference");
    scaling.clip_offset = buffers->d_clip_offset;
    scaling.clip_floor = s->scale.clamp ? buffers->d_clip_floor : NULL;
    melspec_k_scale_store(buffers->d_values, n_signals, clip_values, scaling, dtype, output,
                          stream);
    LAUNCH_CHECK("melspec_k_scale_store");
    return MELSPEC_OK;
}

melspec_status melspec_cuda_enqueue_frames(melspec_plan *plan, const cuda_buffers *buffers,
                                           cudaStream_t stream, const float *raw_frames,
                                           int64_t n_frames, void *output)
{
    const cuda_state *s = plan->backend_state;
    const melspec_stages *stages = &plan->stages;
    const int64_t n_fft = stages->frames.n_fft;
    if (n_frames < 1 || n_frames > buffers->total_frames || s->needs_clip_max)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL,
                            "enqueue of %lld stream frames with buffers for %lld%s",
                            (long long)n_frames, (long long)buffers->total_frames,
                            s->needs_clip_max ? " and a per-clip scaling" : "");

    /* Each raw frame is a signal of n_fft samples holding exactly one uncentred frame: the
     * framing kernel only windows it (the padding was applied when it was gathered). */
    melspec_k_frame(raw_frames, n_frames, n_fft, 1, n_fft, s->frame_stride, stages->frames.hop, 0,
                    stages->frames.pad_mode, s->d_window, buffers->d_frames, stream);
    LAUNCH_CHECK("melspec_k_frame");

    /* Frame-major spectra are the complex STFT's frames as they are stored. */
    const int stft = stages->complex_values;
    float *spectrum = stft ? (float *)output : buffers->d_spectrum;
    FORWARD_IF_ERROR(enqueue_fft(plan, buffers, stream, n_frames, spectrum));
    if (stft) return MELSPEC_OK;

    const melspec_k_shape shape = {1, n_frames, stages->n_bins, plan->n_freq};
    const melspec_k_mel *mel = stages->mel ? &s->mel : NULL;
    const melspec_k_scaling constant = {s->scale, NULL, NULL};
    melspec_k_power_spectrum(spectrum, shape, s->power, mel, MELSPEC_LAYOUT_FRAMES_MAJOR,
                             constant, stages->dtype, output, stream);
    LAUNCH_CHECK("melspec_k_power_spectrum");
    return MELSPEC_OK;
}
