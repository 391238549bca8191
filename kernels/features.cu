// The feature stage (issue 15) after the scaling: MFCC (one thread per output coefficient: the
// basis row times the frame) and PCEN (one thread per clip and bin, walking its frames in time
// order with the smoother's state in a register), reading the scaled float32 values and writing
// the output in the plan's layout and dtype. The arithmetic is src/dsp/mfcc.h's and
// src/dsp/pcen.h's, the same functions the CPU backend and the streams call.
#include "device_common.cuh"
#include "dsp/mfcc.h"
#include "dsp/pcen.h"

namespace melspec_k {
namespace {

// Where value (bin, frame) of a clip of n_rows x n_frames lies in the layout.
__device__ __forceinline__ int64_t at(int32_t layout, int64_t n_rows, int64_t n_frames,
                                      int64_t row, int64_t frame)
{
    return layout == MELSPEC_LAYOUT_FRAMES_MAJOR ? frame * n_rows + row : row * n_frames + frame;
}

__global__ void mfcc_kernel(const float *__restrict__ values, melspec_k_feature_shape shape,
                            const double *__restrict__ basis, int32_t layout, int32_t dtype,
                            void *__restrict__ output)
{
    const int64_t per_clip = shape.n_out * shape.n_frames;
    const int64_t total = shape.n_clips * per_clip;
    const int64_t stride = layout == MELSPEC_LAYOUT_FRAMES_MAJOR ? 1 : shape.n_frames;
    for (int64_t i = first_index<int64_t>(); i < total; i += grid_stride<int64_t>()) {
        const int64_t clip = i / per_clip, rest = i - clip * per_clip;
        const int64_t k = rest % shape.n_out, t = rest / shape.n_out;
        const float *clip_values = values + clip * shape.n_in * shape.n_frames;
        const float *frame = clip_values + at(layout, shape.n_in, shape.n_frames, 0, t);
        const float v = melspec_mfcc_value(basis + k * shape.n_in, frame, stride, shape.n_in);
        store(output, clip * per_clip + at(layout, shape.n_out, shape.n_frames, k, t), v, dtype);
    }
}

__global__ void pcen_kernel(const float *__restrict__ values, melspec_k_feature_shape shape,
                            melspec_pcen_stage stage, int32_t layout, int32_t dtype,
                            void *__restrict__ output)
{
    const int64_t total = shape.n_clips * shape.n_in;
    const int64_t per_clip = shape.n_in * shape.n_frames;
    const int64_t stride = layout == MELSPEC_LAYOUT_FRAMES_MAJOR ? 1 : shape.n_frames;
    for (int64_t i = first_index<int64_t>(); i < total; i += grid_stride<int64_t>()) {
        const int64_t clip = i / shape.n_in, bin = i - clip * shape.n_in;
        const float *clip_values = values + clip * per_clip;
        double state = stage.initial_state;
        for (int64_t t = 0; t < shape.n_frames; t++) {
            const float *frame = clip_values + at(layout, shape.n_in, shape.n_frames, 0, t);
            const float v = melspec_pcen_value(
                &stage, frame[bin * stride],
                melspec_pcen_reference(&stage, frame, stride, shape.n_in, bin), &state);
            store(output, clip * per_clip + at(layout, shape.n_in, shape.n_frames, bin, t), v,
                  dtype);
        }
    }
}

} // namespace
} // namespace melspec_k

extern "C" void melspec_k_mfcc(const float *values, melspec_k_feature_shape shape,
                               const double *basis, int32_t layout, int32_t dtype, void *output,
                               cudaStream_t stream)
{
    using namespace melspec_k;
    const int64_t total = shape.n_clips * shape.n_out * shape.n_frames;
    if (total <= 0) return;
    mfcc_kernel<<<blocks_for(total), kBlockSize, 0, stream>>>(values, shape, basis, layout, dtype,
                                                              output);
}

extern "C" void melspec_k_pcen(const float *values, melspec_k_feature_shape shape,
                               melspec_pcen_stage stage, int32_t layout, int32_t dtype,
                               void *output, cudaStream_t stream)
{
    using namespace melspec_k;
    const int64_t total = shape.n_clips * shape.n_in;
    if (total <= 0 || shape.n_frames <= 0) return;
    pcen_kernel<<<blocks_for(total), kBlockSize, 0, stream>>>(values, shape, stage, layout, dtype,
                                                              output);
}
