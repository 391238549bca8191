/* Constant-Q plans: config defaults and validation, the design, and the CQT-specific queries. The
 * plan lifecycle and execute are plan.c's, shared with the STFT family. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dsp/cqt.h"
#include "plan.h"

/* Bins and bins per octave far beyond any use, small enough for every product formed. */
#define MAX_CQT_BINS ((int64_t)1 << 16)

void melspec_cqt_config_init(melspec_cqt_config *config)
{
    if (config == NULL) return;
    memset(config, 0, sizeof *config);
    config->struct_size = (uint32_t)sizeof *config;
    config->output = MELSPEC_CQT_OUTPUT_COMPLEX;
    config->sample_rate = 22050.0;
    config->hop_length = 512;
    config->fmin = MELSPEC_CQT_DEFAULT_FMIN;
    config->n_bins = 84;
    config->bins_per_octave = 12;
    config->tuning = 0.0;
    config->filter_scale = 1.0;
    config->gamma = 0.0;
    config->gamma_mode = MELSPEC_VQT_GAMMA_FIXED;
    config->norm = MELSPEC_CQT_NORM_L1;
    config->window = MELSPEC_WINDOW_HANN;
    config->sparsity = 0.01;
    config->scale = 1;
    config->pad_mode = MELSPEC_PAD_CONSTANT;
    config->scaling = MELSPEC_SCALING_NONE;
    config->ref_mode = MELSPEC_REF_VALUE;
    config->ref = 1.0;
    config->amin = 0.0;
    config->top_db = 80.0;
    config->log_offset = 1e-6;
    config->layout = MELSPEC_LAYOUT_BINS_MAJOR;
    config->backend = MELSPEC_BACKEND_AUTO;
    config->device_ordinal = 0;
    config->max_batch = 0;
    config->max_samples = 0;
}

size_t melspec_cqt_config_size(void) { return sizeof(melspec_cqt_config); }

#define FAIL MELSPEC_CONFIG_FAIL
#define CHECK_ENUM MELSPEC_CONFIG_CHECK_ENUM

static int is_finite_positive(double x) { return isfinite(x) && x > 0.0; }

/* The transform's own fields: librosa's errors, and zeros resolved to librosa's defaults. */
static melspec_status check_transform(melspec_cqt_config *c, char *message, size_t capacity)
{
    CHECK_ENUM(output, MELSPEC_CQT_OUTPUT_MAGNITUDE);
    if (!is_finite_positive(c->sample_rate))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "sample_rate = %g must be a positive finite number",
             c->sample_rate);
    if (c->hop_length < 0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "hop_length = %lld must be > 0 (0 means 512)",
             (long long)c->hop_length);
    if (c->hop_length == 0) c->hop_length = 512;
    if (!isfinite(c->fmin) || c->fmin < 0.0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "fmin = %g Hz: frequencies must be strictly positive (0 means C1 = %g Hz)", c->fmin,
             MELSPEC_CQT_DEFAULT_FMIN);
    if (c->fmin == 0.0) c->fmin = MELSPEC_CQT_DEFAULT_FMIN;
    if (c->n_bins < 0 || c->n_bins > MAX_CQT_BINS)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "n_bins = %lld must be in 1..%lld (0 means 84)",
             (long long)c->n_bins, (long long)MAX_CQT_BINS);
    if (c->n_bins == 0) c->n_bins = 84;
    if (c->bins_per_octave < 0 || c->bins_per_octave > MAX_CQT_BINS)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "bins_per_octave = %lld must be in 1..%lld (0 means 12)",
             (long long)c->bins_per_octave, (long long)MAX_CQT_BINS);
    if (c->bins_per_octave == 0) c->bins_per_octave = 12;
    if (!isfinite(c->tuning))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "tuning = %g (fractions of a bin) must be finite",
             c->tuning);
    if (!isfinite(c->filter_scale) || c->filter_scale < 0.0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "filter_scale = %g must be positive and finite (0 means 1)", c->filter_scale);
    if (c->filter_scale == 0.0) c->filter_scale = 1.0;
    if (!isfinite(c->gamma) || c->gamma < 0.0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "gamma = %g Hz must be finite and non-negative",
             c->gamma);
    CHECK_ENUM(gamma_mode, MELSPEC_VQT_GAMMA_ERB);
    CHECK_ENUM(norm, MELSPEC_CQT_NORM_NONE);
    CHECK_ENUM(window, MELSPEC_WINDOW_RECTANGULAR);
    if (!(c->sparsity >= 0.0 && c->sparsity < 1.0))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "sparsity = %g must be in [0, 1): the fraction of each basis row's mass dropped",
             c->sparsity);
    if (c->scale != 0 && c->scale != 1)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "scale = %d must be 0 or 1", (int)c->scale);
    CHECK_ENUM(pad_mode, MELSPEC_PAD_EDGE);
    if (c->output == MELSPEC_CQT_OUTPUT_COMPLEX && c->scaling != MELSPEC_SCALING_NONE)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "scaling = %d applies to the MAGNITUDE output; the complex CQT takes SCALING_NONE",
             (int)c->scaling);
    return MELSPEC_OK;
}

/* librosa refuses a basis whose top filter reaches above Nyquist; we also refuse filters too long
 * to plan for. */
static melspec_status check_basis(const melspec_cqt_config *c, char *message, size_t capacity)
{
    double *frequencies = malloc((size_t)(2 * c->n_bins) * sizeof *frequencies);
    if (frequencies == NULL)
        FAIL(MELSPEC_ERROR_OUT_OF_MEMORY, "%lld bin frequencies", (long long)c->n_bins);
    double *alpha = frequencies + c->n_bins;
    melspec_dsp_cqt_frequencies(c->fmin, c->tuning, c->n_bins, c->bins_per_octave, frequencies);
    melspec_dsp_cqt_alpha(frequencies, c->n_bins, c->bins_per_octave, alpha);
    const double cutoff = melspec_dsp_cqt_wavelet_lengths(c, frequencies, alpha, c->n_bins,
                                                          c->sample_rate, NULL);
    const double top = frequencies[c->n_bins - 1];
    /* the longest filter at the full rate bounds every octave's frame length */
    const double longest =
        melspec_dsp_cqt_filter_length(c, frequencies[0], alpha[0], c->sample_rate);
    free(frequencies);
    const double nyquist = c->sample_rate / 2.0;
    if (!(cutoff <= nyquist))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "the top bin (%g Hz) has a wavelet reaching %g Hz, above the Nyquist frequency %g "
             "Hz: lower n_bins (%lld) or fmin (%g Hz), or raise sample_rate",
             top, cutoff, nyquist, (long long)c->n_bins, c->fmin);
    if (!(longest <= (double)MELSPEC_MAX_N_FFT))
        FAIL(MELSPEC_ERROR_SIZE_OVERFLOW,
             "the lowest bin's filter is %g samples long at sample_rate = %g, more than the "
             "largest supported %lld: raise fmin (%g Hz) or lower filter_scale",
             longest, c->sample_rate, (long long)MELSPEC_MAX_N_FFT, c->fmin);
    return MELSPEC_OK;
}

/* The fields a CQT plan shares with the STFT family, as a melspec_config, so that the shared
 * checks and the scaling stage apply unchanged. */
static void shared_fields(const melspec_cqt_config *c, melspec_config *shared)
{
    melspec_config_init(shared);
    shared->transform = c->output == MELSPEC_CQT_OUTPUT_COMPLEX ? MELSPEC_TRANSFORM_STFT
                                                                 : MELSPEC_TRANSFORM_LINEAR;
    shared->sample_rate = c->sample_rate;
    shared->hop_length = c->hop_length;
    shared->pad_mode = c->pad_mode;
    shared->power = 1.0;
    shared->scaling = c->scaling;
    shared->ref = c->ref;
    shared->amin = c->amin;
    shared->top_db = c->top_db;
    shared->log_offset = c->log_offset;
    shared->ref_mode = c->ref_mode;
    shared->layout = c->layout;
    shared->backend = c->backend;
    shared->device_ordinal = c->device_ordinal;
    shared->reserved0 = c->reserved0;
    shared->max_batch = c->max_batch;
    shared->max_samples = c->max_samples;
}

static melspec_status resolve(const melspec_cqt_config *config, melspec_cqt_config *c,
                              melspec_config *shared, char *message, size_t capacity)
{
    if (config == NULL) FAIL(MELSPEC_ERROR_NULL_POINTER, "config is NULL");
    const size_t smallest = offsetof(melspec_cqt_config, output) + sizeof config->output;
    melspec_status status =
        melspec_copy_config_struct(config, config->struct_size, c, sizeof *c, smallest,
                                   "melspec_cqt_config_init", message, capacity);
    if (status != MELSPEC_OK) return status;
    c->struct_size = (uint32_t)sizeof *c;
    if ((status = check_transform(c, message, capacity)) != MELSPEC_OK) return status;
    shared_fields(c, shared);
    melspec_config checked;
    if ((status = melspec_config_resolve(shared, &checked, message, capacity)) != MELSPEC_OK)
        return status;
    *shared = checked;
    c->amin = checked.amin;
    c->max_batch = checked.max_batch;
    c->max_samples = checked.max_samples;
    return check_basis(c, message, capacity);
}

melspec_status melspec_cqt_plan_create(melspec_plan **plan_out, const melspec_cqt_config *config,
                                       char *message, size_t capacity)
{
    if (message != NULL && capacity > 0) message[0] = '\0';
    if (plan_out == NULL)
        FAIL(MELSPEC_ERROR_NULL_POINTER, "plan (the out-parameter) is NULL");
    *plan_out = NULL;
    melspec_cqt_config resolved;
    melspec_config shared;
    melspec_status status = resolve(config, &resolved, &shared, message, capacity);
    if (status != MELSPEC_OK) return status;

    melspec_plan *plan = calloc(1, sizeof *plan);
    if (plan == NULL) FAIL(MELSPEC_ERROR_OUT_OF_MEMORY, "plan");
    plan->kind = MELSPEC_PLAN_KIND_CQT;
    plan->config = shared;
    plan->cqt_config = resolved;
    plan->n_bins = resolved.n_bins;
    status = melspec_select_cqt_backend(&shared, &plan->backend, &plan->ops, message, capacity);
    if (status != MELSPEC_OK) goto fail;
    plan->config.backend = plan->backend;
    plan->cqt_config.backend = plan->backend;
    plan->cqt = melspec_dsp_cqt_design_create(&plan->cqt_config);
    if (plan->cqt == NULL) {
        status = melspec_fail_message(message, capacity, MELSPEC_ERROR_OUT_OF_MEMORY,
                                      "CQT basis of %lld bins", (long long)resolved.n_bins);
        goto fail;
    }
    return melspec_plan_finish_create(plan, plan_out, message, capacity);

fail:
    melspec_plan_destroy(plan);
    return status;
}

melspec_status melspec_cqt_output_shape(melspec_plan *plan, int64_t n_samples, int64_t *n_bins,
                                        int64_t *n_frames)
{
    const melspec_cqt_design *d = plan->cqt;
    if (n_samples < d->early_factor)
        return melspec_fail(plan, MELSPEC_ERROR_INPUT_TOO_SHORT,
                            "n_samples = %lld is too short for this %lld-octave CQT: it is "
                            "first downsampled by %lld (librosa raises the same)",
                            (long long)n_samples, (long long)d->n_octaves,
                            (long long)d->early_factor);
    *n_bins = d->n_bins;
    *n_frames = melspec_dsp_cqt_frame_count(d, n_samples);
    return MELSPEC_OK;
}

static melspec_status require_cqt(const melspec_plan *plan)
{
    if (plan->kind == MELSPEC_PLAN_KIND_CQT) return MELSPEC_OK;
    return melspec_fail((melspec_plan *)plan, MELSPEC_ERROR_UNSUPPORTED,
                        "this plan is not a constant-Q plan (made by melspec_plan_create)");
}

melspec_status melspec_cqt_plan_config(const melspec_plan *plan, melspec_cqt_config *config)
{
    if (plan == NULL || config == NULL) return MELSPEC_ERROR_NULL_POINTER;
    const melspec_status status = require_cqt(plan);
    if (status != MELSPEC_OK) return status;
    *config = plan->cqt_config;
    return MELSPEC_OK;
}

melspec_status melspec_cqt_plan_frequencies(melspec_plan *plan, double *frequencies,
                                            size_t capacity)
{
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    if (frequencies == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "frequencies is NULL");
    const melspec_status status = require_cqt(plan);
    if (status != MELSPEC_OK) return status;
    const size_t n = (size_t)plan->cqt->n_bins;
    if (capacity < n)
        return melspec_fail(plan, MELSPEC_ERROR_BUFFER_TOO_SMALL,
                            "frequencies holds %zu doubles but n_bins = %zu", capacity, n);
    memcpy(frequencies, plan->cqt->frequencies, n * sizeof *frequencies);
    plan->last_error[0] = '\0';
    return MELSPEC_OK;
}
