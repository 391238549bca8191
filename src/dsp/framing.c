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
    /* the samples inside the signal are copied; only the padding goes sample by sample (the
     * realtime case's four padded frames cost as much as its power) */
    const int64_t inside_begin = start < 0 ? (-start < n_fft ? -start : n_fft) : 0;
    int64_t inside_end = n_samples - start < n_fft ? n_samples - start : n_fft;
    inside_end = inside_end > inside_begin ? inside_end : inside_begin;
    for (int64_t i = 0; i < inside_begin; i++)
        frame_samples[i] = melspec_frame_sample(n_fft, g->hop, g->pad, g->pad_mode, samples,
                                                first, n_samples, frame, i);
    if (inside_end > inside_begin)
        memcpy(frame_samples + inside_begin, samples + (start + inside_begin - first),
               (size_t)(inside_end - inside_begin) * sizeof *frame_samples);
    for (int64_t i = inside_end; i < n_fft; i++)
        frame_samples[i] = melspec_frame_sample(n_fft, g->hop, g->pad, g->pad_mode, samples,
                                                first, n_samples, frame, i);
}
