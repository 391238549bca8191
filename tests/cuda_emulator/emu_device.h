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
#include <utility>
#include <vector>
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

// A kernel launch as CUDA keeps it in a graph's kernel node: the function, the launch geometry
// and the argument values laid out as the device sees them (each at its own alignment), so that
// cudaGraphKernelNodeGetParams / cudaGraphExecKernelNodeSetParams / cudaFuncGetParamInfo work on
// it as on a GPU. `run` rebuilds the typed arguments from the bytes and runs the grid.
struct emu_kernel_launch {
    const void *func = nullptr;
    unsigned grid = 0, block = 0;
    bool threaded = false;
    std::vector<unsigned char> args;
    std::vector<size_t> offsets, sizes;
    void (*run)(const emu_kernel_launch &launch) = nullptr;
};
void emu_enqueue_kernel(cudaStream_t stream, emu_kernel_launch launch);

template <class... P, size_t... I>
void emu_run_kernel_impl(const emu_kernel_launch &l, std::index_sequence<I...>)
{
    void (*kernel)(P...) = reinterpret_cast<void (*)(P...)>(const_cast<void *>(l.func));
    std::tuple<P...> params;
    (memcpy((void *)&std::get<I>(params), l.args.data() + l.offsets[I], sizeof(P)), ...);
    emu_run_grid(l.grid, l.block, l.threaded, [&]() { std::apply(kernel, params); });
}
template <class... P> void emu_run_kernel(const emu_kernel_launch &l)
{
    emu_run_kernel_impl<P...>(l, std::index_sequence_for<P...>{});
}

template <class... P, class... A>
void emu_launch_impl(bool threaded, unsigned grid, unsigned block, size_t, cudaStream_t stream,
                     void (*kernel)(P...), A... args)
{
    if (grid == 0 || block == 0 || block > 1024) { emu_launch_error(cudaErrorInvalidConfiguration); return; }
    std::tuple<P...> params(static_cast<P>(args)...);
    emu_kernel_launch l;
    l.func = reinterpret_cast<const void *>(kernel);
    l.grid = grid;
    l.block = block;
    l.threaded = threaded;
    size_t offset = 0;
    std::apply([&](const auto &...param) {
        ((offset = (offset + alignof(decltype(param)) - 1) / alignof(decltype(param)) *
                   alignof(decltype(param)),
          l.offsets.push_back(offset), l.sizes.push_back(sizeof(param)), offset += sizeof(param)),
         ...);
    }, params);
    l.args.assign(offset, 0);
    size_t index = 0;
    std::apply([&](const auto &...param) {
        ((memcpy(l.args.data() + l.offsets[index], (const void *)&param, sizeof(param)), index++), ...);
    }, params);
    l.run = &emu_run_kernel<P...>;
    emu_enqueue_kernel(stream, std::move(l));
}
#define emu_launch(...) emu_launch_impl(false, __VA_ARGS__)
#define emu_launch_sync(...) emu_launch_impl(true, __VA_ARGS__)
