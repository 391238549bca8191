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

/* R2C transforms of n_frames frames from buffers->d_frames into buffers->d_spectrum: one
 * execution of the exact plan (or of the full-capacity one, see cuda_buffers.c). */
static melspec_status enqueue_fft(melspec_plan *plan, const cuda_buffers *buffers,
                                  cudaStream_t stream, int64_t n_frames)
{
    enum cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    CUDA_TRY(cudaStreamIsCapturing(stream, &capture));
    cufftHandle fft;
    int64_t batch;
    /* the plan cache is the one part of the buffers a call changes (never while capturing) */
    FORWARD_IF_ERROR(melspec_cuda_fft_plan(plan, (cuda_buffers *)buffers, n_frames,
                                           capture != cudaStreamCaptureStatusNone, &fft, &batch));
    CUFFT_TRY(cufftSetStream(fft, stream));
    CUFFT_TRY(cufftExecR2C(fft, buffers->d_frames, (cufftComplex *)buffers->d_spectrum));
    return MELSPEC_OK;
}

/* MELSPEC_MEL_PRODUCT_GEMM: |X|^power of every frame into the (now free) frames buffer, n_freq
 * floats per frame, then cuBLAS multiplies by the dense filterbank into buffers->d_values in the
 * output's layout, unscaled; the caller then runs the scaling stage (melspec_cuda_scale_values).
 * Column-major view: P is n_freq x F (ld n_freq), W is n_freq x n_mels (the row-major n_mels x
 * n_freq filterbank, ld n_freq). Frames-major output, n_mels x F (ld n_mels): W^T P, one SGEMM
 * over every frame of every clip. Bins-major, per clip n_frames x n_mels (ld n_frames): P_c^T W,
 * a strided batch over the clips with W shared (stride 0). */
static melspec_status enqueue_mel_gemm(melspec_plan *plan, const cuda_buffers *buffers,
                                       cudaStream_t stream, melspec_k_shape shape, int32_t layout)
{
    const cuda_state *s = plan->backend_state;
    const int64_t n_freq = plan->n_freq, n_mels = shape.n_bins;
    const int64_t total_frames = shape.n_clips * shape.n_frames;
    if (total_frames > INT32_MAX || n_freq > INT32_MAX || n_mels > INT32_MAX)
        return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                            "mel_product = GEMM: %lld frames exceed cuBLAS's 32-bit sizes; use "
                            "MELSPEC_MEL_PRODUCT_SPARSE",
                            (long long)total_frames);
    const melspec_k_shape linear = {shape.n_clips, shape.n_frames, n_freq, n_freq};
    melspec_k_scaling unscaled;
    memset(&unscaled, 0, sizeof unscaled); /* MELSPEC_SCALE_NONE */
    float *power = buffers->d_frames;
    melspec_k_power_spectrum(buffers->d_spectrum, linear, s->power, NULL,
                             MELSPEC_LAYOUT_FRAMES_MAJOR, unscaled, MELSPEC_DTYPE_FLOAT32, power,
                             stream);
    LAUNCH_CHECK("melspec_k_power_spectrum");
    const float one = 1.0f, zero = 0.0f;
    CUBLAS_TRY(cublasSetStream(s->cublas, stream));
    /* cublasSetStream puts cuBLAS back on its default workspace pool, which may allocate */
    CUBLAS_TRY(cublasSetWorkspace(s->cublas, s->d_cublas_work, s->cublas_work_bytes));
    if (layout == MELSPEC_LAYOUT_FRAMES_MAJOR)
        CUBLAS_TRY(cublasSgemm(s->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)n_mels, (int)total_frames,
                               (int)n_freq, &one, s->d_filterbank, (int)n_freq, power,
                               (int)n_freq, &zero, buffers->d_values, (int)n_mels));
    else
        CUBLAS_TRY(cublasSgemmStridedBatched(
            s->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)shape.n_frames, (int)n_mels, (int)n_freq,
            &one, power, (int)n_freq, (long long)(shape.n_frames * n_freq), s->d_filterbank,
            (int)n_freq, 0, &zero, buffers->d_values, (int)shape.n_frames,
            (long long)(shape.n_frames * n_mels), (int)shape.n_clips));
    return MELSPEC_OK;
}

static melspec_status scale_values_as(melspec_plan *plan, const cuda_buffers *buffers,
                                      cudaStream_t stream, int64_t n_signals, int64_t clip_values,
                                      int32_t dtype, void *output);

/* The feature stage (issue 15): the scaled float32 values of every clip (spectrum_bins rows in
 * the plan's layout) -> the caller's output. */
static melspec_status enqueue_feature(melspec_plan *plan, cudaStream_t stream,
                                      const float *scaled, int64_t n_signals, int64_t n_frames,
                                      void *output)
{
    const cuda_state *s = plan->backend_state;
    const melspec_stages *stages = &plan->stages;
    const melspec_k_feature_shape shape = {n_signals, n_frames, stages->spectrum_bins,
                                           stages->n_bins};
    if (stages->feature == MELSPEC_FEATURE_MFCC) {
        melspec_k_mfcc(scaled, shape, s->d_mfcc_basis, stages->layout, stages->dtype, output,
                       stream);
        LAUNCH_CHECK("melspec_k_mfcc");
    } else {
        melspec_k_pcen(scaled, shape, stages->pcen, stages->layout, stages->dtype, output,
                       stream);
        LAUNCH_CHECK("melspec_k_pcen");
    }
    return MELSPEC_OK;
}

/* Feature plans: the values, scaled, in float32 (in d_values, or in its second half when the
 * scaling is a pass of its own), then the feature stage. */
static melspec_status enqueue_with_feature(melspec_plan *plan, const cuda_buffers *buffers,
                                           cudaStream_t stream, melspec_k_shape shape,
                                           void *output)
{
    const cuda_state *s = plan->backend_state;
    const melspec_stages *stages = &plan->stages;
    const int64_t clip_values = shape.n_frames * shape.n_bins;
    float *const second_half = buffers->d_values + buffers->total_frames * shape.n_bins;
    const float *scaled = buffers->d_values;
    if (stages->mel && stages->mel_product == MELSPEC_MEL_PRODUCT_GEMM) {
        FORWARD_IF_ERROR(enqueue_mel_gemm(plan, buffers, stream, shape, stages->layout));
        if (s->scale.mode != MELSPEC_SCALE_NONE) {
            FORWARD_IF_ERROR(scale_values_as(plan, buffers, stream, shape.n_clips, clip_values,
                                             MELSPEC_DTYPE_FLOAT32, second_half));
            scaled = second_half;
        }
    } else {
        const melspec_k_mel *mel = stages->mel ? &s->mel : NULL;
        melspec_k_scaling scaling = {s->scale, NULL, NULL};
        if (s->needs_clip_max) memset(&scaling, 0, sizeof scaling); /* MELSPEC_SCALE_NONE */
        melspec_k_power_spectrum(buffers->d_spectrum, shape, s->power, mel, stages->layout,
                                 scaling, MELSPEC_DTYPE_FLOAT32, buffers->d_values, stream);
        LAUNCH_CHECK("melspec_k_power_spectrum");
        if (s->needs_clip_max) {
            FORWARD_IF_ERROR(scale_values_as(plan, buffers, stream, shape.n_clips, clip_values,
                                             MELSPEC_DTYPE_FLOAT32, second_half));
            scaled = second_half;
        }
    }
    return enqueue_feature(plan, stream, scaled, shape.n_clips, shape.n_frames, output);
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

    FORWARD_IF_ERROR(enqueue_fft(plan, buffers, stream, total_frames));
    const float *spectrum = buffers->d_spectrum;

    /* the rows the spectrum has (n_bins but for MFCC, whose stage comes after) */
    const melspec_k_shape shape = {n_signals, n_frames, stages->spectrum_bins, plan->n_freq};
    if (stages->feature != MELSPEC_FEATURE_NONE)
        return enqueue_with_feature(plan, buffers, stream, shape, output);
    if (stages->complex_values) {
        /* a kernel, not cuFFT, writes the caller's output (the rule in cuda_internal.h) */
        if (stages->layout == MELSPEC_LAYOUT_FRAMES_MAJOR) {
            melspec_k_stft_frames_major(spectrum, shape, (float *)output, stream);
            LAUNCH_CHECK("melspec_k_stft_frames_major");
        } else {
            melspec_k_stft_bins_major(spectrum, shape, (float *)output, stream);
            LAUNCH_CHECK("melspec_k_stft_bins_major");
        }
        return MELSPEC_OK;
    }
    if (stages->mel && stages->mel_product == MELSPEC_MEL_PRODUCT_GEMM) {
        FORWARD_IF_ERROR(enqueue_mel_gemm(plan, buffers, stream, shape, stages->layout));
        return melspec_cuda_scale_values(plan, buffers, stream, n_signals,
                                         n_frames * stages->n_bins, output);
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
    return scale_values_as(plan, buffers, stream, n_signals, clip_values, plan->stages.dtype,
                           output);
}

/* The scaling of buffers->d_values into output as dtype. */
static melspec_status scale_values_as(melspec_plan *plan, const cuda_buffers *buffers,
                                      cudaStream_t stream, int64_t n_signals, int64_t clip_values,
                                      int32_t dtype, void *output)
{
    const cuda_state *s = plan->backend_state;
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

    FORWARD_IF_ERROR(enqueue_fft(plan, buffers, stream, n_frames));
    const float *spectrum = buffers->d_spectrum;
    /* a feature plan's stream frames are its scaled float32 values: src/stream.c applies the
     * feature stage with each stream's state */
    const melspec_k_shape shape = {1, n_frames, stages->spectrum_bins, plan->n_freq};
    const int32_t dtype =
        stages->feature != MELSPEC_FEATURE_NONE ? MELSPEC_DTYPE_FLOAT32 : stages->dtype;
    if (stages->complex_values) {
        melspec_k_stft_frames_major(spectrum, shape, (float *)output, stream);
        LAUNCH_CHECK("melspec_k_stft_frames_major");
        return MELSPEC_OK;
    }
    if (stages->mel && stages->mel_product == MELSPEC_MEL_PRODUCT_GEMM) {
        FORWARD_IF_ERROR(
            enqueue_mel_gemm(plan, buffers, stream, shape, MELSPEC_LAYOUT_FRAMES_MAJOR));
        return scale_values_as(plan, buffers, stream, 1, n_frames * shape.n_bins, dtype, output);
    }

    const melspec_k_mel *mel = stages->mel ? &s->mel : NULL;
    const melspec_k_scaling constant = {s->scale, NULL, NULL};
    melspec_k_power_spectrum(spectrum, shape, s->power, mel, MELSPEC_LAYOUT_FRAMES_MAJOR,
                             constant, dtype, output, stream);
    LAUNCH_CHECK("melspec_k_power_spectrum");
    return MELSPEC_OK;
}
