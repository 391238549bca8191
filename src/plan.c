/* Plan lifecycle and dispatch: validation and design happen here once, the backends compute. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dsp/cqt.h"
#include "dsp/mel.h"
#include "dsp/window.h"
#include "plan.h"

int64_t melspec_frame_count(const melspec_config *config, int64_t n_samples)
{
    if (n_samples < 1) return -1;
    /* librosa frames the padded signal: n_fft/2 on each side, which for an odd n_fft is one
     * sample less than n_fft in all, so the centred count is 1 + (n - 1)/hop there. */
    const int64_t padded = n_samples + (config->center ? 2 * (config->n_fft / 2) : 0);
    if (padded < config->n_fft) return -1;
    return 1 + (padded - config->n_fft) / config->hop_length;
}

static void free_sparse_rows(melspec_sparse_rows *rows)
{
    free(rows->first_column);
    free(rows->row_length);
    free(rows->row_offset);
    free(rows->weights);
    memset(rows, 0, sizeof *rows);
}

/* Keeps the one contiguous run of nonzero weights per row (a triangle has exactly one). */
static int build_sparse_rows(const double *dense, int64_t n_rows, int64_t n_columns,
                             melspec_sparse_rows *rows)
{
    rows->n_rows = n_rows;
    rows->n_columns = n_columns;
    rows->first_column = calloc((size_t)n_rows, sizeof *rows->first_column);
    rows->row_length = calloc((size_t)n_rows, sizeof *rows->row_length);
    rows->row_offset = calloc((size_t)n_rows, sizeof *rows->row_offset);
    if (!rows->first_column || !rows->row_length || !rows->row_offset) return -1;
    int64_t total = 0;
    for (int64_t r = 0; r < n_rows; r++) {
        const double *row = dense + r * n_columns;
        int64_t first = 0, last = n_columns - 1;
        while (first < n_columns && row[first] == 0.0) first++;
        while (last > first && row[last] == 0.0) last--;
        rows->first_column[r] = first;
        rows->row_length[r] = first < n_columns ? last - first + 1 : 0;
        rows->row_offset[r] = total;
        total += rows->row_length[r];
    }
    rows->weights = malloc((size_t)(total > 0 ? total : 1) * sizeof *rows->weights);
    if (!rows->weights) return -1;
    for (int64_t r = 0; r < n_rows; r++)
        for (int64_t k = 0; k < rows->row_length[r]; k++)
            rows->weights[rows->row_offset[r] + k] =
                (float)dense[r * n_columns + rows->first_column[r] + k];
    return 0;
}

/* Window and filterbank, in double, for both backends. */
static melspec_status design(melspec_plan *plan, char *message, size_t capacity)
{
    const melspec_config *c = &plan->config;
    plan->window = malloc((size_t)c->n_fft * sizeof *plan->window);
    if (plan->window == NULL)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_OUT_OF_MEMORY,
                                    "window of n_fft = %lld doubles", (long long)c->n_fft);
    if (melspec_dsp_window((melspec_window)c->window, c->win_length, c->n_fft, plan->window) != 0)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_INTERNAL, "window design");
    if (c->transform != MELSPEC_TRANSFORM_MEL) return MELSPEC_OK;

    size_t n_values;
    if (!melspec_mul_size((size_t)c->n_mels, (size_t)plan->n_freq, &n_values) ||
        n_values > SIZE_MAX / sizeof(double))
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_SIZE_OVERFLOW,
                                    "n_mels x (1 + n_fft/2) filterbank is too large");
    plan->filterbank = malloc(n_values * sizeof *plan->filterbank);
    if (plan->filterbank == NULL)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_OUT_OF_MEMORY,
                                    "mel filterbank of %zu doubles", n_values);
    if (melspec_dsp_mel_filterbank(c->sample_rate, c->n_fft, c->n_mels, c->fmin, c->fmax,
                                   (melspec_mel_scale)c->mel_scale,
                                   (melspec_mel_norm)c->mel_norm, plan->filterbank) != 0)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_OUT_OF_MEMORY,
                                    "mel filterbank design");
    const int64_t empty =
        melspec_dsp_first_empty_band(plan->filterbank, c->n_mels, plan->n_freq, c->fmin);
    if (empty >= 0)
        return melspec_fail_message(
            message, capacity, MELSPEC_ERROR_INVALID_ARGUMENT,
            "mel band %lld of n_mels = %lld contains no FFT bin (bins are %g Hz apart with n_fft "
            "= %lld): lower n_mels, raise n_fft, or widen fmin..fmax",
            (long long)empty, (long long)c->n_mels, c->sample_rate / (double)c->n_fft,
            (long long)c->n_fft);
    if (build_sparse_rows(plan->filterbank, c->n_mels, plan->n_freq, &plan->mel_rows) != 0)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_OUT_OF_MEMORY,
                                    "sparse mel filterbank");
    return MELSPEC_OK;
}

melspec_status melspec_plan_create(melspec_plan **plan_out, const melspec_config *config,
                                   char *message, size_t capacity)
{
    if (message != NULL && capacity > 0) message[0] = '\0';
    if (plan_out == NULL)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_NULL_POINTER,
                                    "plan (the out-parameter) is NULL");
    *plan_out = NULL;
    melspec_config resolved;
    melspec_status status = melspec_config_resolve(config, &resolved, message, capacity);
    if (status != MELSPEC_OK) return status;

    melspec_plan *plan = calloc(1, sizeof *plan);
    if (plan == NULL)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_OUT_OF_MEMORY, "plan");
    plan->config = resolved;
    plan->n_freq = 1 + resolved.n_fft / 2;
    plan->n_bins = resolved.transform == MELSPEC_TRANSFORM_MEL ? resolved.n_mels : plan->n_freq;

    status = melspec_select_backend(&resolved, &plan->backend, &plan->ops, message, capacity);
    if (status != MELSPEC_OK) goto fail;
    plan->config.backend = plan->backend;
    status = design(plan, message, capacity);
    if (status != MELSPEC_OK) goto fail;
    return melspec_plan_finish_create(plan, plan_out, message, capacity);

fail:
    melspec_plan_destroy(plan);
    return status;
}

melspec_status melspec_plan_finish_create(melspec_plan *plan, melspec_plan **plan_out,
                                          char *message, size_t capacity)
{
    const melspec_status status = plan->ops->create(plan);
    if (status != MELSPEC_OK) {
        melspec_fail_message(message, capacity, status, "%s backend: %s", plan->ops->name,
                             plan->last_error);
        melspec_plan_destroy(plan);
        return status;
    }
    *plan_out = plan;
    return MELSPEC_OK;
}

void melspec_plan_destroy(melspec_plan *plan)
{
    if (plan == NULL) return;
    if (plan->ops != NULL && plan->ops->destroy != NULL) plan->ops->destroy(plan);
    free(plan->window);
    free(plan->filterbank);
    free_sparse_rows(&plan->mel_rows);
    melspec_dsp_cqt_design_destroy(plan->cqt);
    free(plan);
}

const char *melspec_plan_last_error(const melspec_plan *plan)
{
    return plan == NULL ? "plan is NULL" : plan->last_error;
}

melspec_status melspec_plan_config(const melspec_plan *plan, melspec_config *config)
{
    if (plan == NULL || config == NULL) return MELSPEC_ERROR_NULL_POINTER;
    if (plan->kind == MELSPEC_PLAN_KIND_CQT)
        return melspec_fail((melspec_plan *)plan, MELSPEC_ERROR_UNSUPPORTED,
                            "a constant-Q plan's config is a melspec_cqt_config: use "
                            "melspec_cqt_plan_config");
    *config = plan->config;
    return MELSPEC_OK;
}

melspec_backend melspec_plan_backend(const melspec_plan *plan)
{
    return plan == NULL ? MELSPEC_BACKEND_AUTO : plan->backend;
}

melspec_status melspec_plan_output_shape(melspec_plan *plan, int64_t n_samples, int64_t *n_bins,
                                         int64_t *n_frames)
{
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    plan->last_error[0] = '\0';
    if (n_bins == NULL || n_frames == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "n_bins or n_frames is NULL");
    if (n_samples < 1)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                            "n_samples = %lld: the input is empty", (long long)n_samples);
    if (plan->kind == MELSPEC_PLAN_KIND_CQT)
        return melspec_cqt_output_shape(plan, n_samples, n_bins, n_frames);
    const int64_t frames = melspec_frame_count(&plan->config, n_samples);
    if (frames < 0)
        return melspec_fail(plan, MELSPEC_ERROR_INPUT_TOO_SHORT,
                            "n_samples = %lld is shorter than n_fft = %lld with center off",
                            (long long)n_samples, (long long)plan->config.n_fft);
    *n_bins = plan->n_bins;
    *n_frames = frames;
    return MELSPEC_OK;
}

melspec_status melspec_plan_output_bytes(melspec_plan *plan, int64_t n_signals, int64_t n_samples,
                                         size_t *n_bytes)
{
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    if (n_bytes == NULL) return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "n_bytes is NULL");
    if (n_signals < 1)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                            "n_signals = %lld must be >= 1", (long long)n_signals);
    int64_t n_bins, n_frames;
    const melspec_status status = melspec_plan_output_shape(plan, n_samples, &n_bins, &n_frames);
    if (status != MELSPEC_OK) return status;
    size_t per_signal, total;
    if (!melspec_mul_size((size_t)n_bins, (size_t)n_frames, &per_signal) ||
        !melspec_mul_size(per_signal, melspec_output_value_bytes(&plan->config), &per_signal) ||
        !melspec_mul_size(per_signal, (size_t)n_signals, &total))
        return melspec_fail(plan, MELSPEC_ERROR_SIZE_OVERFLOW,
                            "%lld signals x %lld bins x %lld frames overflows size_t",
                            (long long)n_signals, (long long)n_bins, (long long)n_frames);
    *n_bytes = total;
    return MELSPEC_OK;
}

static int64_t first_non_finite(const float *x, int64_t n)
{
    /* A float is NaN or Inf exactly when its exponent bits are all ones. Testing the bits with
     * integer operations lets the compiler vectorise the scan that runs on every call. */
    const uint32_t exponent = 0x7f800000u;
    uint32_t any = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        any |= (uint32_t)((bits & exponent) == exponent);
    }
    if (!any) return -1;
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return -1;
}

melspec_status melspec_execute(melspec_plan *plan, const float *input, int64_t n_signals,
                               int64_t n_samples, void *output, size_t output_capacity)
{
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    if (input == NULL) return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "input is NULL");
    if (output == NULL) return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "output is NULL");
    size_t needed, n_input, input_bytes;
    melspec_status status = melspec_plan_output_bytes(plan, n_signals, n_samples, &needed);
    if (status != MELSPEC_OK) return status;
    if (!melspec_mul_size((size_t)n_signals, (size_t)n_samples, &n_input) ||
        !melspec_mul_size(n_input, sizeof(float), &input_bytes))
        return melspec_fail(plan, MELSPEC_ERROR_SIZE_OVERFLOW,
                            "n_signals x n_samples = %lld x %lld floats overflows size_t",
                            (long long)n_signals, (long long)n_samples);
    if (output_capacity < needed)
        return melspec_fail(plan, MELSPEC_ERROR_BUFFER_TOO_SMALL,
                            "output holds %zu bytes but %lld signal(s) of %lld samples need %zu",
                            output_capacity, (long long)n_signals, (long long)n_samples, needed);
    const int64_t bad = first_non_finite(input, (int64_t)n_input);
    if (bad >= 0)
        return melspec_fail(plan, MELSPEC_ERROR_NON_FINITE_INPUT,
                            "input sample %lld (signal %lld, offset %lld) is %s", (long long)bad,
                            (long long)(bad / n_samples), (long long)(bad % n_samples),
                            isnan(input[bad]) ? "NaN" : "infinite");
    status = plan->ops->execute(plan, input, n_signals, n_samples, output);
    if (status == MELSPEC_OK) plan->last_error[0] = '\0';
    return status;
}

melspec_status melspec_plan_reserve(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    plan->last_error[0] = '\0';
    size_t n_input;
    if (n_signals < 1 || n_samples < 1)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                            "reserve %lld signal(s) of %lld samples: both must be >= 1",
                            (long long)n_signals, (long long)n_samples);
    if (!melspec_mul_size((size_t)n_signals, (size_t)n_samples, &n_input))
        return melspec_fail(plan, MELSPEC_ERROR_SIZE_OVERFLOW, "n_signals x n_samples overflows");
    if (plan->ops->reserve == NULL) return MELSPEC_OK;
    return plan->ops->reserve(plan, n_signals, n_samples);
}

melspec_status melspec_plan_mel_filterbank(melspec_plan *plan, float *filterbank,
                                           size_t capacity)
{
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    if (filterbank == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "filterbank is NULL");
    if (plan->filterbank == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                            "this plan computes no mel spectrogram, so it has no filterbank");
    const size_t n_values = (size_t)(plan->config.n_mels * plan->n_freq);
    if (capacity < n_values)
        return melspec_fail(plan, MELSPEC_ERROR_BUFFER_TOO_SMALL,
                            "filterbank holds %zu floats but n_mels x (1 + n_fft/2) = %zu",
                            capacity, n_values);
    for (size_t i = 0; i < n_values; i++) filterbank[i] = (float)plan->filterbank[i];
    plan->last_error[0] = '\0';
    return MELSPEC_OK;
}

melspec_status melspec_plan_window(melspec_plan *plan, float *window, size_t capacity)
{
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    if (window == NULL) return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "window is NULL");
    if (plan->window == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                            "a constant-Q plan has no single analysis window");
    const size_t n = (size_t)plan->config.n_fft;
    if (capacity < n)
        return melspec_fail(plan, MELSPEC_ERROR_BUFFER_TOO_SMALL,
                            "window holds %zu floats but n_fft = %zu", capacity, n);
    for (size_t i = 0; i < n; i++) window[i] = (float)plan->window[i];
    plan->last_error[0] = '\0';
    return MELSPEC_OK;
}
