/* bench_gpu.h on the CUDA runtime (compiled only when MELSPEC_WITH_CUDA). */
#include "bench_gpu.h"

#include <stdio.h>
#include <stdlib.h>

#include <cuda_runtime.h>

struct bench_gpu {
    cudaStream_t stream;
    cudaEvent_t start, stop;
};

int bench_gpu_device_count(void)
{
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        (void)cudaGetLastError(); /* no driver: clear the sticky error, report none */
        return 0;
    }
    return count;
}

void bench_gpu_device_name(char *name, size_t capacity)
{
    struct cudaDeviceProp properties;
    if (capacity == 0) return;
    name[0] = '\0';
    if (bench_gpu_device_count() > 0 && cudaGetDeviceProperties(&properties, 0) == cudaSuccess)
        snprintf(name, capacity, "%s", properties.name);
}

int bench_gpu_open(bench_gpu **gpu_out, char *why, size_t why_capacity)
{
    *gpu_out = NULL;
    bench_gpu *gpu = calloc(1, sizeof *gpu);
    if (gpu == NULL) {
        snprintf(why, why_capacity, "out of memory");
        return -1;
    }
    cudaError_t error = cudaSetDevice(0);
    if (error == cudaSuccess) error = cudaStreamCreateWithFlags(&gpu->stream, cudaStreamNonBlocking);
    if (error == cudaSuccess) error = cudaEventCreate(&gpu->start);
    if (error == cudaSuccess) error = cudaEventCreate(&gpu->stop);
    if (error != cudaSuccess) {
        snprintf(why, why_capacity, "CUDA: %s", cudaGetErrorString(error));
        bench_gpu_close(gpu);
        return -1;
    }
    *gpu_out = gpu;
    return 0;
}

void bench_gpu_close(bench_gpu *gpu)
{
    if (gpu == NULL) return;
    if (gpu->start != NULL) cudaEventDestroy(gpu->start);
    if (gpu->stop != NULL) cudaEventDestroy(gpu->stop);
    if (gpu->stream != NULL) cudaStreamDestroy(gpu->stream);
    free(gpu);
}

void *bench_gpu_stream(bench_gpu *gpu) { return gpu == NULL ? NULL : (void *)gpu->stream; }

void *bench_gpu_malloc(bench_gpu *gpu, size_t bytes)
{
    (void)gpu;
    void *pointer = NULL;
    return cudaMalloc(&pointer, bytes) == cudaSuccess ? pointer : NULL;
}

void bench_gpu_free(bench_gpu *gpu, void *device_pointer)
{
    (void)gpu;
    if (device_pointer != NULL) cudaFree(device_pointer);
}

int bench_gpu_upload(bench_gpu *gpu, void *device_pointer, const void *host, size_t bytes)
{
    if (cudaMemcpyAsync(device_pointer, host, bytes, cudaMemcpyHostToDevice, gpu->stream) !=
        cudaSuccess)
        return -1;
    return cudaStreamSynchronize(gpu->stream) == cudaSuccess ? 0 : -1;
}

int bench_gpu_download(bench_gpu *gpu, void *host, const void *device_pointer, size_t bytes)
{
    if (cudaMemcpyAsync(host, device_pointer, bytes, cudaMemcpyDeviceToHost, gpu->stream) !=
        cudaSuccess)
        return -1;
    return cudaStreamSynchronize(gpu->stream) == cudaSuccess ? 0 : -1;
}

int bench_gpu_timer_start(bench_gpu *gpu)
{
    return cudaEventRecord(gpu->start, gpu->stream) == cudaSuccess ? 0 : -1;
}

int bench_gpu_timer_stop(bench_gpu *gpu, double *seconds)
{
    float milliseconds = 0.0f;
    *seconds = 0.0;
    if (cudaEventRecord(gpu->stop, gpu->stream) != cudaSuccess) return -1;
    if (cudaEventSynchronize(gpu->stop) != cudaSuccess) return -1;
    if (cudaEventElapsedTime(&milliseconds, gpu->start, gpu->stop) != cudaSuccess) return -1;
    *seconds = 1e-3 * (double)milliseconds;
    return 0;
}
