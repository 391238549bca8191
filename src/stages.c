#include "stages.h"

#include <math.h>
#include <string.h>

/* Fields every kind fills the same way from the caller's shared fields. */
static void common_stages(melspec_stages *s, int32_t scaling, int32_t ref_mode, double ref,
                          double amin, double top_db, double log_offset, int32_t layout,
                          int32_t device_ordinal, int64_t max_batch, int64_t max_samples,
                          int32_t fixed_memory)
{
    s->layout = layout;
    s->device_ordinal = device_ordinal;
    s->max_batch = max_batch;
    s->max_samples = max_samples;
    s->fixed_memory = fixed_memory;
    s->value_bytes = s->complex_values ? 8 : s->dtype == MELSPEC_DTYPE_FLOAT32 ? 4 : 2;

    melspec_scale_stage *scale = &s->scale;
    memset(scale, 0, sizeof *scale);
    scale->mode = MELSPEC_SCALE_NONE;
    if (scaling == MELSPEC_SCALING_LOG) {
        scale->mode = MELSPEC_SCALE_LOG;
        scale->log_offset = (float)log_offset;
    } else if (scaling == MELSPEC_SCALING_POWER_TO_DB || scaling == MELSPEC_SCALING_AMPLITUDE_TO_DB) {
        scale->mode = MELSPEC_SCALE_DB;
        scale->factor = scaling == MELSPEC_SCALING_POWER_TO_DB ? 10.0 : 20.0;
        scale->ref_is_max = ref_mode == MELSPEC_REF_MAX;
        scale->clamp = !isinf(top_db);
        scale->amin = amin;
        scale->amin_float = (float)amin;
        scale->ref = ref;
        scale->top_db = top_db;
        scale->offset = scale->factor * log10(ref > amin ? ref : amin);
    }
    s->needs_clip_max = melspec_scale_needs_clip_max(scale);
}

/* The feature stage (issue 15), after the rest: it renames the rows the spectrum produces. */
static void feature_stage(const melspec_config *c, melspec_stages *s)
{
    s->feature = c->feature;
    s->spectrum_bins = s->n_bins;
    s->stream_frame_bytes = (size_t)s->n_bins * s->value_bytes;
    if (c->feature == MELSPEC_FEATURE_NONE) return;
    if (c->feature == MELSPEC_FEATURE_MFCC) s->n_bins = c->n_mfcc;
    if (c->feature == MELSPEC_FEATURE_PCEN)
        melspec_dsp_pcen_stage(c->pcen_b, c->pcen_gain, c->pcen_bias, c->pcen_power, c->pcen_eps,
                               c->pcen_max_size, &s->pcen);
    s->stream_frame_bytes = (size_t)s->spectrum_bins * sizeof(float);
}

void melspec_stages_from_config(const melspec_config *c, melspec_stages *s)
{
    memset(s, 0, sizeof *s);
    s->kind = MELSPEC_PLAN_KIND_SPECTRUM;
    s->complex_values = c->transform == MELSPEC_TRANSFORM_STFT;
    s->mel = c->transform == MELSPEC_TRANSFORM_MEL;
    s->n_bins = s->mel ? c->n_mels : 1 + c->n_fft / 2;
    /* AUTO is the fused sparse kernel until a GPU run measures GEMM faster (docs/cuda.md) */
    s->mel_product = c->mel_product == MELSPEC_MEL_PRODUCT_GEMM ? MELSPEC_MEL_PRODUCT_GEMM
                                                                : MELSPEC_MEL_PRODUCT_SPARSE;
    s->dtype = c->output_dtype;
    s->power.mode = c->power == 2.0   ? MELSPEC_POWER_SQUARED
                    : c->power == 1.0 ? MELSPEC_POWER_MAGNITUDE
                                      : MELSPEC_POWER_GENERAL;
    s->power.half_power = (float)(c->power / 2.0);
    s->frames.n_fft = c->n_fft;
    s->frames.hop = c->hop_length;
    s->frames.pad = c->center ? c->n_fft / 2 : 0;
    s->frames.pad_mode = c->pad_mode;
    common_stages(s, c->scaling, c->ref_mode, c->ref, c->amin, c->top_db, c->log_offset,
                  c->layout, c->device_ordinal, c->max_batch, c->max_samples, c->fixed_memory);
    feature_stage(c, s);
}

void melspec_stages_from_cqt_config(const melspec_cqt_config *c, melspec_stages *s)
{
    memset(s, 0, sizeof *s);
    s->kind = MELSPEC_PLAN_KIND_CQT;
    s->complex_values = c->output == MELSPEC_CQT_OUTPUT_COMPLEX;
    s->n_bins = c->n_bins;
    s->dtype = MELSPEC_DTYPE_FLOAT32;
    s->power.mode = MELSPEC_POWER_MAGNITUDE;
    s->power.half_power = 0.5f;
    s->frames.hop = c->hop_length;
    s->frames.pad_mode = c->pad_mode;
    common_stages(s, c->scaling, c->ref_mode, c->ref, c->amin, c->top_db, c->log_offset,
                  c->layout, c->device_ordinal, c->max_batch, c->max_samples, c->fixed_memory);
    s->spectrum_bins = s->n_bins;
    s->stream_frame_bytes = (size_t)s->n_bins * s->value_bytes;
}

int64_t melspec_stages_frame_count(const melspec_stages *s, int64_t n_samples)
{
    if (n_samples < 1) return -1;
    /* librosa frames the padded signal: n_fft/2 on each side, which for an odd n_fft is one
     * sample less than n_fft in all, so the centred count is 1 + (n - 1)/hop there. */
    const int64_t padded = n_samples + 2 * s->frames.pad;
    if (padded < s->frames.n_fft) return -1;
    return 1 + (padded - s->frames.n_fft) / s->frames.hop;
}
