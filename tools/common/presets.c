#include "presets.h"

void cli_preset_librosa(melspec_config *c)
{
    melspec_config_init(c);
    c->sample_rate = 22050.0;
}

void cli_preset_whisper(melspec_config *c)
{
    /* whisper/audio.py: torch.stft(400, 160, hann window, center with reflect padding), |.|^2,
     * librosa's slaney mel filterbank, log10 with a 1e-10 floor, clamp to max - 8. */
    melspec_config_init(c);
    c->sample_rate = 16000.0;
    c->n_fft = 400;
    c->hop_length = 160;
    c->n_mels = 80;
    c->power = 2.0;
    c->pad_mode = MELSPEC_PAD_REFLECT;
    c->scaling = MELSPEC_SCALING_POWER_TO_DB;
    c->ref = 1.0;
    c->amin = 1e-10;
    c->top_db = 80.0;
}

void cli_preset_realtime(melspec_config *c)
{
    melspec_config_init(c);
    c->sample_rate = 16000.0;
    c->n_fft = 800;
    c->hop_length = 200;
    c->n_mels = 80;
    c->fmin = 55.0;
    c->fmax = 7600.0;
    c->power = 1.0;
    c->mel_scale = MELSPEC_MEL_SCALE_SLANEY;
    c->mel_norm = MELSPEC_MEL_NORM_SLANEY;
}

void cli_cqt_options_init(cli_cqt_options *cqt)
{
    cqt->n_bins = 0;
    cqt->bins_per_octave = 0;
    cqt->tuning = 0.0;
    cqt->filter_scale = 0.0;
    cqt->sparsity = -1.0;
    cqt->res_type = MELSPEC_CQT_RES_SOXR_HQ;
}

void cli_preset_ccmusic_cqt(melspec_config *c, cli_cqt_options *cqt)
{
    melspec_config_init(c);
    cli_cqt_options_init(cqt);
    c->sample_rate = 22050.0;
    c->hop_length = 512;
    c->scaling = MELSPEC_SCALING_AMPLITUDE_TO_DB;
    c->ref_mode = MELSPEC_REF_MAX;
    cqt->n_bins = 84;
}

melspec_status cli_cqt_plan_create(melspec_plan **plan, const melspec_config *c,
                                   const cli_cqt_options *cqt, char *message, size_t capacity)
{
    melspec_cqt_config q;
    melspec_cqt_config_init(&q);
    q.output = c->scaling == MELSPEC_SCALING_NONE ? MELSPEC_CQT_OUTPUT_COMPLEX
                                                  : MELSPEC_CQT_OUTPUT_MAGNITUDE;
    q.sample_rate = c->sample_rate;
    if (c->hop_length != 0) q.hop_length = c->hop_length;
    if (c->fmin != 0.0) q.fmin = c->fmin;
    if (cqt->n_bins != 0) q.n_bins = cqt->n_bins;
    if (cqt->bins_per_octave != 0) q.bins_per_octave = cqt->bins_per_octave;
    q.tuning = cqt->tuning;
    if (cqt->filter_scale != 0.0) q.filter_scale = cqt->filter_scale;
    if (cqt->sparsity >= 0.0) q.sparsity = cqt->sparsity;
    q.res_type = cqt->res_type;
    q.window = c->window;
    q.pad_mode = c->pad_mode;
    q.scaling = c->scaling;
    q.ref_mode = c->ref_mode;
    q.ref = c->ref;
    q.amin = c->amin;
    q.top_db = c->top_db;
    q.log_offset = c->log_offset;
    q.layout = c->layout;
    q.backend = c->backend;
    q.device_ordinal = c->device_ordinal;
    q.max_batch = c->max_batch;
    q.max_samples = c->max_samples;
    return melspec_cqt_plan_create(plan, &q, message, capacity);
}
