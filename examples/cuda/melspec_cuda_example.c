/*
 * melspec on device pointers: a batch of clips that is already on the GPU becomes mel features
 * on the caller's own CUDA stream. melspec_execute_device only enqueues work: nothing waits on
 * the host until this program asks for the result, so the features can feed a model running on
 * the same stream without a round trip.
 *
 * The config is the real-time avatar/TTS one (16 kHz, 50 ms windows every 12.5 ms, 80 mels
 * from 55 to 7600 Hz, magnitudes) with frame-major output, what models consume.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <cuda_runtime_api.h>

#include "melspec.h"
#include "melspec_cuda.h"

#define CUDA_OK(call)                                                                     \
    do {                                                                                  \
        const cudaError_t error_ = (call);                                                \
        if (error_ != cudaSuccess) {                                                      \
            fprintf(stderr, "%s: %s\n", #call, cudaGetErrorString(error_));               \
            return 1;                                                                     \
        }                                                                                 \
    } while (0)

#define MELSPEC_OK(plan, call)                                                            \
    do {                                                                                  \
        if ((call) != MELSPEC_OK) {                                                       \
            fprintf(stderr, "%s: %s\n", #call, melspec_plan_last_error(plan));            \
            return 1;                                                                     \
        }                                                                                 \
    } while (0)

enum { N_CLIPS = 8, N_SAMPLES = 16000, N_CALLS = 100 };
static const double two_pi = 6.283185307179586;

int main(void)
{
    if (melspec_cuda_device_count() == 0) {
        fprintf(stderr, "melspec_cuda_example: no CUDA device (compiled with CUDA: %s)\n",
                melspec_cuda_compiled() ? "yes" : "no");
        return 77; /* "skipped", as the GPU tests say it (ctest SKIP_RETURN_CODE) */
    }

    /* 1. A plan sized for the largest call it will see: every buffer is allocated here, none
     *    in the calls below. */
    melspec_config config;
    melspec_config_init(&config);
    config.backend = MELSPEC_BACKEND_CUDA;
    config.sample_rate = 16000.0;
    config.n_fft = 800;
    config.hop_length = 200;
    config.n_mels = 80;
    config.fmin = 55.0;
    config.fmax = 7600.0;
    config.power = 1.0;
    config.scaling = MELSPEC_SCALING_LOG; /* log(mel + log_offset) */
    config.log_offset = 1e-5;
    config.layout = MELSPEC_LAYOUT_FRAMES_MAJOR; /* (clip, frame, mel) */
    config.max_batch = N_CLIPS;
    config.max_samples = N_SAMPLES;
    /* config.output_dtype = MELSPEC_DTYPE_FLOAT16 would halve the output for an fp16 model */
    char message[256];
    melspec_plan *plan = NULL;
    if (melspec_plan_create(&plan, &config, message, sizeof message) != MELSPEC_OK) {
        fprintf(stderr, "melspec_plan_create: %s\n", message);
        return 1;
    }

    /* 2. The caller's stream: melspec runs its work there, in order with everything else. */
    cudaStream_t stream;
    CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    MELSPEC_OK(plan, melspec_plan_set_cuda_stream(plan, stream));

    /* 3. Device buffers for the input (clip after clip) and the output. */
    int64_t n_mels, n_frames;
    size_t output_bytes;
    MELSPEC_OK(plan, melspec_plan_output_shape(plan, N_SAMPLES, &n_mels, &n_frames));
    MELSPEC_OK(plan, melspec_plan_output_bytes(plan, N_CLIPS, N_SAMPLES, &output_bytes));
    float *clips = NULL, *features = NULL, *host = NULL;
    CUDA_OK(cudaMalloc((void **)&clips, (size_t)N_CLIPS * N_SAMPLES * sizeof *clips));
    CUDA_OK(cudaMalloc((void **)&features, output_bytes));
    CUDA_OK(cudaMallocHost((void **)&host, (size_t)N_CLIPS * N_SAMPLES * sizeof *host));

    /* Test audio: clip c is a tone at 220 (c + 1) Hz. */
    for (int c = 0; c < N_CLIPS; c++)
        for (int i = 0; i < N_SAMPLES; i++)
            host[c * N_SAMPLES + i] = 0.5f * (float)sin(two_pi * 220.0 * (c + 1) * i / 16000.0);
    CUDA_OK(cudaMemcpyAsync(clips, host, (size_t)N_CLIPS * N_SAMPLES * sizeof *host,
                            cudaMemcpyHostToDevice, stream));

    /* 4. Repeated calls of one shape: the first captures a CUDA graph, the others replay it. */
    cudaEvent_t start, stop;
    CUDA_OK(cudaEventCreate(&start));
    CUDA_OK(cudaEventCreate(&stop));
    MELSPEC_OK(plan, melspec_execute_device(plan, clips, N_CLIPS, N_SAMPLES, features,
                                            output_bytes));
    CUDA_OK(cudaEventRecord(start, stream));
    for (int call = 0; call < N_CALLS; call++)
        MELSPEC_OK(plan, melspec_execute_device(plan, clips, N_CLIPS, N_SAMPLES, features,
                                                output_bytes));
    CUDA_OK(cudaEventRecord(stop, stream));

    /* 5. Only now does the host wait: copy the features back and look at them. */
    float *result = malloc(output_bytes);
    if (result == NULL) return 1;
    CUDA_OK(cudaMemcpyAsync(result, features, output_bytes, cudaMemcpyDeviceToHost, stream));
    CUDA_OK(cudaStreamSynchronize(stream));
    float milliseconds = 0.0f;
    CUDA_OK(cudaEventElapsedTime(&milliseconds, start, stop));
    printf("%d clips x %d samples -> %d x %lld frames x %lld mels: %.1f us per call (GPU time)\n",
           N_CLIPS, N_SAMPLES, N_CLIPS, (long long)n_frames, (long long)n_mels,
           1000.0f * milliseconds / N_CALLS);
    for (int c = 0; c < N_CLIPS; c += 3) {
        /* the loudest mel band of the middle frame rises with the tone */
        const float *frame = result + ((size_t)c * (size_t)n_frames + (size_t)n_frames / 2) * (size_t)n_mels;
        int loudest = 0;
        for (int m = 1; m < n_mels; m++)
            if (frame[m] > frame[loudest]) loudest = m;
        printf("clip %d (%4d Hz): loudest mel band %2d, log magnitude %.2f\n", c, 220 * (c + 1),
               loudest, frame[loudest]);
    }

    free(result);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    cudaFreeHost(host);
    cudaFree(clips);
    cudaFree(features);
    melspec_plan_destroy(plan); /* waits for the plan's queued work; never destroys the stream */
    cudaStreamDestroy(stream);
    return 0;
}
