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

/* The cuFFT plans of 1, 2, 4, ... frames up to total_frames, sharing one work area. */
static melspec_status make_fft_plans(melspec_plan *plan, cuda_buffers *b)
{
    const cuda_state *s = plan->backend_state;
    long long n[1] = {(long long)plan->stages.frames.n_fft};
    long long input_embed[1] = {(long long)s->frame_stride};
    long long output_embed[1] = {(long long)plan->n_freq};
    const int basic_layout = s->frame_stride == plan->stages.frames.n_fft;
    size_t work_bytes = 0;
    for (int k = 0; k < MELSPEC_CUDA_MAX_FFT_PLANS && ((int64_t)1 << k) <= b->total_frames; k++) {
        cufftHandle fft;
        CUFFT_TRY(cufftCreate(&fft));
        b->fft_plans[k] = fft;
        b->fft_plan_made[k] = 1;
        b->fft_batch[k] = (int64_t)1 << k;
        b->n_fft_plans = k + 1;
        CUFFT_TRY(cufftSetAutoAllocation(fft, 0));
        size_t plan_work = 0;
        CUFFT_TRY(cufftMakePlanMany64(fft, 1, n, basic_layout ? NULL : input_embed, 1,
                                      s->frame_stride, basic_layout ? NULL : output_embed, 1,
                                      plan->n_freq, CUFFT_R2C, b->fft_batch[k], &plan_work));
        if (plan_work > work_bytes) work_bytes = plan_work;
    }
    FORWARD_IF_ERROR(device_alloc(plan, &b->d_fft_work, work_bytes, "the cuFFT work area"));
    for (int k = 0; k < b->n_fft_plans; k++) CUFFT_TRY(cufftSetWorkArea(b->fft_plans[k], b->d_fft_work));
    return MELSPEC_OK;
}

/* Runs every FFT plan and every kernel of the pipeline once, on zeros, so that module loading
 * and first-use setup happen here rather than in the first execute or under graph capture. */
static melspec_status warm_up(melspec_plan *plan, cuda_buffers *b, size_t input_bytes,
                              size_t frames_bytes)
{
    const cuda_state *s = plan->backend_state;
    const cudaStream_t stream = s->capture_stream;
    CUDA_TRY(cudaMemsetAsync(b->d_input, 0, input_bytes, stream));
    if (b->d_frames != NULL) CUDA_TRY(cudaMemsetAsync(b->d_frames, 0, frames_bytes, stream));
    float *spectrum = s->fft_into_output ? (float *)b->d_output : b->d_spectrum;
    for (int k = 0; k < b->n_fft_plans; k++) {
        CUFFT_TRY(cufftSetStream(b->fft_plans[k], stream));
        CUFFT_TRY(cufftExecR2C(b->fft_plans[k], b->d_frames, (cufftComplex *)spectrum));
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
    const size_t values_bytes = product(&ok, total_frames, (size_t)stages->n_bins, sizeof(float));
    b->output_bytes = product(&ok, total_frames, (size_t)stages->n_bins, stages->value_bytes);
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
    if (uses_fft && !s->fft_into_output)
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
    if (uses_fft) FORWARD_IF_ERROR(make_fft_plans(plan, b));
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
    for (int k = 0; k < MELSPEC_CUDA_MAX_FFT_PLANS; k++)
        if (b->fft_plan_made[k]) cufftDestroy(b->fft_plans[k]);
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
