// The constant-Q transform on the device: librosa's resampling as a measured FIR decimator
// (src/cqt_decimator.h), and each octave's basis applied to the padded frames of its signal as a
// tiled matrix product (the time-domain kernel of src/dsp/cqt.c), written as complex values or
// magnitudes in the plan's layout.
#include "device_common.cuh"

namespace melspec_k {
namespace {

// Frames x rows of one tile of the octave product, and the taps loaded per step.
constexpr int kTileFrames = 32;
constexpr int kTileRows = 32; // MELSPEC_K_CQT_ROW_MULTIPLE
constexpr int kTileTaps = 32;
constexpr int kFramesPerThread = kTileFrames * kTileRows / kBlockSize; // 4
// Taps summed into a partial sum before it joins the total (float precision on long kernels).
constexpr int kChunkTaps = 256;
constexpr int64_t kDecimatorChunk = 64;

static_assert(kTileRows == MELSPEC_K_CQT_ROW_MULTIPLE, "rows are padded to the tile");
static_assert(kFramesPerThread * kBlockSize == kTileFrames * kTileRows, "whole tiles");

// One thread per output sample m of each clip: y[m] = gain (sum_i taps[i] x[M m - first - i]
// + the start-up correction), zero past the floor(n/M + 1/2) samples libsoxr emits.
__global__ void decimate_kernel(const float *__restrict__ input, int64_t input_stride,
                                int64_t n_input, melspec_k_decimator fir, float gain,
                                float *__restrict__ output, int64_t output_stride,
                                int64_t n_output, int64_t total)
{
    const int64_t factor = fir.factor;
    const int64_t produced = (2 * n_input + factor) / (2 * factor);
    for (int64_t i = first_index<int64_t>(); i < total; i += grid_stride<int64_t>()) {
        const int64_t clip = i / n_output;
        const int64_t m = i - clip * n_output;
        const float *x = input + clip * input_stride;
        float sum = 0.0f;
        if (m < produced) {
            const int64_t base = factor * m - fir.first;
            const int64_t low = base - (n_input - 1) > 0 ? base - (n_input - 1) : 0;
            const int64_t high = base < fir.n_taps - 1 ? base : fir.n_taps - 1;
            // partial sums of kDecimatorChunk taps keep thousands of taps near float precision
            for (int64_t k0 = low; k0 <= high; k0 += kDecimatorChunk) {
                const int64_t k1 = k0 + kDecimatorChunk - 1 < high ? k0 + kDecimatorChunk - 1
                                                                   : high;
                float partial = 0.0f;
                for (int64_t k = k0; k <= k1; k++) partial += fir.taps[k] * x[base - k];
                sum += partial;
            }
            if (m < fir.correction_rows) {
                const int64_t columns =
                    fir.correction_columns < n_input ? fir.correction_columns : n_input;
                const float *row = fir.correction + m * fir.correction_columns;
                for (int64_t j = 0; j < columns; j++) sum += row[j] * x[j];
            }
            sum *= gain;
        }
        output[clip * output_stride + m] = sum;
    }
}

// One block per tile (clip, 32 frames, 32 kernel rows): the frames' samples and the kernel's
// taps go through shared memory 32 taps at a time; thread t owns row t % 32 of frames
// t / 32 + 8 j. Rows come in (re, im) pairs, one filter each.
__global__ void octave_kernel(const float *__restrict__ signal, int64_t signal_stride,
                              int64_t length, melspec_k_cqt_octave octave, int32_t pad_mode,
                              int64_t n_frames, int64_t n_bins, int32_t layout,
                              int32_t complex_out, float *__restrict__ output, int64_t frame_tiles,
                              int64_t row_tiles, int64_t n_tiles)
{
    __shared__ float samples[kTileFrames][kTileTaps + 1];
    __shared__ float taps[kTileTaps][kTileRows];
    __shared__ float sums[kTileFrames][kTileRows + 1];
    const int thread = (int)threadIdx.x;
    const int row = thread % kTileRows, frame_group = thread / kTileRows;
    const int64_t n_fft = octave.n_fft;
    for (int64_t tile = blockIdx.x; tile < n_tiles; tile += gridDim.x) {
        const int64_t clip = tile / (frame_tiles * row_tiles);
        const int64_t within = tile - clip * frame_tiles * row_tiles;
        const int64_t frame0 = (within / row_tiles) * kTileFrames;
        const int64_t row0 = (within % row_tiles) * kTileRows;
        const float *x = signal + clip * signal_stride;
        float total[kFramesPerThread] = {0.0f, 0.0f, 0.0f, 0.0f};
        float partial[kFramesPerThread] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int64_t tap0 = 0; tap0 < n_fft; tap0 += kTileTaps) {
            for (int j = thread; j < kTileFrames * kTileTaps; j += kBlockSize) {
                const int f = j / kTileTaps, n = j % kTileTaps;
                const int64_t start = (frame0 + f) * octave.hop_length - n_fft / 2;
                samples[f][n] =
                    tap0 + n < n_fft ? padded_sample(x, length, start + tap0 + n, pad_mode) : 0.0f;
            }
            for (int j = thread; j < kTileTaps * kTileRows; j += kBlockSize) {
                const int n = j / kTileRows, r = j % kTileRows;
                taps[n][r] =
                    tap0 + n < n_fft ? octave.kernel[(tap0 + n) * octave.rows + row0 + r] : 0.0f;
            }
            __syncthreads();
            for (int n = 0; n < kTileTaps; n++) {
                const float k = taps[n][row];
                for (int j = 0; j < kFramesPerThread; j++)
                    partial[j] += samples[frame_group + j * (kBlockSize / kTileRows)][n] * k;
            }
            __syncthreads();
            if ((tap0 + kTileTaps) % kChunkTaps == 0 || tap0 + kTileTaps >= n_fft) {
                for (int j = 0; j < kFramesPerThread; j++) {
                    total[j] += partial[j];
                    partial[j] = 0.0f;
                }
            }
        }
        for (int j = 0; j < kFramesPerThread; j++)
            sums[frame_group + j * (kBlockSize / kTileRows)][row] = total[j];
        __syncthreads();
        // (frame, filter) pairs of the tile: 32 frames x 16 filters
        for (int j = thread; j < kTileFrames * kTileRows / 2; j += kBlockSize) {
            const int f = j / (kTileRows / 2), k = j % (kTileRows / 2);
            const int64_t frame = frame0 + f, filter = row0 / 2 + k;
            if (frame >= n_frames || filter >= octave.n_filters) continue;
            const int64_t bin = octave.first_bin + filter;
            const int64_t at = clip * n_bins * n_frames +
                               (layout == MELSPEC_LAYOUT_FRAMES_MAJOR ? frame * n_bins + bin
                                                                      : bin * n_frames + frame);
            const float re = sums[f][2 * k], im = sums[f][2 * k + 1];
            if (complex_out) {
                output[2 * at] = re;
                output[2 * at + 1] = im;
            } else {
                output[at] = sqrtf(__fadd_rn(__fmul_rn(re, re), __fmul_rn(im, im)));
            }
        }
        __syncthreads(); // sums[] and the tiles are reused by the block's next tile
    }
}

} // namespace
} // namespace melspec_k

extern "C" void melspec_k_cqt_decimate(const float *input, int64_t input_stride, int64_t n_clips,
                                       int64_t n_input, melspec_k_decimator fir, float gain,
                                       float *output, int64_t output_stride, cudaStream_t stream)
{
    using namespace melspec_k;
    const int64_t n_output = (n_input + fir.factor - 1) / fir.factor;
    const int64_t total = n_clips * n_output;
    if (total <= 0) return;
    decimate_kernel<<<blocks_for(total), kBlockSize, 0, stream>>>(
        input, input_stride, n_input, fir, gain, output, output_stride, n_output, total);
}

extern "C" void melspec_k_cqt_octave_response(const float *signal, int64_t signal_stride,
                                              int64_t length, melspec_k_cqt_octave octave,
                                              int32_t pad_mode, int64_t n_clips,
                                              int64_t n_frames, int64_t n_bins, int32_t layout,
                                              int32_t complex_out, float *output,
                                              cudaStream_t stream)
{
    using namespace melspec_k;
    const int64_t frame_tiles = (n_frames + kTileFrames - 1) / kTileFrames;
    const int64_t row_tiles = octave.rows / kTileRows;
    const int64_t n_tiles = n_clips * frame_tiles * row_tiles;
    if (n_tiles <= 0 || length <= 0) return;
    const unsigned blocks = (unsigned)(n_tiles < kMaxBlocks ? n_tiles : kMaxBlocks);
    octave_kernel<<<blocks, kBlockSize, 0, stream>>>(signal, signal_stride, length, octave,
                                                     pad_mode, n_frames, n_bins, layout,
                                                     complex_out, output, frame_tiles, row_tiles,
                                                     n_tiles);
}
