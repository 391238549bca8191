// The device side of the CPU emulation of CUDA (see README.md here): what kernels/ uses of CUDA C++
// (launch geometry, rounding intrinsics, 16-bit types, <<<>>> launches rewritten by convert.py
// into emu_launch), on the host. Included instead of cuda_runtime.h, cuda_fp16.h, cuda_bf16.h.
#pragma once
#define __global__
#define __device__
#define __host__
#define __shared__ static
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <functional>
#include <tuple>
#include <cuda_runtime_api.h> /* the real one: types and host API declarations */

struct emu_index { unsigned x, y, z; };
extern thread_local emu_index blockIdx, threadIdx;
extern emu_index blockDim, gridDim;
void __syncthreads();

inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }

struct __half { uint16_t x; };
struct __nv_bfloat16 { uint16_t x; };
inline __half __float2half_rn(float f)
{
    uint32_t x; memcpy(&x, &f, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    const uint32_t a = x & 0x7fffffffu;
    if (a > 0x7f800000u) return {(uint16_t)(sign | 0x7e00)};
    if (a >= 0x477ff000u) return {(uint16_t)(sign | 0x7c00)};
    if (a < 0x38800000u) {
        float v; memcpy(&v, &a, 4);
        return {(uint16_t)(sign | (uint16_t)nearbyintf(v * 16777216.0f))};
    }
    const uint32_t mant = a & 0x7fffff;
    const uint32_t exponent = ((a >> 23) & 0xff) - 127 + 15;
    uint32_t h = (exponent << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h += 1;
    return {(uint16_t)(sign | h)};
}
inline __nv_bfloat16 __float2bfloat16_rn(float f)
{
    uint32_t x; memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return {(uint16_t)(((x >> 16) & 0x8000) | 0x7fc0)};
    x += 0x7fffu + ((x >> 16) & 1);
    return {(uint16_t)(x >> 16)};
}

// runtime.cpp: runs op now, or records it when the stream is being captured
void emu_enqueue(cudaStream_t stream, std::function<void()> op);
void emu_run_grid(unsigned grid, unsigned block, bool threaded, const std::function<void()> &body);
void emu_launch_error(cudaError_t error);

template <class... P, class... A>
void emu_launch_impl(bool threaded, unsigned grid, unsigned block, size_t, cudaStream_t stream,
                     void (*kernel)(P...), A... args)
{
    if (grid == 0 || block == 0 || block > 1024) { emu_launch_error(cudaErrorInvalidConfiguration); return; }
    std::tuple<P...> params(static_cast<P>(args)...);
    emu_enqueue(stream, [=]() { emu_run_grid(grid, block, threaded, [&]() { std::apply(kernel, params); }); });
}
#define emu_launch(...) emu_launch_impl(false, __VA_ARGS__)
#define emu_launch_sync(...) emu_launch_impl(true, __VA_ARGS__)
