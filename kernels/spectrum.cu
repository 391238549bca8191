// From the FFT's spectra to output values: |X|^power, the sparse mel product, the elementwise
// scaling and the layout, fused into one pass with one thread per output value. Threads run along
// the output's fastest axis so that the stores are coalesced in either layout.
#include "device_common.cuh"

namespace melspec_k {
namespace {

// |x|^power with the CPU's arithmetic (src/dsp/scaling.h, no fused multiply-add).
__device__ __forceinline__ float spectral_power(float2 x, const melspec_k_power &power)
{
    return melspec_power_value(x.x, x.y, power);
}

// Splits output index r within a clip into (bin, frame) for the layout.
template <typename Index>
__device__ __forceinline__ void bin_and_frame(Index r, Index n_bins, Index n_frames,
                                              int32_t layout, Index *bin, Index *frame)
{
    if (layout == MELSPEC_LAYOUT_FRAMES_MAJOR) {
        *frame = r / n_bins;
        *bin = r - *frame * n_bins;
    } else {
        *bin = r / n_frames;
        *frame = r - *bin * n_frames;
    }
}

template <typename Index>
__global__ void power_spectrum_kernel(const float2 *__restrict__ spectrum, Index n_frames,
                                      Index n_bins, int64_t n_freq, melspec_k_power power,
                                      melspec_k_mel mel, int32_t layout, melspec_k_scaling scaling,
                                      int32_t dtype, void *__restrict__ output, Index total)
{
    const Index clip_values = n_frames * n_bins;
    for (Index i = first_index<Index>(); i < total; i += grid_stride<Index>()) {
        const Index clip = i / clip_values;
        Index bin, frame;
        bin_and_frame<Index>(i - clip * clip_values, n_bins, n_frames, layout, &bin, &frame);
        const float2 *row = spectrum + ((int64_t)clip * n_frames + frame) * n_freq;
        float value;
        if (mel.n_rows == 0) {
            value = spectral_power(row[bin], power);
        } else {
            // The same order of summation as the CPU's sparse_product.
            const int64_t first = mel.first_column[bin];
            const int64_t length = mel.row_length[bin];
            const float *weights = mel.weights + mel.row_offset[bin];
            float sum = 0.0f;
            for (int64_t k = 0; k < length; k++)
                sum = __fadd_rn(sum, __fmul_rn(weights[k], spectral_power(row[first + k], power)));
            value = sum;
        }
        store(output, i, apply_scaling(value, clip, scaling), dtype);
    }
}

template <typename Index>
__global__ void stft_bins_major_kernel(const float2 *__restrict__ spectrum, Index n_frames,
                                       Index n_bins, float2 *__restrict__ output, Index total)
{
    const Index clip_values = n_frames * n_bins;
    for (Index i = first_index<Index>(); i < total; i += grid_stride<Index>()) {
        const Index clip = i / clip_values;
        Index bin, frame;
        bin_and_frame<Index>(i - clip * clip_values, n_bins, n_frames, MELSPEC_LAYOUT_BINS_MAJOR,
                             &bin, &frame);
        // n_bins == n_freq for the STFT
        output[i] = spectrum[((int64_t)clip * n_frames + frame) * n_bins + bin];
    }
}

template <typename Index>
__global__ void stft_frames_major_kernel(const float2 *__restrict__ spectrum,
                                         float2 *__restrict__ output, Index total)
{
    for (Index i = first_index<Index>(); i < total; i += grid_stride<Index>()) output[i] = spectrum[i];
}

} // namespace
} // namespace melspec_k

extern "C" void melspec_k_power_spectrum(const float *spectrum, melspec_k_shape shape,
                                         melspec_k_power power, const melspec_k_mel *mel,
                                         int32_t layout, melspec_k_scaling scaling, int32_t dtype,
                                         void *output, cudaStream_t stream)
{
    using namespace melspec_k;
    const int64_t total = shape.n_clips * shape.n_frames * shape.n_bins;
    if (total <= 0) return;
    melspec_k_mel rows = {0, nullptr, nullptr, nullptr, nullptr};
    if (mel != nullptr) rows = *mel;
    const float2 *complex_spectrum = reinterpret_cast<const float2 *>(spectrum);
    const unsigned blocks = blocks_for(total);
    if (fits_int32(total))
        power_spectrum_kernel<int32_t><<<blocks, kBlockSize, 0, stream>>>(
            complex_spectrum, (int32_t)shape.n_frames, (int32_t)shape.n_bins, shape.n_freq, power,
            rows, layout, scaling, dtype, output, (int32_t)total);
    else
        power_spectrum_kernel<int64_t><<<blocks, kBlockSize, 0, stream>>>(
            complex_spectrum, shape.n_frames, shape.n_bins, shape.n_freq, power, rows, layout,
            scaling, dtype, output, total);
}

extern "C" void melspec_k_stft_bins_major(const float *spectrum, melspec_k_shape shape,
                                          float *output, cudaStream_t stream)
{
    using namespace melspec_k;
    const int64_t total = shape.n_clips * shape.n_frames * shape.n_bins;
    if (total <= 0) return;
    const float2 *in = reinterpret_cast<const float2 *>(spectrum);
    float2 *out = reinterpret_cast<float2 *>(output);
    const unsigned blocks = blocks_for(total);
    if (fits_int32(total))
        stft_bins_major_kernel<int32_t><<<blocks, kBlockSize, 0, stream>>>(
            in, (int32_t)shape.n_frames, (int32_t)shape.n_bins, out, (int32_t)total);
    else
        stft_bins_major_kernel<int64_t><<<blocks, kBlockSize, 0, stream>>>(
            in, shape.n_frames, shape.n_bins, out, total);
}

extern "C" void melspec_k_stft_frames_major(const float *spectrum, melspec_k_shape shape,
                                            float *output, cudaStream_t stream)
{
    using namespace melspec_k;
    const int64_t total = shape.n_clips * shape.n_frames * shape.n_bins;
    if (total <= 0) return;
    const float2 *in = reinterpret_cast<const float2 *>(spectrum);
    float2 *out = reinterpret_cast<float2 *>(output);
    const unsigned blocks = blocks_for(total);
    if (fits_int32(total))
        stft_frames_major_kernel<int32_t><<<blocks, kBlockSize, 0, stream>>>(in, out,
                                                                             (int32_t)total);
    else
        stft_frames_major_kernel<int64_t><<<blocks, kBlockSize, 0, stream>>>(in, out, total);
}
