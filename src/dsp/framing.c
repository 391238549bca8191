#include "framing.h"

#include <string.h>

#include "padding.h"

void melspec_gather_frame(const melspec_frame_geometry *g, const float *samples, int64_t first,
                          int64_t n_samples, int64_t frame, float *frame_samples)
{
    const int64_t n_fft = g->n_fft;
    const int64_t start = frame * g->hop - g->pad;
    if (start >= 0 && start + n_fft <= n_samples) {
        memcpy(frame_samples, samples + (start - first), (size_t)n_fft * sizeof *frame_samples);
        return;
    }
    /* the end's padding sees the signal from tail_start on (librosa pads its tail separately) */
    const int64_t tail_start =
        g->pad_mode == MELSPEC_PAD_REFLECT
            ? melspec_tail_segment_start(n_samples, frame, n_fft, g->hop, g->pad)
            : 0;
    for (int64_t i = 0; i < n_fft; i++) {
        const int64_t t = start + i;
        if (t >= 0 && t < n_samples) frame_samples[i] = samples[t - first];
        else if (t < 0) /* frames before the signal's start are only asked for with first = 0 */
            frame_samples[i] = melspec_padded_sample(samples, n_samples, t, g->pad_mode);
        else
            frame_samples[i] = melspec_padded_sample(samples + (tail_start - first),
                                                     n_samples - tail_start, t - tail_start,
                                                     g->pad_mode);
    }
}
