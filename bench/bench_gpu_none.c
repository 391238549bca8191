/* bench_gpu.h in a build without CUDA: no device, nothing to time. */
#include "bench_gpu.h"

#include <stdio.h>

int bench_gpu_device_count(void) { return 0; }

void bench_gpu_device_name(char *name, size_t capacity)
{
    if (capacity > 0) name[0] = '\0';
}

int bench_gpu_open(bench_gpu **gpu, char *why, size_t why_capacity)
{
    *gpu = NULL;
    snprintf(why, why_capacity, "this build has no CUDA support");
    return -1;
}

void bench_gpu_close(bench_gpu *gpu) { (void)gpu; }
void *bench_gpu_stream(bench_gpu *gpu) { (void)gpu; return NULL; }
void *bench_gpu_malloc(bench_gpu *gpu, size_t bytes) { (void)gpu; (void)bytes; return NULL; }
void bench_gpu_free(bench_gpu *gpu, void *device_pointer) { (void)gpu; (void)device_pointer; }

int bench_gpu_upload(bench_gpu *gpu, void *device_pointer, const void *host, size_t bytes)
{
    (void)gpu; (void)device_pointer; (void)host; (void)bytes;
    return -1;
}

int bench_gpu_download(bench_gpu *gpu, void *host, const void *device_pointer, size_t bytes)
{
    (void)gpu; (void)host; (void)device_pointer; (void)bytes;
    return -1;
}

int bench_gpu_timer_start(bench_gpu *gpu) { (void)gpu; return -1; }

int bench_gpu_timer_stop(bench_gpu *gpu, double *seconds)
{
    (void)gpu;
    *seconds = 0.0;
    return -1;
}
