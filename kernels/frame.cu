// Framing with centre padding and the analysis window: one thread per frame sample.
#include "device_common.cuh"

namespace melspec_k {
namespace {

template <typename Index>
__global__ void frame_kernel(const float *__restrict__ signals, int64_t n_samples, Index n_frames,
                             Index frame_stride, int64_t n_fft, int64_t hop_length,
                             int64_t pad_left, int32_t pad_mode, const float *__restrict__ window,
                             float *__restrict__ frames, Index total)
{
    for (Index i = first_index<Index>(); i < total; i += grid_stride<Index>()) {
        const Index row = i / frame_stride;          // frame number over all clips
        const Index column = i - row * frame_stride; // sample within the frame
        float value = 0.0f;                          // the stride's padding stays zero
        if ((int64_t)column < n_fft) {
            const Index clip = row / n_frames;
            const Index frame = row - clip * n_frames;
            const float *signal = signals + (int64_t)clip * n_samples;
            const int64_t t = (int64_t)frame * hop_length - pad_left + (int64_t)column;
            // the end's padding sees the signal from tail_start on, as librosa pads its tail
            const int64_t tail_start =
                t >= n_samples && pad_mode == MELSPEC_PAD_REFLECT
                    ? melspec_tail_segment_start(n_samples, (int64_t)frame, n_fft, hop_length,
                                                 pad_left)
                    : 0;
            value = padded_sample(signal + tail_start, n_samples - tail_start, t - tail_start,
                                  pad_mode) *
                    window[column];
        }
        frames[i] = value;
    }
}

} // namespace
} // namespace melspec_k

extern "C" void melspec_k_frame(const float *signals, int64_t n_clips, int64_t n_samples,
                                int64_t n_frames, int64_t n_fft, int64_t frame_stride,
                                int64_t hop_length, int64_t pad_left, int32_t pad_mode,
                                const float *window, float *frames, cudaStream_t stream)
{
    using namespace melspec_k;
    const int64_t total = n_clips * n_frames * frame_stride;
    if (total <= 0) return;
    const unsigned blocks = blocks_for(total);
    if (fits_int32(total))
        frame_kernel<int32_t><<<blocks, kBlockSize, 0, stream>>>(
            signals, n_samples, (int32_t)n_frames, (int32_t)frame_stride, n_fft, hop_length,
            pad_left, pad_mode, window, frames, (int32_t)total);
    else
        frame_kernel<int64_t><<<blocks, kBlockSize, 0, stream>>>(
            signals, n_samples, n_frames, frame_stride, n_fft, hop_length, pad_left, pad_mode,
            window, frames, total);
}
