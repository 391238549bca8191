// The constant-Q transform on the device: librosa's resampling as a measured FIR decimator
// (src/cqt_decimator.h) tiled through shared memory, then every octave's basis applied to the
// padded frames of its signal as a tiled matrix product (the time-domain kernel of
// src/dsp/cqt.c) in one launch over all octaves, written as complex values or magnitudes in the
// plan's layout.
//
// Work of the design's `cqt` case (30 s at 22.05 kHz = 661500 samples, hop 512, 84 bins from C1,
// 12 per octave: 7 octaves, no early downsampling, 6 halvings, every octave n_fft 256, 1292
// frames; docs/cqt.md has the table and the floor):
//   halvings: 651 k outputs x 385 taps = 251 M multiply-adds; levels 1..6 written once
//             (2.6 MB) and read once more by the next halving and by the octaves (L2-resident).
//             Before: each output read its 385 inputs from global memory (1.0 GB of L1/L2
//             loads, 6 launches); now each block reads its tile plus the FIR's halo once
//             (about 1.2x the level's bytes) and sums from shared memory.
//   octaves:  7 x 1292 frames x 256 taps x 32 rows (24 used) = 74 M multiply-adds (56 M
//             useful); before 7 launches of 41 blocks (a third of 132 SMs each), now one of 287.
// In all about 325 M multiply-adds (0.65 GFLOP: 11 us at 60 TFLOP/s fp32) against ~3 MB of
// unavoidable DRAM traffic (0.7 us at 4.3 TB/s): arithmetic-bound, with a serial chain of 6
// small decimations whose launch latency the graph replay does not remove.
#include "device_common.cuh"

// nvcc unrolls the register loops; the emulator's C++ compiler ignores the hint.
#if defined(__CUDACC__)
#define MELSPEC_UNROLL _Pragma("unroll")
#else
#define MELSPEC_UNROLL
#endif

namespace melspec_k {
namespace {

// ---- the decimator -----------------------------------------------------------------------------
//
// With x_v[q] = x[i0 + factor q + v] (the polyphase components of the tile's input, i0 its first
// sample) and c = n_taps - 1 - k = factor u + v, output m0 + i of a tile is
//     y = sum_v sum_u taps[n_taps - 1 - factor u - v] x_v[i + u],
// a short correlation per phase whose inputs are consecutive in i: each thread computes
// kDecimateRun consecutive outputs from a register window that slides along x_v, so one shared
// load of a sample and one of a tap feed kDecimateRun multiply-adds. One phase at a time is in
// shared memory, so the tile needs kDecimateOutputs + kPhaseChunk samples whatever the factor
// (the 1/16 FIR has 3333 taps, 209 per phase; the halving 385, 193 per phase).
constexpr int kDecimateThreads = 128;
constexpr int kDecimateRun = 8;
constexpr int kDecimateOutputs = kDecimateThreads * kDecimateRun; // 1024 per block
constexpr int kPhaseChunk = 256;  // taps of one phase in shared memory at a time
constexpr int kPartialRuns = 4;   // runs (32 taps) summed in a partial before it joins the total
constexpr int kDecimateSpan = kDecimateOutputs + kPhaseChunk;

static_assert(kPhaseChunk % kDecimateRun == 0, "whole runs per chunk");

// One padding word per 32 keeps the window loads of a warp (stride kDecimateRun) on distinct
// banks.
__device__ __forceinline__ int padded(int p) { return p + (p >> 5); }

__global__ void decimate_kernel(const float *__restrict__ input, int64_t input_stride,
                                int64_t n_input, melspec_k_decimator fir, int shift, float gain,
                                float *__restrict__ output, int64_t output_stride,
                                int64_t n_output, int64_t tiles_per_clip, int64_t n_tiles)
{
    __shared__ float samples[kDecimateSpan + kDecimateSpan / 32 + 1];
    __shared__ float taps[kPhaseChunk];
    const int thread = (int)threadIdx.x;
    const int64_t factor = fir.factor;
    const int64_t produced = fir.full_length ? (n_input + factor - 1) / factor
                                             : (2 * n_input + factor) / (2 * factor);
    for (int64_t tile = blockIdx.x; tile < n_tiles; tile += gridDim.x) {
        const int64_t clip = tile / tiles_per_clip;
        const int64_t m0 = (tile - clip * tiles_per_clip) * kDecimateOutputs;
        const float *x = input + clip * input_stride;
        const int64_t i0 = factor * m0 - fir.first - (fir.n_taps - 1);
        // three levels of sums (32 taps, a phase, the tile's output) keep the 3333 taps of the
        // 1/16 FIR near float precision
        float total[kDecimateRun], phase_sum[kDecimateRun], partial[kDecimateRun];
        MELSPEC_UNROLL
        for (int j = 0; j < kDecimateRun; j++) total[j] = phase_sum[j] = partial[j] = 0.0f;
        for (int64_t v = 0; v < factor; v++) {
            const int64_t phase_taps = (fir.n_taps - v + factor - 1) >> shift;
            for (int64_t u0 = 0; u0 < phase_taps; u0 += kPhaseChunk) {
                for (int p = thread; p < kPhaseChunk; p += kDecimateThreads) {
                    const int64_t c = ((u0 + p) << shift) + v;
                    taps[p] = c < fir.n_taps ? fir.taps[fir.n_taps - 1 - c] : 0.0f;
                }
                const int64_t left = phase_taps - u0;
                const int runs = (int)((left < kPhaseChunk ? left : kPhaseChunk) + kDecimateRun -
                                       1) / kDecimateRun;
                // the windows below reach sample kDecimateOutputs + runs kDecimateRun - 1
                for (int p = thread; p < kDecimateOutputs + runs * kDecimateRun;
                     p += kDecimateThreads) {
                    const int64_t t = i0 + ((u0 + p) << shift) + v;
                    samples[padded(p)] = t >= 0 && t < n_input ? x[t] : 0.0f;
                }
                __syncthreads();
                const int first = thread * kDecimateRun;
                float window[2 * kDecimateRun];
                MELSPEC_UNROLL
                for (int j = 0; j < kDecimateRun; j++) window[j] = samples[padded(first + j)];
                for (int run = 0; run < runs; run++) {
                    const int base = first + (run + 1) * kDecimateRun;
                    MELSPEC_UNROLL
                    for (int j = 0; j < kDecimateRun; j++)
                        window[kDecimateRun + j] = samples[padded(base + j)];
                    MELSPEC_UNROLL
                    for (int s = 0; s < kDecimateRun; s++) {
                        const float k = taps[run * kDecimateRun + s];
                        MELSPEC_UNROLL
                        for (int j = 0; j < kDecimateRun; j++) partial[j] += k * window[j + s];
                    }
                    MELSPEC_UNROLL
                    for (int j = 0; j < kDecimateRun; j++) window[j] = window[kDecimateRun + j];
                    if ((run + 1) % kPartialRuns == 0 || run + 1 == runs) {
                        MELSPEC_UNROLL
                        for (int j = 0; j < kDecimateRun; j++) {
                            phase_sum[j] += partial[j];
                            partial[j] = 0.0f;
                        }
                    }
                }
                __syncthreads(); // the next chunk overwrites samples[] and taps[]
            }
            MELSPEC_UNROLL
            for (int j = 0; j < kDecimateRun; j++) {
                total[j] += phase_sum[j];
                phase_sum[j] = 0.0f;
            }
        }
        MELSPEC_UNROLL
        for (int j = 0; j < kDecimateRun; j++) {
            const int64_t m = m0 + thread * kDecimateRun + j;
            if (m >= n_output) break;
            float sum = 0.0f;
            if (m < produced) {
                sum = total[j];
                if (m < fir.correction_rows) {
                    const int64_t columns =
                        fir.correction_columns < n_input ? fir.correction_columns : n_input;
                    const float *row = fir.correction + m * fir.correction_columns;
                    for (int64_t i = 0; i < columns; i++) sum += row[i] * x[i];
                }
                sum *= gain;
            }
            output[clip * output_stride + m] = sum;
        }
    }
}

// ---- the octave products -----------------------------------------------------------------------

// Frames x rows of one tile of the octave product, and the taps loaded per step.
constexpr int kTileFrames = 32;
constexpr int kTileRows = 32; // MELSPEC_K_CQT_ROW_MULTIPLE
constexpr int kTileTaps = 32;
constexpr int kFramesPerThread = kTileFrames * kTileRows / kBlockSize; // 4
// Taps summed into a partial sum before it joins the total (float precision on long kernels).
constexpr int kChunkTaps = 256;

static_assert(kTileRows == MELSPEC_K_CQT_ROW_MULTIPLE, "rows are padded to the tile");
static_assert(kFramesPerThread * kBlockSize == kTileFrames * kTileRows, "whole tiles");

// Up to MELSPEC_K_CQT_MAX_OCTAVES octaves as one kernel argument (about 1.3 KB of the 4 KB
// parameter space): no device table to upload or keep in step with the level buffers, and a
// captured graph holds the pointers in its kernel node. Octave o owns tiles first_tile[o] ..
// first_tile[o + 1] - 1 of the grid.
struct octave_table {
    melspec_k_cqt_job job[MELSPEC_K_CQT_MAX_OCTAVES];
    int64_t first_tile[MELSPEC_K_CQT_MAX_OCTAVES + 1];
    int32_t n_jobs;
};

// kernel arguments are limited to 4 KB on every architecture we build for
static_assert(sizeof(octave_table) <= 4096, "the octave table fits the argument space");

__device__ __forceinline__ int64_t row_tiles_of(const melspec_k_cqt_octave &o)
{
    return o.rows / kTileRows;
}

// One block per tile (octave, clip, 32 frames, 32 kernel rows): the frames' samples and the
// kernel's taps go through shared memory 32 taps at a time; thread t owns row t % 32 of frames
// t / 32 + 8 j. Rows come in (re, im) pairs, one filter each.
__global__ void octaves_kernel(octave_table table, int32_t pad_mode, int64_t n_frames,
                               int64_t n_bins, int32_t layout, int32_t complex_out,
                               float *__restrict__ output, int64_t frame_tiles)
{
    __shared__ float samples[kTileFrames][kTileTaps + 1];
    __shared__ float taps[kTileTaps][kTileRows];
    __shared__ float sums[kTileFrames][kTileRows + 1];
    const int thread = (int)threadIdx.x;
    const int row = thread % kTileRows, frame_group = thread / kTileRows;
    const int64_t n_tiles = table.first_tile[table.n_jobs];
    for (int64_t tile = blockIdx.x; tile < n_tiles; tile += gridDim.x) {
        int o = 0;
        while (o + 1 < table.n_jobs && tile >= table.first_tile[o + 1]) o++;
        const melspec_k_cqt_job &job = table.job[o];
        const melspec_k_cqt_octave &octave = job.octave;
        const int64_t row_tiles = row_tiles_of(octave);
        const int64_t local = tile - table.first_tile[o];
        const int64_t clip = local / (frame_tiles * row_tiles);
        const int64_t within = local - clip * frame_tiles * row_tiles;
        const int64_t frame0 = (within / row_tiles) * kTileFrames;
        const int64_t row0 = (within % row_tiles) * kTileRows;
        const int64_t n_fft = octave.n_fft, length = job.length;
        const float *x = job.signal + clip * job.signal_stride;
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
    int shift = 0;
    while (shift < 62 && (int64_t(1) << shift) < fir.factor) shift++;
    if (fir.factor < 2 || (int64_t(1) << shift) != fir.factor || fir.n_taps < 1) return;
    const int64_t n_output = (n_input + fir.factor - 1) / fir.factor;
    const int64_t tiles_per_clip = (n_output + kDecimateOutputs - 1) / kDecimateOutputs;
    const int64_t n_tiles = n_clips * tiles_per_clip;
    if (n_tiles <= 0) return;
    const unsigned blocks = (unsigned)(n_tiles < kMaxBlocks ? n_tiles : kMaxBlocks);
    decimate_kernel<<<blocks, kDecimateThreads, 0, stream>>>(
        input, input_stride, n_input, fir, shift, gain, output, output_stride, n_output,
        tiles_per_clip, n_tiles);
}

extern "C" void melspec_k_cqt_octaves(const melspec_k_cqt_job *jobs, int64_t n_jobs,
                                      int32_t pad_mode, int64_t n_clips, int64_t n_frames,
                                      int64_t n_bins, int32_t layout, int32_t complex_out,
                                      float *output, cudaStream_t stream)
{
    using namespace melspec_k;
    const int64_t frame_tiles = (n_frames + kTileFrames - 1) / kTileFrames;
    if (n_clips <= 0 || frame_tiles <= 0) return;
    for (int64_t first = 0; first < n_jobs; first += MELSPEC_K_CQT_MAX_OCTAVES) {
        octave_table table = {};
        int64_t tiles = 0;
        for (int64_t i = first; i < n_jobs && i - first < MELSPEC_K_CQT_MAX_OCTAVES; i++) {
            if (jobs[i].length <= 0) continue; // nothing to analyse: the launch skips it
            table.job[table.n_jobs] = jobs[i];
            table.first_tile[table.n_jobs] = tiles;
            tiles += n_clips * frame_tiles * (jobs[i].octave.rows / kTileRows);
            table.n_jobs++;
        }
        table.first_tile[table.n_jobs] = tiles;
        if (tiles <= 0) continue;
        const unsigned blocks = (unsigned)(tiles < kMaxBlocks ? tiles : kMaxBlocks);
        octaves_kernel<<<blocks, kBlockSize, 0, stream>>>(table, pad_mode, n_frames, n_bins,
                                                          layout, complex_out, output,
                                                          frame_tiles);
    }
}
