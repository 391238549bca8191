/* Constant-Q plans: config defaults and validation, the design, and the CQT-specific queries. The
 * plan lifecycle and execute are plan.c's, shared with the STFT family. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "dsp/cqt.h"
#include "dsp/window.h"
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
    config->res_type = MELSPEC_CQT_RES_SOXR_HQ;
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
    if (c->hop_length > MELSPEC_MAX_HOP_LENGTH)
        FAIL(MELSPEC_ERROR_SIZE_OVERFLOW, "hop_length = %lld exceeds the largest supported %lld",
             (long long)c->hop_length, (long long)MELSPEC_MAX_HOP_LENGTH);
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
    /* issue 15: every designed window without parameters (the CQT config has none) */
    if (c->window < 0 || melspec_dsp_window_param_count((melspec_window)c->window) != 0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "window = %d: constant-Q plans take the windows without parameters (0..%d)",
             (int)c->window, (int)MELSPEC_WINDOW_EXPONENTIAL);
    if (!(c->sparsity >= 0.0 && c->sparsity < 1.0))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "sparsity = %g must be in [0, 1): the fraction of each basis row's mass dropped",
             c->sparsity);
    if (c->scale != 0 && c->scale != 1)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "scale = %d must be 0 or 1", (int)c->scale);
    CHECK_ENUM(pad_mode, MELSPEC_PAD_EDGE);
    CHECK_ENUM(res_type, MELSPEC_CQT_RES_POLYPHASE); /* issue 15 */
    return MELSPEC_OK;
}

/* librosa refuses a basis whose top filter reaches above Nyquist; we also refuse filters too long
 * to plan for. */
static melspec_status check_basis(const melspec_cqt_config *c, const double *intervals,
                                  const melspec_allocator *allocator, char *message,
                                  size_t capacity)
{
    double *frequencies = melspec_alloc(allocator, (size_t)(2 * c->n_bins) * sizeof *frequencies);
    if (frequencies == NULL)
        FAIL(MELSPEC_ERROR_OUT_OF_MEMORY, "%lld bin frequencies", (long long)c->n_bins);
    double *alpha = frequencies + c->n_bins;
    if (melspec_dsp_cqt_bin_frequencies(c, intervals, frequencies) != 0) {
        melspec_free(allocator, frequencies);
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "intervals: bins_per_octave must be >= 1");
    }
    /* intervals may repeat a frequency; librosa's bandwidths then divide by zero */
    for (int64_t b = 1; intervals != NULL && b < c->n_bins; b++)
        if (!(frequencies[b] > frequencies[b - 1])) {
            const double f = frequencies[b];
            melspec_free(allocator, frequencies);
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "intervals give the frequency %g Hz twice (bins %lld and %lld): the bins' "
                 "bandwidths need distinct frequencies",
                 f, (long long)(b - 1), (long long)b);
        }
    melspec_dsp_cqt_alpha(frequencies, c->n_bins, c->bins_per_octave, alpha);
    const double cutoff = melspec_dsp_cqt_wavelet_lengths(c, frequencies, alpha, c->n_bins,
                                                          c->sample_rate, NULL);
    const double top = frequencies[c->n_bins - 1];
    /* the longest filter at the full rate bounds every octave's frame length. Every bin's, not
     * only the lowest's (issue 17, fuzz_cqt): bins so close that their relative bandwidth rounds
     * to 0 (an fmin near the smallest double, whose bins round to the same frequency) have no
     * length at all (0/0), and rounding may make another bin longer than the lowest. */
    double longest = 0.0, no_bandwidth_frequency = 0.0;
    int64_t no_bandwidth_bin = -1;
    for (int64_t b = 0; b < c->n_bins; b++) {
        const double length =
            melspec_dsp_cqt_filter_length(c, frequencies[b], alpha[b], c->sample_rate);
        if (!(alpha[b] > 0.0) || isnan(length)) {
            no_bandwidth_bin = b;
            no_bandwidth_frequency = frequencies[b];
            break;
        }
        longest = length > longest ? length : longest;
    }
    melspec_free(allocator, frequencies);
    if (no_bandwidth_bin >= 0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "bin %lld (%g Hz) has no bandwidth: its neighbours' frequencies round to (nearly) "
             "its own; raise fmin (%g Hz)",
             (long long)no_bandwidth_bin, no_bandwidth_frequency, c->fmin);
    const double nyquist = c->sample_rate / 2.0;
    if (!(cutoff <= nyquist))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "the top bin (%g Hz) has a wavelet reaching %g Hz, above the Nyquist frequency %g "
             "Hz: lower n_bins (%lld) or fmin (%g Hz), or raise sample_rate",
             top, cutoff, nyquist, (long long)c->n_bins, c->fmin);
    if (!(longest <= (double)MELSPEC_MAX_N_FFT))
        FAIL(MELSPEC_ERROR_SIZE_OVERFLOW,
             "the longest filter is %g samples long at sample_rate = %g, more than the "
             "largest supported %lld: raise fmin (%g Hz) or lower filter_scale",
             longest, c->sample_rate, (long long)MELSPEC_MAX_N_FFT, c->fmin);
    return MELSPEC_OK;
}

static melspec_status resolve(const melspec_cqt_config *config, const double *intervals,
                              melspec_cqt_config *c, const melspec_allocator *allocator,
                              char *message, size_t capacity)
{
    if (config == NULL) FAIL(MELSPEC_ERROR_NULL_POINTER, "config is NULL");
    const size_t smallest = offsetof(melspec_cqt_config, output) + sizeof config->output;
    melspec_status status =
        melspec_copy_config_struct(config, config->struct_size, c, sizeof *c, smallest,
                                   "melspec_cqt_config_init", message, capacity);
    if (status != MELSPEC_OK) return status;
    c->struct_size = (uint32_t)sizeof *c;
    if ((status = check_transform(c, message, capacity)) != MELSPEC_OK) return status;
    const melspec_scaling_fields scaling = {
        &c->scaling, &c->ref_mode,   &c->ref, &c->amin, &c->top_db, &c->log_offset,
        c->output == MELSPEC_CQT_OUTPUT_COMPLEX, "the complex CQT (set output = MAGNITUDE to scale |C|)"};
    if ((status = melspec_check_scaling(&scaling, message, capacity)) != MELSPEC_OK) return status;
    const melspec_execution_fields execution = {
        &c->layout,    &c->backend,   &c->device_ordinal, &c->fixed_memory,
        &c->max_batch, &c->max_samples, c->sample_rate};
    if ((status = melspec_check_execution(&execution, message, capacity)) != MELSPEC_OK)
        return status;
    return check_basis(c, intervals, allocator, message, capacity);
}

/* Every public create: intervals NULL for equal temperament, allocator NULL for malloc. */
static melspec_status create_cqt_plan(melspec_plan **plan_out, const melspec_cqt_config *config,
                                      const double *intervals, const melspec_allocator *allocator,
                                      char *message, size_t capacity)
{
    if (message != NULL && capacity > 0) message[0] = '\0';
    if (plan_out == NULL)
        FAIL(MELSPEC_ERROR_NULL_POINTER, "plan (the out-parameter) is NULL");
    *plan_out = NULL;
    melspec_cqt_config resolved;
    melspec_status status = melspec_check_allocator(allocator, message, capacity);
    if (status != MELSPEC_OK) return status;
    status = resolve(config, intervals, &resolved, allocator, message, capacity);
    if (status != MELSPEC_OK) return status;

    melspec_plan *plan = melspec_plan_allocate(allocator);
    if (plan == NULL) FAIL(MELSPEC_ERROR_OUT_OF_MEMORY, "plan");
    plan->cqt_config = resolved;
    melspec_stages_from_cqt_config(&resolved, &plan->stages);
    status = melspec_select_backend((melspec_backend)resolved.backend, resolved.device_ordinal,
                                    &plan->backend, &plan->ops, message, capacity);
    if (status != MELSPEC_OK) goto fail;
    plan->cqt_config.backend = plan->backend;
    plan->cqt = melspec_dsp_cqt_design_create_with_intervals(&plan->cqt_config, intervals,
                                                             &plan->allocator);
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

melspec_status melspec_cqt_plan_create(melspec_plan **plan_out, const melspec_cqt_config *config,
                                       char *message, size_t capacity)
{
    return create_cqt_plan(plan_out, config, NULL, NULL, message, capacity);
}

melspec_status melspec_cqt_plan_create_with_allocator(melspec_plan **plan_out,
                                                      const melspec_cqt_config *config,
                                                      const melspec_allocator *allocator,
                                                      char *message, size_t capacity)
{
    return create_cqt_plan(plan_out, config, NULL, allocator, message, capacity);
}

/* -- librosa's parameter space (issue 15): vqt(intervals=array) -- */
melspec_status melspec_cqt_plan_create_with_intervals(melspec_plan **plan_out,
                                                      const melspec_cqt_config *config,
                                                      const double *intervals,
                                                      int64_t n_intervals, char *message,
                                                      size_t capacity)
{
    if (message != NULL && capacity > 0) message[0] = '\0';
    if (plan_out != NULL) *plan_out = NULL;
    if (intervals == NULL) FAIL(MELSPEC_ERROR_NULL_POINTER, "intervals is NULL");
    if (config == NULL) FAIL(MELSPEC_ERROR_NULL_POINTER, "config is NULL");
    if (n_intervals < 1 || n_intervals != config->bins_per_octave)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "n_intervals = %lld must be >= 1 and equal bins_per_octave = %lld (librosa sets "
             "bins_per_octave = len(intervals))",
             (long long)n_intervals, (long long)config->bins_per_octave);
    for (int64_t i = 0; i < n_intervals; i++)
        if (!(isfinite(intervals[i]) && intervals[i] > 0.0))
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "intervals[%lld] = %g must be a positive finite frequency ratio", (long long)i,
                 intervals[i]);
    return create_cqt_plan(plan_out, config, intervals, NULL, message, capacity);
}

melspec_status melspec_cqt_plan_config(const melspec_plan *plan, melspec_cqt_config *config)
{
    if (plan == NULL || config == NULL) return MELSPEC_ERROR_NULL_POINTER;
    if (plan->stages.kind != MELSPEC_PLAN_KIND_CQT) return MELSPEC_ERROR_UNSUPPORTED;
    *config = plan->cqt_config;
    return MELSPEC_OK;
}

melspec_status melspec_cqt_plan_frequencies(const melspec_plan *plan, double *frequencies,
                                            size_t capacity_bytes)
{
    if (plan == NULL || frequencies == NULL) return MELSPEC_ERROR_NULL_POINTER;
    if (plan->stages.kind != MELSPEC_PLAN_KIND_CQT) return MELSPEC_ERROR_UNSUPPORTED;
    const size_t n = (size_t)plan->cqt->n_bins;
    if (capacity_bytes / sizeof *frequencies < n) return MELSPEC_ERROR_BUFFER_TOO_SMALL;
    memcpy(frequencies, plan->cqt->frequencies, n * sizeof *frequencies);
    return MELSPEC_OK;
}
