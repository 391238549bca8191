/* The benchmark's use of the CUDA runtime: device memory, a stream and event timing. Built from
 * bench_gpu_cuda.c in CUDA builds and from bench_gpu_none.c otherwise, so that bench.c has no
 * #ifdef and no CUDA header. */
#ifndef MELSPEC_BENCH_GPU_H
#define MELSPEC_BENCH_GPU_H

#include <stddef.h>

typedef struct bench_gpu bench_gpu;

/* Usable CUDA devices (0 in a build without CUDA). */
int bench_gpu_device_count(void);

/* The name of device 0 into name ("" when none). */
void bench_gpu_device_name(char *name, size_t capacity);

/* A stream and two events on device 0. Returns 0, or -1 with why. */
int bench_gpu_open(bench_gpu **gpu, char *why, size_t why_capacity);
void bench_gpu_close(bench_gpu *gpu);

/* The stream, as the void * melspec_plan_set_stream takes (a cudaStream_t). */
void *bench_gpu_stream(bench_gpu *gpu);

/* cudaMalloc / cudaFree; NULL on failure. */
void *bench_gpu_malloc(bench_gpu *gpu, size_t bytes);
void bench_gpu_free(bench_gpu *gpu, void *device_pointer);

/* Synchronous copies on the stream; 0 or -1. */
int bench_gpu_upload(bench_gpu *gpu, void *device_pointer, const void *host, size_t bytes);
int bench_gpu_download(bench_gpu *gpu, void *host, const void *device_pointer, size_t bytes);

/* CUDA events around work enqueued on the stream: start, then stop waits for the stream and
 * gives the seconds between the two events. 0 or -1. */
int bench_gpu_timer_start(bench_gpu *gpu);
int bench_gpu_timer_stop(bench_gpu *gpu, double *seconds);

#endif
