/* Cutting one frame out of a signal, padded exactly as librosa.stft pads (src/dsp/padding.h):
 * shared by the CPU backend's execute and by the streams of every backend. */
#ifndef MELSPEC_DSP_FRAMING_H
#define MELSPEC_DSP_FRAMING_H

#include <stdint.h>

#include "host_device.h"
#include "padding.h"

/* The frame geometry of a spectrum plan (from its stages). */
typedef struct melspec_frame_geometry {
    int64_t n_fft;
    int64_t hop;
    int64_t pad;      /* n_fft/2 when centred, else 0 */
    int32_t pad_mode; /* melspec_pad_mode */
} melspec_frame_geometry;

/* Whether frame `frame` of a signal of n_samples samples lies inside it (then it can be read in
 * place, without padding). */
static inline int melspec_frame_is_inside(const melspec_frame_geometry *g, int64_t n_samples,
                                          int64_t frame)
{
    const int64_t start = frame * g->hop - g->pad;
    return start >= 0 && start + g->n_fft <= n_samples;
}

/* Sample i (0 <= i < n_fft) of frame `frame` of a signal of n_samples samples, padded as
 * librosa.stft pads; samples holds the signal from sample `first` on, as for
 * melspec_gather_frame below. One definition for the host gather and the CUDA streams' framing
 * kernel (kernels/stream.cu), so a device-side ring frames exactly as the CPU does. */
static inline MELSPEC_HOST_DEVICE float melspec_frame_sample(int64_t n_fft, int64_t hop,
                                                             int64_t pad, int32_t pad_mode,
                                                             const float *samples, int64_t first,
                                                             int64_t n_samples, int64_t frame,
                                                             int64_t i)
{
    const int64_t t = frame * hop - pad + i;
    if (t >= 0 && t < n_samples) return samples[t - first];
    /* frames before the signal's start are only asked for with first = 0 */
    if (t < 0) return melspec_padded_sample(samples, n_samples, t, pad_mode);
    /* the end's padding sees the signal from tail_start on (librosa pads its tail separately) */
    const int64_t tail_start =
        pad_mode == MELSPEC_PAD_REFLECT
            ? melspec_tail_segment_start(n_samples, frame, n_fft, hop, pad)
            : 0;
    return melspec_padded_sample(samples + (tail_start - first), n_samples - tail_start,
                                 t - tail_start, pad_mode);
}

/* The n_fft raw (unwindowed) samples of frame `frame` of a signal of n_samples samples, padded as
 * librosa.stft pads. samples holds the signal from sample `first` on (0: all of it): the samples
 * the frame reads, its padding included (first must be 0 for frames that start before the
 * signal). */
void melspec_gather_frame(const melspec_frame_geometry *geometry, const float *samples,
                          int64_t first, int64_t n_samples, int64_t frame, float *frame_samples);

#endif
