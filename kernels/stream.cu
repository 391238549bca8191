// Streams with their rings on the device: a step's windows (ring + uploaded samples) and its raw
// frames, for every stream of a melspec_stream_push_many at once (src/cuda/cuda_stream.c).
#include "device_common.cuh"
#include "dsp/framing.h"

namespace melspec_k {
namespace {

// The stream whose range [offset, offset + length) holds index i: the last one whose offset is
// <= i (offsets grow with the stream number; an empty range shares its offset with the next).
template <typename Offset>
__device__ __forceinline__ int64_t stream_of(const melspec_k_stream_step *steps,
                                             int64_t n_streams, int64_t i, Offset offset)
{
    int64_t low = 0, high = n_streams - 1;
    while (low < high) {
        const int64_t middle = (low + high + 1) / 2;
        if (offset(steps[middle]) <= i) low = middle;
        else high = middle - 1;
    }
    return low;
}

struct window_offset_of {
    __device__ int64_t operator()(const melspec_k_stream_step &s) const { return s.window_offset; }
};
struct frame_offset_of {
    __device__ int64_t operator()(const melspec_k_stream_step &s) const { return s.frame_offset; }
};

__global__ void stream_windows_kernel(const melspec_k_stream_step *__restrict__ steps,
                                      int64_t n_streams, const float *__restrict__ uploaded,
                                      float *__restrict__ window, int64_t n_window)
{
    for (int64_t i = first_index<int64_t>(); i < n_window; i += grid_stride<int64_t>()) {
        const melspec_k_stream_step &s = steps[stream_of(steps, n_streams, i, window_offset_of())];
        const int64_t t = s.window_first + (i - s.window_offset);
        window[i] = t < s.upload_from ? s.ring[t - s.ring_first]
                                      : uploaded[s.upload_offset + (t - s.upload_from)];
    }
}

// Indices below n_frames n_fft are frame samples, the n_window after them the rings' new
// contents: one launch does both, since neither reads what the other writes.
__global__ void stream_frames_kernel(const melspec_k_stream_step *__restrict__ steps,
                                     int64_t n_streams, const float *__restrict__ window,
                                     int64_t n_window, int64_t n_frames, int64_t n_fft,
                                     int64_t hop_length, int64_t pad, int32_t pad_mode,
                                     float *__restrict__ raw)
{
    const int64_t n_raw = n_frames * n_fft;
    for (int64_t i = first_index<int64_t>(); i < n_raw + n_window; i += grid_stride<int64_t>()) {
        if (i < n_raw) {
            const int64_t q = i / n_fft, k = i - q * n_fft;
            const melspec_k_stream_step &s =
                steps[stream_of(steps, n_streams, q, frame_offset_of())];
            const float *samples = window + s.window_offset;
            raw[i] = melspec_frame_sample(n_fft, hop_length, pad, pad_mode, samples,
                                          s.window_first, s.n_signal,
                                          s.first_frame + (q - s.frame_offset), k);
        } else {
            const int64_t w = i - n_raw;
            const melspec_k_stream_step &s =
                steps[stream_of(steps, n_streams, w, window_offset_of())];
            const int64_t t = s.window_first + (w - s.window_offset);
            if (t >= s.keep_from) s.ring[t - s.keep_from] = window[w];
        }
    }
}

} // namespace
} // namespace melspec_k

extern "C" void melspec_k_stream_windows(const melspec_k_stream_step *steps, int64_t n_streams,
                                         const float *uploaded, float *window, int64_t n_window,
                                         cudaStream_t stream)
{
    using namespace melspec_k;
    if (n_streams <= 0 || n_window <= 0) return;
    stream_windows_kernel<<<blocks_for(n_window), kBlockSize, 0, stream>>>(
        steps, n_streams, uploaded, window, n_window);
}

extern "C" void melspec_k_stream_frames(const melspec_k_stream_step *steps, int64_t n_streams,
                                        const float *window, int64_t n_window, int64_t n_frames,
                                        int64_t n_fft, int64_t hop_length, int64_t pad,
                                        int32_t pad_mode, float *raw, cudaStream_t stream)
{
    using namespace melspec_k;
    const int64_t total = n_frames * n_fft + n_window;
    if (n_streams <= 0 || total <= 0) return;
    stream_frames_kernel<<<blocks_for(total), kBlockSize, 0, stream>>>(
        steps, n_streams, window, n_window, n_frames, n_fft, hop_length, pad, pad_mode, raw);
}
