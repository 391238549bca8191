// The scaling stage when it needs each clip's maximum (ref_mode MAX, or a finite top_db): a
// two-level max reduction (chunks of a clip, then the chunks), the clip's dB offset and floor,
// then the elementwise scaling and typed store.
#include <math.h>

#include "device_common.cuh"

namespace melspec_k {
namespace {

// One block per (clip, chunk), looping when the grid is smaller. kBlockSize is a power of two.
__global__ void clip_max_partial_kernel(const float *__restrict__ values, int64_t n_clips,
                                        int64_t clip_values, int64_t n_chunks,
                                        float *__restrict__ partial)
{
    __shared__ float best[kBlockSize];
    const int64_t chunk_length = (clip_values + n_chunks - 1) / n_chunks;
    for (int64_t block = blockIdx.x; block < n_clips * n_chunks; block += gridDim.x) {
        const int64_t clip = block / n_chunks;
        const int64_t begin = (block - clip * n_chunks) * chunk_length;
        const int64_t end = begin + chunk_length < clip_values ? begin + chunk_length : clip_values;
        const float *clip_start = values + clip * clip_values;
        float m = -INFINITY;
        for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) m = fmaxf(m, clip_start[j]);
        best[threadIdx.x] = m;
        __syncthreads();
        for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
            if (threadIdx.x < half) best[threadIdx.x] = fmaxf(best[threadIdx.x], best[threadIdx.x + half]);
            __syncthreads();
        }
        if (threadIdx.x == 0) partial[block] = best[0];
        __syncthreads(); // best[] is reused by the next block of the loop
    }
}

// One thread per clip: the clip's dB offset and floor from its maximum (src/dsp/scaling.h).
__global__ void clip_reference_kernel(const float *__restrict__ partial, int64_t n_clips,
                                      int64_t n_chunks, melspec_scale_stage stage,
                                      double *__restrict__ clip_offset,
                                      float *__restrict__ clip_floor)
{
    for (int64_t clip = first_index<int64_t>(); clip < n_clips; clip += grid_stride<int64_t>()) {
        float maximum = -INFINITY;
        for (int64_t k = 0; k < n_chunks; k++) maximum = fmaxf(maximum, partial[clip * n_chunks + k]);
        const double offset = melspec_db_offset(&stage, maximum);
        clip_offset[clip] = offset;
        if (stage.clamp)
            clip_floor[clip] = melspec_db_floor(
                melspec_to_db(maximum, stage.amin_float, stage.factor, offset), stage.top_db);
    }
}

template <typename Index>
__global__ void scale_store_kernel(const float *__restrict__ values, Index clip_values,
                                   melspec_k_scaling scaling, int32_t dtype,
                                   void *__restrict__ output, Index total)
{
    for (Index i = first_index<Index>(); i < total; i += grid_stride<Index>())
        store(output, i, apply_scaling(values[i], i / clip_values, scaling), dtype);
}

} // namespace
} // namespace melspec_k

extern "C" void melspec_k_clip_max_partial(const float *values, int64_t n_clips,
                                           int64_t clip_values, int64_t n_chunks, float *partial,
                                           cudaStream_t stream)
{
    using namespace melspec_k;
    if (n_clips <= 0 || clip_values <= 0 || n_chunks <= 0) return;
    const int64_t blocks = n_clips * n_chunks;
    melspec_k::clip_max_partial_kernel<<<(unsigned)(blocks < kMaxBlocks ? blocks : kMaxBlocks),
                                         kBlockSize, 0, stream>>>(values, n_clips, clip_values,
                                                                  n_chunks, partial);
}

extern "C" void melspec_k_clip_reference(const float *partial, int64_t n_clips, int64_t n_chunks,
                                         melspec_scale_stage stage, double *clip_offset,
                                         float *clip_floor, cudaStream_t stream)
{
    using namespace melspec_k;
    if (n_clips <= 0) return;
    clip_reference_kernel<<<blocks_for(n_clips), kBlockSize, 0, stream>>>(
        partial, n_clips, n_chunks, stage, clip_offset, clip_floor);
}

extern "C" void melspec_k_scale_store(const float *values, int64_t n_clips, int64_t clip_values,
                                      melspec_k_scaling scaling, int32_t dtype, void *output,
                                      cudaStream_t stream)
{
    using namespace melspec_k;
    const int64_t total = n_clips * clip_values;
    if (total <= 0) return;
    const unsigned blocks = blocks_for(total);
    if (fits_int32(total))
        scale_store_kernel<int32_t><<<blocks, kBlockSize, 0, stream>>>(
            values, (int32_t)clip_values, scaling, dtype, output, (int32_t)total);
    else
        scale_store_kernel<int64_t><<<blocks, kBlockSize, 0, stream>>>(values, clip_values,
                                                                       scaling, dtype, output, total);
}
