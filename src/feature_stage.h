/* The feature stage (issue 15) applied to one frame, on the host: what the CPU backend's offline
 * path (src/cpu/features.c) and the streams (src/stream.c) both call, frame after frame in time
 * order, so that a streamed frame is the offline one bit for bit. The arithmetic itself is
 * src/dsp/mfcc.h and src/dsp/pcen.h (shared with the kernels). */
#ifndef MELSPEC_SRC_FEATURE_STAGE_H
#define MELSPEC_SRC_FEATURE_STAGE_H

#include "dsp/mfcc.h"
#include "dsp/pcen.h"
#include "stages.h"

/* A signal's PCEN state before its first frame (spectrum_bins doubles; nothing for MFCC). */
static inline void melspec_feature_reset(const melspec_stages *stages, double *pcen_state)
{
    if (stages->feature != MELSPEC_FEATURE_PCEN) return;
    for (int64_t i = 0; i < stages->spectrum_bins; i++)
        pcen_state[i] = stages->pcen.initial_state;
}

/* One frame: spectrum_bins scaled values in, n_bins feature values out (PCEN advances the
 * state). mfcc_basis is the plan's. */
static inline void melspec_feature_frame(const melspec_stages *stages, const double *mfcc_basis,
                                         double *pcen_state, const float *values, float *out)
{
    const int64_t n_in = stages->spectrum_bins;
    if (stages->feature == MELSPEC_FEATURE_MFCC) {
        for (int64_t k = 0; k < stages->n_bins; k++)
            out[k] = melspec_mfcc_value(mfcc_basis + k * n_in, values, 1, n_in);
        return;
    }
    for (int64_t i = 0; i < n_in; i++)
        out[i] = melspec_pcen_value(&stages->pcen, values[i],
                                    melspec_pcen_reference(&stages->pcen, values, 1, n_in, i),
                                    &pcen_state[i]);
}

#endif
