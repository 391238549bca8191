/*
 * The CUDA backend's kernels, as plain C launchers (the __global__ functions live in
 * the .cu files of kernels/). Each launcher enqueues its kernel on `stream` and returns at once; it launches
 * nothing when there is nothing to do. Launch errors are left for the caller to read with
 * cudaGetLastError() (src/cuda/ checks after every launch). Sizes are int64_t; every index is
 * computed in 64 bits, or in 32 bits only where the launcher has checked that it fits.
 *
 * Arithmetic follows the CPU backend (src/cpu/) operation for operation, with explicitly
 * rounded multiplies and adds where the CPU code does not fuse them, so that on the same
 * spectrum both backends round the same way; only the FFT and the transcendental functions
 * (sqrtf is exact in both; powf, logf, log10f are within their documented ulps) differ.
 */
#ifndef MELSPEC_KERNELS_H
#define MELSPEC_KERNELS_H

#include <stdint.h>

#include <cuda_runtime_api.h>

#include "dsp/pcen.h"
#include "dsp/scaling.h"
#include "melspec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- parameters ------------------------------------------------------------------------------ */

/* Output shape of one call: n_clips signals, each n_frames frames of n_bins values, computed from
 * spectra of n_freq = 1 + n_fft/2 complex bins stored frame after frame (clip-major). */
typedef struct melspec_k_shape {
    int64_t n_clips;
    int64_t n_frames; /* per clip */
    int64_t n_bins;   /* output rows: n_mels, or n_freq for LINEAR and STFT */
    int64_t n_freq;
} melspec_k_shape;

/* |X|^power and the scaling stage: the plan's own stage parameters (src/dsp/scaling.h, decided
 * once in src/stages.c) and the arithmetic every backend shares. */
typedef melspec_power_stage melspec_k_power;

/* The mel filterbank on the device as one contiguous run of weights per row (plan->mel_rows). */
typedef struct melspec_k_mel {
    int64_t n_rows;
    const int64_t *first_column;
    const int64_t *row_length;
    const int64_t *row_offset;
    const float *weights;
} melspec_k_mel;

/* The scaling stage, element by element, with the dB offset and floor either the stage's
 * constants (a fixed ref, no clamp) or per clip (clip_offset/clip_floor written by
 * melspec_k_clip_reference). */
typedef struct melspec_k_scaling {
    melspec_scale_stage stage;
    const double *clip_offset; /* dB: one offset per clip, or NULL: stage.offset */
    const float *clip_floor;   /* dB: one floor (peak - top_db) per clip, or NULL: no clamp */
} melspec_k_scaling;

/* Chunks per clip of melspec_k_clip_max_partial, at most (sizes the partial-max buffer). */
#define MELSPEC_K_MAX_CHUNKS 64

/* librosa's resampling by an integer factor as the FIR measured from libsoxr
 * (src/cqt_decimator.h): y[m] = sum_i taps[i] x[factor m - first - i], plus
 * correction[m][j] x[j] for the first correction_rows outputs. Device arrays, float. */
typedef struct melspec_k_decimator {
    int64_t factor;
    int64_t first;
    int64_t n_taps;
    const float *taps;
    int64_t correction_rows;
    int64_t correction_columns;
    const float *correction; /* correction_rows x correction_columns, or NULL */
    int64_t full_length;     /* 1: all ceil(n/M) outputs (polyphase); 0: soxr's floor(n/M + 1/2) */
} melspec_k_decimator;

/* Kernel rows of a CQT octave come in multiples of this (zero rows pad them). */
#define MELSPEC_K_CQT_ROW_MULTIPLE 32

/* One octave of the CQT: kernel[n rows + 2k] and [.. + 1] are the real and imaginary taps of
 * filter k at frame sample n (src/dsp/cqt.c's time-domain kernel, with its gains). */
typedef struct melspec_k_cqt_octave {
    int64_t n_fft;      /* frame length */
    int64_t hop_length; /* at the octave's rate */
    int64_t rows;       /* 2 n_filters rounded up to MELSPEC_K_CQT_ROW_MULTIPLE */
    int64_t n_filters;
    int64_t first_bin;  /* output row of filter 0 */
    const float *kernel; /* n_fft x rows, device */
} melspec_k_cqt_octave;

/* ---- launchers ------------------------------------------------------------------------------- */

/*
 * Framing, centre padding and window: frames[(c n_frames + t) frame_stride + i] =
 * x_c[t hop - pad_left + i] window[i] for i < n_fft, and 0 for n_fft <= i < frame_stride, where
 * x_c is clip c of `signals` (n_clips x n_samples) extended by pad_mode (melspec_pad_mode; numpy's
 * periodic reflection when a reflect pad is longer than the signal).
 */
void melspec_k_frame(const float *signals, int64_t n_clips, int64_t n_samples, int64_t n_frames,
                     int64_t n_fft, int64_t frame_stride, int64_t hop_length, int64_t pad_left,
                     int32_t pad_mode, const float *window, float *frames, cudaStream_t stream);

/*
 * |X|^power per bin (mel == NULL: LINEAR) or the sparse mel product of it (MEL), then scaling,
 * written in layout (melspec_layout) as dtype (melspec_dtype) into output: clip c's values at
 * c n_bins n_frames, (bin, frame) or (frame, bin) within. spectrum holds n_clips n_frames rows of
 * n_freq complex values (interleaved re, im).
 */
void melspec_k_power_spectrum(const float *spectrum, melspec_k_shape shape, melspec_k_power power,
                              const melspec_k_mel *mel, int32_t layout, melspec_k_scaling scaling,
                              int32_t dtype, void *output, cudaStream_t stream);

/* The complex STFT from frame-major spectra into the bins-major layout (complex64 pairs). */
void melspec_k_stft_bins_major(const float *spectrum, melspec_k_shape shape, float *output,
                               cudaStream_t stream);

/* The complex STFT copied as it is, frame-major (complex64 pairs): a kernel rather than cuFFT or
 * a memcpy writes the caller's output, so that a graph is re-pointed by kernel parameters. */
void melspec_k_stft_frames_major(const float *spectrum, melspec_k_shape shape, float *output,
                                 cudaStream_t stream);

/* partial[c n_chunks + k] = max of chunk k of clip c's clip_values values (1 <= n_chunks <=
 * MELSPEC_K_MAX_CHUNKS; -INFINITY for an empty chunk). */
void melspec_k_clip_max_partial(const float *values, int64_t n_clips, int64_t clip_values,
                                int64_t n_chunks, float *partial, cudaStream_t stream);

/* Per clip: the maximum of its partials -> clip_offset[c] (the dB offset of its ref) and, when
 * stage.clamp, clip_floor[c] = dB(maximum) - top_db, with src/dsp/scaling.h's arithmetic. */
void melspec_k_clip_reference(const float *partial, int64_t n_clips, int64_t n_chunks,
                              melspec_scale_stage stage, double *clip_offset,
                              float *clip_floor, cudaStream_t stream);

/* output[i] = scaling(values[i]) as dtype, for n_clips clips of clip_values values. */
void melspec_k_scale_store(const float *values, int64_t n_clips, int64_t clip_values,
                           melspec_k_scaling scaling, int32_t dtype, void *output,
                           cudaStream_t stream);

/* ---- the feature stage (issue 15, kernels/features.cu) ------------------------------------- */

/* n_clips clips of n_frames frames: n_in scaled values per frame in, n_out features out. */
typedef struct melspec_k_feature_shape {
    int64_t n_clips;
    int64_t n_frames;
    int64_t n_in;  /* stages.spectrum_bins */
    int64_t n_out; /* stages.n_bins */
} melspec_k_feature_shape;

/* MFCC: output (k, t) = basis row k (n_in doubles, device) times frame t, both in `layout`. */
void melspec_k_mfcc(const float *values, melspec_k_feature_shape shape, const double *basis,
                    int32_t layout, int32_t dtype, void *output, cudaStream_t stream);

/* PCEN of each clip from librosa's initial state (n_out = n_in), in `layout`. */
void melspec_k_pcen(const float *values, melspec_k_feature_shape shape, melspec_pcen_stage stage,
                    int32_t layout, int32_t dtype, void *output, cudaStream_t stream);

/*
 * librosa.resample(x, orig_sr=factor, target_sr=1, res_type="soxr_hq") of each clip (n_input
 * samples at input + c input_stride) times gain, into ceil(n_input / factor) samples at
 * output + c output_stride. factor must be a power of two (librosa's early downsampling and its
 * halvings always are); the launcher launches nothing otherwise.
 */
void melspec_k_cqt_decimate(const float *input, int64_t input_stride, int64_t n_clips,
                            int64_t n_input, melspec_k_decimator fir, float gain, float *output,
                            int64_t output_stride, cudaStream_t stream);

/* One octave of a call: its kernel and the level it analyses (length samples per clip at
 * signal + c signal_stride). */
typedef struct melspec_k_cqt_job {
    melspec_k_cqt_octave octave;
    const float *signal;
    int64_t signal_stride;
    int64_t length;
} melspec_k_cqt_job;

/* Octaves one launch of melspec_k_cqt_octaves covers; more take one launch per group. */
#define MELSPEC_K_CQT_MAX_OCTAVES 16

/*
 * Every octave's bins for frames 0 .. n_frames-1 of each clip (centred frames of the job's
 * signal padded by pad_mode), in one launch over (octave, clip, frame tile, row tile): complex64
 * pairs (complex_out) or magnitudes, at rows first_bin.. of a clip's n_bins x n_frames output in
 * layout. jobs is a host array; its contents travel as kernel arguments.
 */
void melspec_k_cqt_octaves(const melspec_k_cqt_job *jobs, int64_t n_jobs, int32_t pad_mode,
                           int64_t n_clips, int64_t n_frames, int64_t n_bins, int32_t layout,
                           int32_t complex_out, float *output, cudaStream_t stream);

/* ---- streams with their rings on the device (kernels/stream.cu; issue 12c) ------------------ */

/* One stream's part of a stream step (src/cuda/cuda_stream.c fills it from the front end's
 * melspec_stream_step, src/plan.h). Absolute sample indices of the stream. */
typedef struct melspec_k_stream_step {
    float *ring;            /* holds ring_first .. upload_from - 1 before, keep_from .. after */
    int64_t ring_first;
    int64_t window_first;   /* the stream's window: window_first .. n_signal - 1 */
    int64_t upload_from;    /* samples upload_from .. n_signal - 1 were uploaded ... */
    int64_t upload_offset;  /* ... at this offset of the step's uploaded samples */
    int64_t window_offset;  /* where the window starts in the step's window buffer */
    int64_t first_frame;    /* frames first_frame .. + n_frames - 1, at output frame ... */
    int64_t n_frames;
    int64_t frame_offset;   /* ... frame_offset of the step */
    int64_t n_signal;       /* received + new samples: the length the frames' padding sees */
    int64_t keep_from;
} melspec_k_stream_step;

/*
 * A step's windows: window[window_offset + k] = sample window_first + k of each stream, from its
 * ring below upload_from and from `uploaded` from there on (n_window samples in all).
 */
void melspec_k_stream_windows(const melspec_k_stream_step *steps, int64_t n_streams,
                              const float *uploaded, float *window, int64_t n_window,
                              cudaStream_t stream);

/*
 * The step's raw frames, padded as src/dsp/framing.h pads (melspec_frame_sample):
 * raw[(frame_offset + j) n_fft + i] = sample i of frame first_frame + j of each stream's window;
 * and each ring rewritten from the window to hold keep_from .. n_signal - 1 (the rings are no
 * longer read: melspec_k_stream_windows has run).
 */
void melspec_k_stream_frames(const melspec_k_stream_step *steps, int64_t n_streams,
                             const float *window, int64_t n_window, int64_t n_frames,
                             int64_t n_fft, int64_t hop_length, int64_t pad, int32_t pad_mode,
                             float *raw, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
