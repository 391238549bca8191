/* The feature stage on the CPU (issue 15): MFCC and PCEN over one clip's scaled values, frame
 * after frame with src/feature_stage.h, which the streams (src/stream.c) apply to their frames
 * too: offline and streamed frames are the same bits. */
#include <stdlib.h>
#include <string.h>

#include "../alloc.h"
#include "../feature_stage.h"
#include "cpu_backend.h"

struct melspec_cpu_features {
    double *pcen_state; /* spectrum_bins: each bin's smoother */
    float *frame;       /* n_bins: one frame of output */
    float *input;       /* input_frames frames of spectrum_bins scaled values (one clip) */
    int64_t input_frames;
    melspec_allocator allocator; /* the plan's: every block above and this object */
};

melspec_status melspec_cpu_features_reserve(melspec_plan *plan, melspec_cpu_features *f,
                                            int64_t n_frames)
{
    if (f == NULL || n_frames <= f->input_frames) return MELSPEC_OK;
    float *input = melspec_alloc(&f->allocator,
                                 (size_t)(n_frames * plan->stages.spectrum_bins) * sizeof *input);
    if (input == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY,
                            "feature stage input of %lld frames", (long long)n_frames);
    melspec_free(&f->allocator, f->input);
    f->input = input;
    f->input_frames = n_frames;
    return MELSPEC_OK;
}

float *melspec_cpu_features_input(melspec_cpu_features *f) { return f == NULL ? NULL : f->input; }

melspec_status melspec_cpu_features_create(melspec_plan *plan, melspec_cpu_features **out)
{
    *out = NULL;
    if (plan->stages.feature == MELSPEC_FEATURE_NONE) return MELSPEC_OK;
    melspec_cpu_features *f = melspec_alloc_zeroed(&plan->allocator, 1, sizeof *f);
    if (f != NULL) {
        f->allocator = plan->allocator;
        f->pcen_state = melspec_alloc(&f->allocator,
                                      (size_t)plan->stages.spectrum_bins * sizeof *f->pcen_state);
        f->frame = melspec_alloc(&f->allocator, (size_t)plan->stages.n_bins * sizeof *f->frame);
    }
    if (f == NULL || f->pcen_state == NULL || f->frame == NULL) {
        melspec_cpu_features_destroy(f);
        return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "feature stage scratch");
    }
    *out = f;
    return MELSPEC_OK;
}

void melspec_cpu_features_destroy(melspec_cpu_features *f)
{
    if (f == NULL) return;
    const melspec_allocator a = f->allocator; /* a copy: f itself is freed with it */
    melspec_free(&a, f->pcen_state);
    melspec_free(&a, f->frame);
    melspec_free(&a, f->input);
    melspec_free(&a, f);
}

void melspec_cpu_features_clip(melspec_plan *plan, melspec_cpu_features *f, const float *values,
                               int64_t n_frames, float *clip)
{
    const int64_t n_in = plan->stages.spectrum_bins, n_out = plan->stages.n_bins;
    const int frames_major = plan->stages.layout == MELSPEC_LAYOUT_FRAMES_MAJOR;
    melspec_feature_reset(&plan->stages, f->pcen_state);
    for (int64_t t = 0; t < n_frames; t++) {
        float *out = frames_major ? clip + t * n_out : f->frame;
        melspec_feature_frame(&plan->stages, plan->mfcc_basis, f->pcen_state, values + t * n_in, out);
        if (!frames_major)
            for (int64_t k = 0; k < n_out; k++) clip[k * n_frames + t] = out[k];
    }
}
