#include "framing.h"

#include <string.h>

void melspec_gather_frame(const melspec_frame_geometry *g, const float *samples, int64_t first,
                          int64_t n_samples, int64_t frame, float *frame_samples)
{
    const int64_t n_fft = g->n_fft;
    const int64_t start = frame * g->hop - g->pad;
    if (start >= 0 && start + n_fft <= n_samples) {
        memcpy(frame_samples, samples + (start - first), (size_t)n_fft * sizeof *frame_samples);
        return;
    }
    for (int64_t i = 0; i < n_fft; i++)
        frame_samples[i] = melspec_frame_sample(n_fft, g->hop, g->pad, g->pad_mode, samples,
                                                first, n_samples, frame, i);
}
