/* Plan lifecycle and dispatch: validation and design happen here once, the backends compute. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "dsp/cqt.h"
#include "dsp/mel.h"
#include "dsp/mfcc.h"
#include "dsp/window.h"
#include "plan.h"
#include "stages.h"
#include "widest_vectors.h"

static void free_sparse_rows(const melspec_allocator *allocator, melspec_sparse_rows *rows)
{
    melspec_free(allocator, rows->first_column);
    melspec_free(allocator, rows->row_length);
    melspec_free(allocator, rows->row_offset);
    melspec_free(allocator, rows->weights);
    memset(rows, 0, sizeof *rows);
}

/* The backends' float copy of the design's runs. The runs start and end on a weight that is
 * not 0 in double; one that float rounds to 0 stays in its run. */
static int build_sparse_rows(const melspec_allocator *allocator, const melspec_mel_runs *design,
                             melspec_sparse_rows *rows)
{
    rows->n_rows = design->n_rows;
    rows->n_columns = design->n_columns;
    const size_t n = (size_t)design->n_rows;
    rows->first_column = melspec_alloc(allocator, n * sizeof *rows->first_column);
    rows->row_length = melspec_alloc(allocator, n * sizeof *rows->row_length);
    rows->row_offset = melspec_alloc(allocator, n * sizeof *rows->row_offset);
    if (!rows->first_column || !rows->row_length || !rows->row_offset) return -1;
    memcpy(rows->first_column, design->first, n * sizeof *rows->first_column);
    memcpy(rows->row_length, design->length, n * sizeof *rows->row_length);
    memcpy(rows->row_offset, design->offset, n * sizeof *rows->row_offset);
    const int64_t total = n > 0 ? design->offset[n - 1] + design->length[n - 1] : 0;
    rows->weights =
        melspec_alloc(allocator, (size_t)(total > 0 ? total : 1) * sizeof *rows->weights);
    if (!rows->weights) return -1;
    for (int64_t i = 0; i < total; i++) rows->weights[i] = (float)design->weights[i];
    return 0;
}

/* The feature stage's matrix (issue 15): MFCC's DCT with its lifter, n_mfcc x spectrum_bins. */
static melspec_status design_feature(melspec_plan *plan, char *message, size_t capacity)
{
    const melspec_config *c = &plan->config;
    if (c->feature != MELSPEC_FEATURE_MFCC) return MELSPEC_OK;
    const int64_t n_bins = plan->stages.spectrum_bins;
    plan->mfcc_basis =
        melspec_alloc(&plan->allocator, (size_t)(c->n_mfcc * n_bins) * sizeof *plan->mfcc_basis);
    if (plan->mfcc_basis == NULL)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_OUT_OF_MEMORY,
                                    "MFCC basis of %lld x %lld doubles", (long long)c->n_mfcc,
                                    (long long)n_bins);
    if (melspec_dsp_mfcc_basis(c->mfcc_dct_type, c->mfcc_norm == MELSPEC_DCT_NORM_ORTHO, n_bins,
                               c->n_mfcc, c->mfcc_lifter, plan->mfcc_basis) != 0)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_INTERNAL, "MFCC basis");
    return MELSPEC_OK;
}

/* A caller's window (MELSPEC_WINDOW_CUSTOM), copied centred into n_fft samples as librosa's
 * pad_center does with an array window. */
static melspec_status copy_custom_window(melspec_plan *plan, const double *samples,
                                         int64_t n_samples, char *message, size_t capacity)
{
    const melspec_config *c = &plan->config;
    if (samples == NULL)
        return melspec_fail_message(
            message, capacity, MELSPEC_ERROR_INVALID_ARGUMENT,
            "window = MELSPEC_WINDOW_CUSTOM takes the caller's samples: use "
            "melspec_plan_create_with_window");
    if (n_samples != c->win_length)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_INVALID_ARGUMENT,
                                    "window size mismatch: %lld samples given, win_length = %lld",
                                    (long long)n_samples, (long long)c->win_length);
    const int64_t left = (c->n_fft - c->win_length) / 2;
    for (int64_t i = 0; i < c->n_fft; i++) plan->window[i] = 0.0;
    for (int64_t i = 0; i < n_samples; i++) {
        if (!isfinite(samples[i]))
            return melspec_fail_message(message, capacity, MELSPEC_ERROR_INVALID_ARGUMENT,
                                        "window sample %lld is %g: samples must be finite",
                                        (long long)i, samples[i]);
        plan->window[left + i] = samples[i];
    }
    return MELSPEC_OK;
}

/* Window and filterbank, in double, for both backends. */
static melspec_status design(melspec_plan *plan, const double *custom_window,
                             int64_t custom_length, char *message, size_t capacity)
{
    const melspec_config *c = &plan->config;
    plan->window = melspec_alloc(&plan->allocator, (size_t)c->n_fft * sizeof *plan->window);
    if (plan->window == NULL)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_OUT_OF_MEMORY,
                                    "window of n_fft = %lld doubles", (long long)c->n_fft);
    if (c->window == MELSPEC_WINDOW_CUSTOM) {
        const melspec_status status =
            copy_custom_window(plan, custom_window, custom_length, message, capacity);
        if (status != MELSPEC_OK) return status;
    } else if (custom_window != NULL) {
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_INVALID_ARGUMENT,
                                    "window samples given but window = %d is not "
                                    "MELSPEC_WINDOW_CUSTOM",
                                    (int)c->window);
    } else {
        const int designed = melspec_dsp_window_with_params(
            (melspec_window)c->window, c->window_params, c->win_length, c->n_fft, plan->window);
        if (designed != 0)
            return melspec_fail_message(
                message, capacity, MELSPEC_ERROR_INVALID_ARGUMENT,
                "window = %d with window_params = {%g, %g, %g} gives samples that are not finite",
                (int)c->window, c->window_params[0], c->window_params[1], c->window_params[2]);
    }
    /* Found by fuzzing (issue 17): general_hamming's alpha scales the window, and an alpha of
     * 7e156 gives samples that double holds but float32 (the backends' type) does not: the
     * spectra would be inf or NaN. */
    for (int64_t i = 0; i < c->n_fft; i++)
        if (!(fabs(plan->window[i]) <= FLT_MAX))
            return melspec_fail_message(
                message, capacity, MELSPEC_ERROR_INVALID_ARGUMENT,
                "window = %d with window_params = {%g, %g, %g} gives samples beyond float32's "
                "range (%g)",
                (int)c->window, c->window_params[0], c->window_params[1], c->window_params[2],
                plan->window[i]);
    if (c->transform != MELSPEC_TRANSFORM_MEL) return MELSPEC_OK;

    size_t n_values; /* of the dense matrix the accessors hand out */
    if (!melspec_mul_size((size_t)c->n_mels, (size_t)plan->n_freq, &n_values) ||
        n_values > SIZE_MAX / sizeof(double))
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_SIZE_OVERFLOW,
                                    "n_mels x (1 + n_fft/2) filterbank is too large");
    melspec_mel_runs *design = &plan->mel_design;
    if (melspec_dsp_mel_filterbank_runs(&plan->allocator, c->sample_rate, c->n_fft, c->n_mels,
                                        c->fmin, c->fmax, (melspec_mel_scale)c->mel_scale,
                                        (melspec_mel_norm)c->mel_norm, design) != 0)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_OUT_OF_MEMORY,
                                    "mel filterbank design");
    if (c->mel_norm == MELSPEC_MEL_NORM_P)
        melspec_dsp_normalize_runs(design, c->mel_norm_p, FLT_MIN);
    /* Found by fuzzing (issue 17): a tiny sample_rate (1e-246, denormals) passes the field
     * check, but the Slaney norm 2/(f[i+2]-f[i]) of its narrow bands overflows float32 (the
     * backends' type) or double, and the output becomes inf or NaN. */
    const int64_t n_weights = design->offset[c->n_mels - 1] + design->length[c->n_mels - 1];
    for (int64_t i = 0; i < n_weights; i++)
        if (!(fabs(design->weights[i]) <= FLT_MAX))
            return melspec_fail_message(
                message, capacity, MELSPEC_ERROR_INVALID_ARGUMENT,
                "sample_rate = %g Hz, fmin = %g Hz, fmax = %g Hz give mel filterbank weights "
                "that are not finite (the bands are too narrow for double precision)",
                c->sample_rate, c->fmin, c->fmax);
    /* Empty bands are computed (zero rows), as librosa does with a warning; callers learn of
     * them through melspec_plan_empty_mel_bands (issue 15). */
    if (build_sparse_rows(&plan->allocator, design, &plan->mel_rows) != 0)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_OUT_OF_MEMORY,
                                    "sparse mel filterbank");
    return MELSPEC_OK;
}

melspec_status melspec_check_allocator(const melspec_allocator *allocator, char *message,
                                       size_t capacity)
{
    if (allocator != NULL && (allocator->alloc == NULL) != (allocator->free == NULL))
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_INVALID_ARGUMENT,
                                    "allocator: alloc and free must both be set (or both NULL "
                                    "for malloc and free)");
    return MELSPEC_OK;
}

melspec_plan *melspec_plan_allocate(const melspec_allocator *allocator)
{
    melspec_plan *plan = melspec_alloc_zeroed(allocator, 1, sizeof *plan);
    if (plan != NULL && allocator != NULL) plan->allocator = *allocator;
    return plan;
}

/* Every public create: custom_window NULL unless MELSPEC_WINDOW_CUSTOM, allocator NULL for
 * malloc. */
static melspec_status create_plan(melspec_plan **plan_out, const melspec_config *config,
                                  const double *custom_window, int64_t custom_length,
                                  const melspec_allocator *allocator, char *message,
                                  size_t capacity)
{
    if (message != NULL && capacity > 0) message[0] = '\0';
    if (plan_out == NULL)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_NULL_POINTER,
                                    "plan (the out-parameter) is NULL");
    *plan_out = NULL;
    melspec_config resolved;
    melspec_status status = melspec_config_resolve(config, &resolved, message, capacity);
    if (status != MELSPEC_OK) return status;
    status = melspec_check_allocator(allocator, message, capacity);
    if (status != MELSPEC_OK) return status;

    melspec_plan *plan = melspec_plan_allocate(allocator);
    if (plan == NULL)
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_OUT_OF_MEMORY, "plan");
    plan->config = resolved;
    plan->n_freq = 1 + resolved.n_fft / 2;
    melspec_stages_from_config(&resolved, &plan->stages);

    status = melspec_select_backend((melspec_backend)resolved.backend, resolved.device_ordinal,
                                    &plan->backend, &plan->ops, message, capacity);
    if (status != MELSPEC_OK) goto fail;
    plan->config.backend = plan->backend;
    status = design(plan, custom_window, custom_length, message, capacity);
    if (status == MELSPEC_OK) status = design_feature(plan, message, capacity);
    if (status != MELSPEC_OK) goto fail;
    return melspec_plan_finish_create(plan, plan_out, message, capacity);

fail:
    melspec_plan_destroy(plan);
    return status;
}

melspec_status melspec_plan_create(melspec_plan **plan_out, const melspec_config *config,
                                   char *message, size_t capacity)
{
    return create_plan(plan_out, config, NULL, 0, NULL, message, capacity);
}

melspec_status melspec_plan_create_with_allocator(melspec_plan **plan_out,
                                                  const melspec_config *config,
                                                  const melspec_allocator *allocator,
                                                  char *message, size_t capacity)
{
    return create_plan(plan_out, config, NULL, 0, allocator, message, capacity);
}

melspec_status melspec_plan_create_with_window(melspec_plan **plan_out,
                                               const melspec_config *config, const double *window,
                                               int64_t window_length, char *message,
                                               size_t capacity)
{
    if (window == NULL) {
        if (message != NULL && capacity > 0) message[0] = '\0';
        if (plan_out != NULL) *plan_out = NULL;
        return melspec_fail_message(message, capacity, MELSPEC_ERROR_NULL_POINTER,
                                    "window (the samples) is NULL");
    }
    return create_plan(plan_out, config, window, window_length, NULL, message, capacity);
}

melspec_status melspec_plan_finish_create(melspec_plan *plan, melspec_plan **plan_out,
                                          char *message, size_t capacity)
{
    atomic_flag_clear(&plan->busy);
    const melspec_status status = plan->ops->create(plan);
    if (status != MELSPEC_OK) {
        melspec_fail_message(message, capacity, status, "%s backend: %s", plan->ops->name,
                             plan->last_error);
        melspec_plan_destroy(plan);
        return status;
    }
    plan->reserved_batch = plan->stages.max_batch;
    plan->reserved_samples = plan->stages.max_samples;
    *plan_out = plan;
    return MELSPEC_OK;
}

void melspec_plan_destroy(melspec_plan *plan)
{
    if (plan == NULL) return;
    if (plan->ops != NULL && plan->ops->destroy != NULL) plan->ops->destroy(plan);
    /* a copy: the plan's own block is freed with it */
    const melspec_allocator allocator = plan->allocator;
    melspec_free(&allocator, plan->window);
    melspec_dsp_mel_runs_free(&allocator, &plan->mel_design);
    melspec_free(&allocator, plan->mfcc_basis);
    free_sparse_rows(&allocator, &plan->mel_rows);
    melspec_dsp_cqt_design_destroy(plan->cqt);
    melspec_free(&allocator, plan);
}

const char *melspec_plan_last_error(const melspec_plan *plan)
{
    return plan == NULL ? "plan is NULL" : plan->last_error;
}

melspec_status melspec_plan_config(const melspec_plan *plan, melspec_config *config)
{
    if (plan == NULL || config == NULL) return MELSPEC_ERROR_NULL_POINTER;
    if (plan->stages.kind != MELSPEC_PLAN_KIND_SPECTRUM) return MELSPEC_ERROR_UNSUPPORTED;
    *config = plan->config;
    return MELSPEC_OK;
}

melspec_backend melspec_plan_backend(const melspec_plan *plan)
{
    return plan == NULL ? MELSPEC_BACKEND_AUTO : plan->backend;
}

/* ---- shapes: the queries are const and quiet; calls that fail on them record why ------------- */

/* Output shape of one signal, with the reason written to why (may be NULL) on failure. */
static melspec_status output_shape(const melspec_plan *plan, int64_t n_samples, int64_t *n_bins,
                                   int64_t *n_frames, char *why, size_t capacity)
{
    if (n_samples < 1)
        return melspec_fail_message(why, capacity, MELSPEC_ERROR_INVALID_ARGUMENT,
                                    "n_samples = %lld: the input is empty", (long long)n_samples);
    int64_t frames;
    if (plan->stages.kind == MELSPEC_PLAN_KIND_CQT) {
        frames = n_samples < plan->cqt->early_factor
                     ? -1
                     : melspec_dsp_cqt_frame_count(plan->cqt, n_samples);
        if (frames < 1)
            return melspec_fail_message(
                why, capacity, MELSPEC_ERROR_INPUT_TOO_SHORT,
                "n_samples = %lld is too short for this %lld-octave CQT: it is first "
                "downsampled by %lld (librosa raises the same)",
                (long long)n_samples, (long long)plan->cqt->n_octaves,
                (long long)plan->cqt->early_factor);
    } else {
        frames = melspec_stages_frame_count(&plan->stages, n_samples);
        if (frames < 1)
            return melspec_fail_message(
                why, capacity, MELSPEC_ERROR_INPUT_TOO_SHORT,
                "n_samples = %lld is shorter than n_fft = %lld with center off",
                (long long)n_samples, (long long)plan->stages.frames.n_fft);
    }
    *n_bins = plan->stages.n_bins;
    *n_frames = frames;
    return MELSPEC_OK;
}

static melspec_status output_bytes(const melspec_plan *plan, int64_t n_signals, int64_t n_samples,
                                   size_t *n_bytes, char *why, size_t capacity)
{
    if (n_signals < 1)
        return melspec_fail_message(why, capacity, MELSPEC_ERROR_INVALID_ARGUMENT,
                                    "n_signals = %lld must be >= 1", (long long)n_signals);
    int64_t n_bins = 0, n_frames = 0;
    const melspec_status status =
        output_shape(plan, n_samples, &n_bins, &n_frames, why, capacity);
    if (status != MELSPEC_OK) return status;
    size_t per_signal, total;
    if (!melspec_mul_size((size_t)n_bins, (size_t)n_frames, &per_signal) ||
        !melspec_mul_size(per_signal, plan->stages.value_bytes, &per_signal) ||
        !melspec_mul_size(per_signal, (size_t)n_signals, &total))
        return melspec_fail_message(why, capacity, MELSPEC_ERROR_SIZE_OVERFLOW,
                                    "%lld signals x %lld bins x %lld frames overflows size_t",
                                    (long long)n_signals, (long long)n_bins, (long long)n_frames);
    *n_bytes = total;
    return MELSPEC_OK;
}

melspec_status melspec_plan_output_shape(const melspec_plan *plan, int64_t n_samples,
                                         int64_t *n_bins, int64_t *n_frames)
{
    if (plan == NULL || n_bins == NULL || n_frames == NULL) return MELSPEC_ERROR_NULL_POINTER;
    return output_shape(plan, n_samples, n_bins, n_frames, NULL, 0);
}

melspec_status melspec_plan_output_bytes(const melspec_plan *plan, int64_t n_signals,
                                         int64_t n_samples, size_t *n_bytes)
{
    if (plan == NULL || n_bytes == NULL) return MELSPEC_ERROR_NULL_POINTER;
    return output_bytes(plan, n_signals, n_samples, n_bytes, NULL, 0);
}

melspec_status melspec_plan_frame_bytes(const melspec_plan *plan, size_t *n_bytes)
{
    if (plan == NULL || n_bytes == NULL) return MELSPEC_ERROR_NULL_POINTER;
    *n_bytes = (size_t)plan->stages.n_bins * plan->stages.value_bytes;
    return MELSPEC_OK;
}

/* ---- one call at a time ----------------------------------------------------------------------- */

melspec_status melspec_plan_enter(melspec_plan *plan)
{
    /* A second thread must not touch the plan at all, its message included. */
    if (atomic_flag_test_and_set_explicit(&plan->busy, memory_order_acquire))
        return MELSPEC_ERROR_PLAN_BUSY;
    plan->last_error[0] = '\0';
    return MELSPEC_OK;
}

melspec_status melspec_plan_leave(melspec_plan *plan, melspec_status status)
{
    atomic_flag_clear_explicit(&plan->busy, memory_order_release);
    return status;
}

/* ---- memory: grow on demand, or refuse in fixed-memory mode (the one place that decides) ----- */

static melspec_status grow(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    if (n_signals <= plan->reserved_batch && n_samples <= plan->reserved_samples)
        return MELSPEC_OK;
    const int64_t batch = n_signals > plan->reserved_batch ? n_signals : plan->reserved_batch;
    const int64_t samples = n_samples > plan->reserved_samples ? n_samples : plan->reserved_samples;
    if (plan->ops->reserve != NULL) {
        const melspec_status status = plan->ops->reserve(plan, batch, samples);
        if (status != MELSPEC_OK) return status;
    }
    plan->reserved_batch = batch;
    plan->reserved_samples = samples;
    return MELSPEC_OK;
}

melspec_status melspec_plan_fit_call(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    if (n_signals <= plan->reserved_batch && n_samples <= plan->reserved_samples)
        return MELSPEC_OK;
    if (plan->stages.fixed_memory)
        return melspec_fail(plan, MELSPEC_ERROR_EXCEEDS_PLAN,
                            "%lld signal(s) of %lld samples exceed the %lld x %lld (max_batch x "
                            "max_samples, or as reserved) the plan holds and fixed_memory is "
                            "set: call melspec_plan_reserve first",
                            (long long)n_signals, (long long)n_samples,
                            (long long)plan->reserved_batch, (long long)plan->reserved_samples);
    return grow(plan, n_signals, n_samples);
}

melspec_status melspec_check_call(melspec_plan *plan, int64_t n_signals, int64_t n_samples,
                                  size_t output_capacity, const char *output_name)
{
    size_t needed = 0, n_input;
    melspec_status status = output_bytes(plan, n_signals, n_samples, &needed, plan->last_error,
                                         sizeof plan->last_error);
    if (status != MELSPEC_OK) return status;
    if (!melspec_mul_size((size_t)n_signals, (size_t)n_samples, &n_input) ||
        n_input > SIZE_MAX / sizeof(float))
        return melspec_fail(plan, MELSPEC_ERROR_SIZE_OVERFLOW,
                            "n_signals x n_samples = %lld x %lld floats overflows size_t",
                            (long long)n_signals, (long long)n_samples);
    if (output_capacity < needed)
        return melspec_fail(plan, MELSPEC_ERROR_BUFFER_TOO_SMALL,
                            "%s holds %zu bytes but %lld signal(s) of %lld samples need %zu",
                            output_name, output_capacity, (long long)n_signals,
                            (long long)n_samples, needed);
    return melspec_plan_fit_call(plan, n_signals, n_samples);
}

/* Whether any of the n floats is NaN or infinite: a float is exactly when its exponent bits are
 * all ones, that is when its bits without the sign, shifted left once, are at least 0xff000000.
 * Integer operations and a running maximum let the scan that runs on every call vectorise. */
WIDEST_VECTORS_LOOPS int any_non_finite_loops(const float *x, int64_t n)
{
    uint32_t largest = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        const uint32_t magnitude = bits << 1;
        largest = magnitude > largest ? magnitude : largest;
    }
    return largest >= 0xff000000u;
}
WIDEST_VECTORS(int, any_non_finite, (const float *x, int64_t n), (x, n))

int melspec_any_non_finite(const float *x, int64_t n) { return any_non_finite(x, n); }

static int64_t first_non_finite(const float *x, int64_t n)
{
    if (!any_non_finite(x, n)) return -1;
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return -1;
}

static melspec_status execute(melspec_plan *plan, const float *input, int64_t n_signals,
                              int64_t n_samples, void *output, size_t output_capacity)
{
    if (input == NULL) return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "input is NULL");
    if (output == NULL) return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "output is NULL");
    melspec_status status = melspec_check_call(plan, n_signals, n_samples, output_capacity,
                                               "output");
    if (status != MELSPEC_OK) return status;
    /* NaN and Inf are refused, by a scan here or by the backend's passes */
    const int64_t n_input = n_signals * n_samples;
    int64_t bad = plan->ops->execute_checks_finite ? -1 : first_non_finite(input, n_input);
    if (bad < 0) {
        status = plan->ops->execute(plan, input, n_signals, n_samples, output);
        if (status != MELSPEC_ERROR_NON_FINITE_INPUT || !plan->ops->execute_checks_finite)
            return status;
        bad = first_non_finite(input, n_input);
        if (bad < 0)
            return melspec_fail(plan, MELSPEC_ERROR_INTERNAL,
                                "the backend found NaN or Inf in an input that has none");
    }
    return melspec_fail(plan, MELSPEC_ERROR_NON_FINITE_INPUT,
                        "input sample %lld (signal %lld, offset %lld) is %s", (long long)bad,
                        (long long)(bad / n_samples), (long long)(bad % n_samples),
                        isnan(input[bad]) ? "NaN" : "infinite");
}

melspec_status melspec_execute(melspec_plan *plan, const float *input, int64_t n_signals,
                               int64_t n_samples, void *output, size_t output_capacity)
{
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    MELSPEC_ENTER_PLAN(plan);
    return melspec_plan_leave(
        plan, execute(plan, input, n_signals, n_samples, output, output_capacity));
}

static melspec_status reserve(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    size_t n_input;
    if (n_signals < 1 || n_samples < 1)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                            "reserve %lld signal(s) of %lld samples: both must be >= 1",
                            (long long)n_signals, (long long)n_samples);
    if (!melspec_mul_size((size_t)n_signals, (size_t)n_samples, &n_input) ||
        n_input > SIZE_MAX / sizeof(float))
        return melspec_fail(plan, MELSPEC_ERROR_SIZE_OVERFLOW, "n_signals x n_samples overflows");
    return grow(plan, n_signals, n_samples);
}

melspec_status melspec_plan_reserve(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    MELSPEC_ENTER_PLAN(plan);
    return melspec_plan_leave(plan, reserve(plan, n_signals, n_samples));
}

/* ---- designed arrays ------------------------------------------------------------------------ */

melspec_status melspec_plan_mel_filterbank(const melspec_plan *plan, float *filterbank,
                                           size_t capacity_bytes)
{
    if (plan == NULL || filterbank == NULL) return MELSPEC_ERROR_NULL_POINTER;
    const melspec_mel_runs *design = &plan->mel_design;
    if (design->weights == NULL) return MELSPEC_ERROR_UNSUPPORTED;
    const size_t n_values = (size_t)(design->n_rows * design->n_columns);
    if (capacity_bytes / sizeof *filterbank < n_values) return MELSPEC_ERROR_BUFFER_TOO_SMALL;
    memset(filterbank, 0, n_values * sizeof *filterbank);
    for (int64_t m = 0; m < design->n_rows; m++)
        for (int64_t k = 0; k < design->length[m]; k++)
            filterbank[m * design->n_columns + design->first[m] + k] =
                (float)design->weights[design->offset[m] + k];
    return MELSPEC_OK;
}

melspec_status melspec_plan_mel_filterbank_f64(const melspec_plan *plan, double *filterbank,
                                               size_t capacity_bytes)
{
    if (plan == NULL || filterbank == NULL) return MELSPEC_ERROR_NULL_POINTER;
    const melspec_mel_runs *design = &plan->mel_design;
    if (design->weights == NULL) return MELSPEC_ERROR_UNSUPPORTED;
    const size_t n_values = (size_t)design->n_rows * (size_t)design->n_columns;
    if (capacity_bytes / sizeof *filterbank < n_values) return MELSPEC_ERROR_BUFFER_TOO_SMALL;
    melspec_dsp_mel_runs_expand(design, filterbank);
    return MELSPEC_OK;
}

melspec_status melspec_plan_empty_mel_bands(const melspec_plan *plan, int64_t *bands,
                                            size_t capacity_bytes, int64_t *n_empty)
{
    if (plan == NULL || n_empty == NULL || (bands == NULL && capacity_bytes > 0))
        return MELSPEC_ERROR_NULL_POINTER;
    if (plan->mel_design.weights == NULL) return MELSPEC_ERROR_UNSUPPORTED;
    const size_t room = capacity_bytes / sizeof *bands;
    const int64_t capacity = room > (size_t)INT64_MAX ? INT64_MAX : (int64_t)room;
    *n_empty = melspec_dsp_empty_bands(&plan->mel_design, plan->config.fmin, bands, capacity);
    return MELSPEC_OK;
}

melspec_status melspec_plan_window(const melspec_plan *plan, float *window, size_t capacity_bytes)
{
    if (plan == NULL || window == NULL) return MELSPEC_ERROR_NULL_POINTER;
    if (plan->window == NULL) return MELSPEC_ERROR_UNSUPPORTED;
    const size_t n = (size_t)plan->config.n_fft;
    if (capacity_bytes / sizeof *window < n) return MELSPEC_ERROR_BUFFER_TOO_SMALL;
    for (size_t i = 0; i < n; i++) window[i] = (float)plan->window[i];
    return MELSPEC_OK;
}
