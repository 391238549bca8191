/* Cutting one frame out of a signal, padded exactly as librosa.stft pads (src/dsp/padding.h):
 * shared by the CPU backend's execute and by the streams of every backend. */
#ifndef MELSPEC_DSP_FRAMING_H
#define MELSPEC_DSP_FRAMING_H

#include <stdint.h>

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

/* The n_fft raw (unwindowed) samples of frame `frame` of a signal of n_samples samples, padded as
 * librosa.stft pads. samples holds the signal from sample `first` on (0: all of it): the samples
 * the frame reads, its padding included (first must be 0 for frames that start before the
 * signal). */
void melspec_gather_frame(const melspec_frame_geometry *geometry, const float *samples,
                          int64_t first, int64_t n_samples, int64_t frame, float *frame_samples);

#endif
