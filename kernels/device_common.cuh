// Device helpers shared by the kernels/*.cu files: launch geometry, grid-stride indexing, the
// padded signal, the scaling stage and the typed store. Internal to kernels/ (no separate compilation: everything
// here is inline or a template).
#ifndef MELSPEC_KERNELS_DEVICE_COMMON_CUH
#define MELSPEC_KERNELS_DEVICE_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "kernels.h"
#include "dsp/padding.h"

namespace melspec_k {

constexpr int kBlockSize = 256;        // threads per block of every elementwise kernel
constexpr int64_t kMaxBlocks = 8192;   // grid-stride loops cover the rest

// 32-bit indexing when the whole index range, plus one grid stride, stays below 2^31.
inline bool fits_int32(int64_t n) { return n <= (int64_t(1) << 30); }

inline unsigned blocks_for(int64_t n)
{
    const int64_t blocks = (n + kBlockSize - 1) / kBlockSize;
    return (unsigned)(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

template <typename Index> __device__ __forceinline__ Index first_index()
{
    return (Index)blockIdx.x * (Index)blockDim.x + (Index)threadIdx.x;
}

template <typename Index> __device__ __forceinline__ Index grid_stride()
{
    return (Index)blockDim.x * (Index)gridDim.x;
}

// Sample t of a signal of n samples extended by pad_mode: the CPU backend's own function.
__device__ __forceinline__ float padded_sample(const float *signal, int64_t n, int64_t t,
                                               int32_t pad_mode)
{
    return melspec_padded_sample(signal, n, t, pad_mode);
}

// The dB value of one element, exactly as src/cpu/scale.c writes it: floor at amin in float,
// log10f, then factor and offset in double (explicit roundings: no fused multiply-add).
__device__ __forceinline__ float apply_scaling(float v, int64_t clip,
                                               const melspec_k_scaling &scaling)
{
    const melspec_scale_stage &stage = scaling.stage;
    switch (stage.mode) {
    case MELSPEC_SCALE_DB: {
        const double offset =
            scaling.clip_offset != nullptr ? scaling.clip_offset[clip] : stage.offset;
        float db = melspec_to_db(v, stage.amin_float, stage.factor, offset);
        if (scaling.clip_floor != nullptr) {
            const float floor_db = scaling.clip_floor[clip];
            db = db > floor_db ? db : floor_db;
        }
        return db;
    }
    case MELSPEC_SCALE_LOG: return melspec_log_value(v, stage.log_offset);
    default: return v;
    }
}

// Writes value i of the output as the plan's dtype (round to nearest even for 16-bit types).
__device__ __forceinline__ void store(void *output, int64_t i, float v, int32_t dtype)
{
    switch (dtype) {
    case MELSPEC_DTYPE_FLOAT16: static_cast<__half *>(output)[i] = __float2half_rn(v); break;
    case MELSPEC_DTYPE_BFLOAT16:
        static_cast<__nv_bfloat16 *>(output)[i] = __float2bfloat16_rn(v);
        break;
    default: static_cast<float *>(output)[i] = v; break;
    }
}

} // namespace melspec_k

#endif
