#include "config.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "dsp/pcen.h"
#include "dsp/window.h"
#include "plan.h"
#include "stages.h"

void melspec_config_init(melspec_config *config)
{
    if (config == NULL) return;
    memset(config, 0, sizeof *config);
    config->struct_size = (uint32_t)sizeof *config;
    config->transform = MELSPEC_TRANSFORM_MEL;
    config->sample_rate = 22050.0;
    config->n_fft = 2048;
    config->hop_length = 0;
    config->win_length = 0;
    config->window = MELSPEC_WINDOW_HANN;
    config->center = 1;
    config->pad_mode = MELSPEC_PAD_CONSTANT;
    config->mel_scale = MELSPEC_MEL_SCALE_SLANEY;
    config->power = 2.0;
    config->n_mels = 128;
    config->fmin = 0.0;
    config->fmax = 0.0;
    config->mel_norm = MELSPEC_MEL_NORM_SLANEY;
    config->scaling = MELSPEC_SCALING_NONE;
    config->ref = 1.0;
    config->amin = 0.0;
    config->top_db = 80.0;
    config->log_offset = 1e-6;
    config->ref_mode = MELSPEC_REF_VALUE;
    config->layout = MELSPEC_LAYOUT_BINS_MAJOR;
    config->backend = MELSPEC_BACKEND_AUTO;
    config->device_ordinal = 0;
    config->output_dtype = MELSPEC_DTYPE_FLOAT32;
    config->fixed_memory = 0;
    config->max_batch = 0;
    config->max_samples = 0;
    config->mel_product = MELSPEC_MEL_PRODUCT_AUTO;
    /* features (issue 15): librosa.feature.mfcc's and librosa.pcen's defaults */
    config->feature = MELSPEC_FEATURE_NONE;
    config->mfcc_dct_type = 2;
    config->mfcc_norm = MELSPEC_DCT_NORM_ORTHO;
    config->n_mfcc = 20;
    config->mfcc_lifter = 0.0;
    config->pcen_gain = 0.98;
    config->pcen_bias = 2.0;
    config->pcen_power = 0.5;
    config->pcen_time_constant = 0.4;
    config->pcen_eps = 1e-6;
    config->pcen_b = -1.0;
    config->pcen_max_size = 1;
}

size_t melspec_config_size(void) { return sizeof(melspec_config); }

#define FAIL MELSPEC_CONFIG_FAIL
#define CHECK_ENUM MELSPEC_CONFIG_CHECK_ENUM

/* The Linux copy_struct_from_user rule: shorter means zeros for what the caller does not know;
 * longer is accepted only when the part this library does not know is all zero. */
melspec_status melspec_copy_config_struct(const void *config, size_t theirs, void *out,
                                          size_t ours, size_t smallest, const char *init_name,
                                          char *message, size_t capacity)
{
    if (theirs < smallest)
        FAIL(MELSPEC_ERROR_STRUCT_SIZE,
             "config.struct_size = %zu is too small (use %s; this library's is %zu)", theirs,
             init_name, ours);
    if (theirs > ours) {
        const unsigned char *tail = (const unsigned char *)config + ours;
        for (size_t i = 0; i < theirs - ours; i++)
            if (tail[i] != 0)
                FAIL(MELSPEC_ERROR_STRUCT_SIZE,
                     "config.struct_size = %zu is larger than this library's %zu and the fields "
                     "it does not know are not zero (newer header than library?)",
                     theirs, ours);
    }
    memset(out, 0, ours);
    memcpy(out, config, theirs < ours ? theirs : ours);
    return MELSPEC_OK;
}

static melspec_status copy_config(const melspec_config *config, melspec_config *out,
                                  char *message, size_t capacity)
{
    const size_t smallest = offsetof(melspec_config, transform) + sizeof config->transform;
    const melspec_status status =
        melspec_copy_config_struct(config, config->struct_size, out, sizeof *out, smallest,
                                   "melspec_config_init", message, capacity);
    out->struct_size = (uint32_t)sizeof *out;
    return status;
}

static int is_finite_positive(double x) { return isfinite(x) && x > 0.0; }

/* -- librosa's parameter space (issue 15): window parameters and numeric mel norms -- */

/* The window kind, and each of its parameters as scipy.signal.windows takes them; parameters a
 * kind does not read must be zero (a value there is a caller's mistake, not a default). */
static melspec_status check_window(const melspec_config *c, char *message, size_t capacity)
{
    CHECK_ENUM(window, MELSPEC_WINDOW_CUSTOM);
    const double *p = c->window_params;
    const int n_params =
        c->window == MELSPEC_WINDOW_CUSTOM ? 0 : melspec_dsp_window_param_count(c->window);
    for (int i = 0; i < 3; i++) {
        if (!isfinite(p[i]))
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "window_params[%d] = %g must be finite", i, p[i]);
        if (i >= n_params && p[i] != 0.0)
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "window_params[%d] = %g: window %d takes %d parameter(s); the rest must be 0", i,
                 p[i], (int)c->window, n_params);
    }
    switch (c->window) {
    case MELSPEC_WINDOW_GAUSSIAN:
        if (!(p[0] > 0.0))
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "window_params[0] = %g: the gaussian window's std must be > 0", p[0]);
        break;
    case MELSPEC_WINDOW_GENERAL_GAUSSIAN:
        if (!(p[1] > 0.0))
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "window_params[1] = %g: the general_gaussian window's sig must be > 0", p[1]);
        break;
    case MELSPEC_WINDOW_TAYLOR:
        if (!(p[0] >= 1.0 && p[0] <= MELSPEC_DSP_TAYLOR_MAX_NBAR && p[0] == floor(p[0])))
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "window_params[0] = %g: the taylor window's nbar must be an integer in 1..%d",
                 p[0], MELSPEC_DSP_TAYLOR_MAX_NBAR);
        if (!(p[1] >= 0.0 && p[1] <= 1000.0))
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "window_params[1] = %g: the taylor window's sll must be in 0..1000 dB", p[1]);
        if (p[2] != 0.0 && p[2] != 1.0)
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "window_params[2] = %g: the taylor window's norm must be 0 or 1", p[2]);
        break;
    default: break;
    }
    return MELSPEC_OK;
}

static melspec_status check_mel_norm(const melspec_config *c, char *message, size_t capacity)
{
    CHECK_ENUM(mel_norm, MELSPEC_MEL_NORM_P);
    const double p = c->mel_norm_p;
    if (c->mel_norm != MELSPEC_MEL_NORM_P) {
        if (p != 0.0)
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "mel_norm_p = %g is read only with mel_norm = MELSPEC_MEL_NORM_P", p);
        return MELSPEC_OK;
    }
    if (isnan(p) || (isfinite(p) && p < 0.0))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "mel_norm_p = %g: librosa.util.normalize takes p > 0, INFINITY, -INFINITY or 0", p);
    return MELSPEC_OK;
}

/* -- end of issue 15's checks -- */

static melspec_status check_spectrum(melspec_config *c, char *message, size_t capacity)
{
    melspec_status status;
    if (!is_finite_positive(c->sample_rate))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "sample_rate = %g must be a positive finite number",
             c->sample_rate);
    if (c->n_fft < 1) FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "n_fft = %lld must be >= 1",
                           (long long)c->n_fft);
    if (c->n_fft > MELSPEC_MAX_N_FFT)
        FAIL(MELSPEC_ERROR_SIZE_OVERFLOW, "n_fft = %lld exceeds the largest supported %lld",
             (long long)c->n_fft, (long long)MELSPEC_MAX_N_FFT);
    if (c->win_length < 0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "win_length = %lld must be >= 0 (0 means n_fft)",
             (long long)c->win_length);
    if (c->win_length == 0) c->win_length = c->n_fft;
    if (c->win_length > c->n_fft)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "win_length = %lld must be <= n_fft = %lld",
             (long long)c->win_length, (long long)c->n_fft);
    if (c->hop_length < 0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "hop_length = %lld must be >= 0 (0 means win_length/4)",
             (long long)c->hop_length);
    if (c->hop_length > MELSPEC_MAX_HOP_LENGTH)
        FAIL(MELSPEC_ERROR_SIZE_OVERFLOW, "hop_length = %lld exceeds the largest supported %lld",
             (long long)c->hop_length, (long long)MELSPEC_MAX_HOP_LENGTH);
    if (c->hop_length == 0) {
        c->hop_length = c->win_length / 4;
        if (c->hop_length == 0)
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "hop_length defaults to win_length/4, which is 0 for win_length = %lld: set it",
                 (long long)c->win_length);
    }
    if ((status = check_window(c, message, capacity)) != MELSPEC_OK) return status;
    if (c->center != 0 && c->center != 1)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "center = %d must be 0 or 1", (int)c->center);
    CHECK_ENUM(pad_mode, MELSPEC_PAD_EDGE);
    return MELSPEC_OK;
}

static melspec_status check_power_and_mel(melspec_config *c, char *message, size_t capacity)
{
    if (c->transform == MELSPEC_TRANSFORM_STFT) return MELSPEC_OK;
    if (!is_finite_positive(c->power))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "power = %g must be a positive finite number",
             c->power);
    if (c->transform != MELSPEC_TRANSFORM_MEL) return MELSPEC_OK;

    if (c->n_mels < 1)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "n_mels = %lld must be >= 1", (long long)c->n_mels);
    if (c->n_mels > MELSPEC_MAX_N_MELS)
        FAIL(MELSPEC_ERROR_SIZE_OVERFLOW, "n_mels = %lld exceeds the largest supported %lld",
             (long long)c->n_mels, (long long)MELSPEC_MAX_N_MELS);
    CHECK_ENUM(mel_scale, MELSPEC_MEL_SCALE_HTK);
    const melspec_status status = check_mel_norm(c, message, capacity);
    if (status != MELSPEC_OK) return status;
    const double nyquist = c->sample_rate / 2.0;
    if (!isfinite(c->fmin) || c->fmin < 0.0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "fmin = %g Hz must be finite and >= 0", c->fmin);
    if (!isfinite(c->fmax) || c->fmax < 0.0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "fmax = %g Hz must be finite and >= 0 (0 means sample_rate/2)", c->fmax);
    if (c->fmax == 0.0) c->fmax = nyquist;
    if (c->fmax > nyquist)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "fmax = %g Hz is above the Nyquist frequency %g Hz (sample_rate/2)", c->fmax,
             nyquist);
    if (c->fmin >= c->fmax)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "fmin = %g Hz must be below fmax = %g Hz", c->fmin,
             c->fmax);
    return MELSPEC_OK;
}

melspec_status melspec_check_execution(const melspec_execution_fields *e, char *message,
                                       size_t capacity)
{
    MELSPEC_CONFIG_CHECK_RANGE("layout", *e->layout, MELSPEC_LAYOUT_FRAMES_MAJOR);
    MELSPEC_CONFIG_CHECK_RANGE("backend", *e->backend, MELSPEC_BACKEND_CUDA);
    if (*e->device_ordinal < 0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "device_ordinal = %d must be >= 0",
             (int)*e->device_ordinal);
    if (*e->fixed_memory != 0 && *e->fixed_memory != 1)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "fixed_memory = %d must be 0 or 1",
             (int)*e->fixed_memory);
    if (*e->max_batch < 0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "max_batch = %lld must be >= 0 (0 means 1)",
             (long long)*e->max_batch);
    if (*e->max_samples < 0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "max_samples = %lld must be >= 0 (0 means 60 s)",
             (long long)*e->max_samples);
    if (*e->max_batch == 0) *e->max_batch = 1;
    if (*e->max_samples == 0) *e->max_samples = (int64_t)ceil(60.0 * e->sample_rate);
    size_t n_input;
    if (!melspec_mul_size((size_t)*e->max_batch, (size_t)*e->max_samples, &n_input) ||
        n_input > SIZE_MAX / sizeof(float))
        FAIL(MELSPEC_ERROR_SIZE_OVERFLOW, "max_batch x max_samples = %lld x %lld overflows",
             (long long)*e->max_batch, (long long)*e->max_samples);
    return MELSPEC_OK;
}

melspec_status melspec_check_scaling(const melspec_scaling_fields *f, char *message,
                                     size_t capacity)
{
    MELSPEC_CONFIG_CHECK_RANGE("scaling", *f->scaling, MELSPEC_SCALING_LOG);
    MELSPEC_CONFIG_CHECK_RANGE("ref_mode", *f->ref_mode, MELSPEC_REF_MAX);
    if (f->complex_values && *f->scaling != MELSPEC_SCALING_NONE)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "scaling = %d applies to real outputs; %s takes SCALING_NONE", (int)*f->scaling,
             f->complex_name);
    const int32_t scaling = *f->scaling;
    if (scaling == MELSPEC_SCALING_POWER_TO_DB || scaling == MELSPEC_SCALING_AMPLITUDE_TO_DB) {
        if (*f->ref_mode == MELSPEC_REF_VALUE && !is_finite_positive(*f->ref))
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "ref = %g must be a positive finite number",
                 *f->ref);
        if (!isfinite(*f->amin) || *f->amin < 0.0)
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "amin = %g must be a positive finite number (0 means librosa's default)",
                 *f->amin);
        if (*f->amin == 0.0) *f->amin = scaling == MELSPEC_SCALING_POWER_TO_DB ? 1e-10 : 1e-5;
        /* Found by fuzzing (issue 17): ref and amin meet float32 values (squared for amplitude
         * dB); outside its normal range the output was inf or -inf (an amin that rounds to 0). */
        const int squared = scaling == MELSPEC_SCALING_AMPLITUDE_TO_DB;
        const double largest = squared ? sqrt(FLT_MAX) : FLT_MAX;
        const double smallest = squared ? sqrt(FLT_MIN) : FLT_MIN;
        if (!(*f->amin >= smallest && *f->amin <= largest) ||
            (*f->ref_mode == MELSPEC_REF_VALUE && !(*f->ref >= smallest && *f->ref <= largest)))
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "ref = %g and amin = %g must lie in [%g, %g] (the normal float32 range%s)",
                 *f->ref, *f->amin, smallest, largest, squared ? " of their squares" : "");
        if (isnan(*f->top_db) || *f->top_db < 0.0)
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "top_db = %g must be >= 0 (INFINITY turns the clamp off)", *f->top_db);
    }
    /* <= FLT_MAX: it is added to float32 values (found by fuzzing: 1e279 gave inf outputs) */
    if (scaling == MELSPEC_SCALING_LOG && !(*f->log_offset >= 0.0 && *f->log_offset <= FLT_MAX))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "log_offset = %g must be >= 0 and finite in float32 (<= %g)", *f->log_offset,
             (double)FLT_MAX);
    return MELSPEC_OK;
}

static melspec_status check_output(melspec_config *c, char *message, size_t capacity)
{
    CHECK_ENUM(output_dtype, MELSPEC_DTYPE_BFLOAT16);
    CHECK_ENUM(mel_product, MELSPEC_MEL_PRODUCT_GEMM);
    if (c->transform == MELSPEC_TRANSFORM_STFT && c->output_dtype != MELSPEC_DTYPE_FLOAT32)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "output_dtype = %d: the complex STFT is always complex64 (FLOAT32)",
             (int)c->output_dtype);
    const melspec_scaling_fields scaling = {
        &c->scaling, &c->ref_mode,   &c->ref, &c->amin, &c->top_db, &c->log_offset,
        c->transform == MELSPEC_TRANSFORM_STFT, "the complex STFT"};
    melspec_status status = melspec_check_scaling(&scaling, message, capacity);
    if (status != MELSPEC_OK) return status;
    const melspec_execution_fields execution = {
        &c->layout,    &c->backend,   &c->device_ordinal, &c->fixed_memory,
        &c->max_batch, &c->max_samples, c->sample_rate};
    return melspec_check_execution(&execution, message, capacity);
}

/* ---- the feature stage (issue 15): librosa.feature.mfcc's and librosa.pcen's conditions ---- */

static melspec_status check_mfcc(melspec_config *c, int64_t n_bins, char *message,
                                 size_t capacity)
{
    if (c->mfcc_dct_type < 1 || c->mfcc_dct_type > 3)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "mfcc_dct_type = %d must be 1, 2 or 3",
             (int)c->mfcc_dct_type);
    CHECK_ENUM(mfcc_norm, MELSPEC_DCT_NORM_NONE);
    if (c->mfcc_dct_type == 1 && n_bins < 2)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "mfcc_dct_type = 1 needs at least 2 bins to transform (the plan has %lld)",
             (long long)n_bins);
    if (c->n_mfcc < 1 || c->n_mfcc > n_bins)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "n_mfcc = %lld must be between 1 and the %lld bins it is computed from", 
             (long long)c->n_mfcc, (long long)n_bins);
    if (!(isfinite(c->mfcc_lifter) && c->mfcc_lifter >= 0.0))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "mfcc_lifter = %g must be a non-negative finite number (0: no liftering)",
             c->mfcc_lifter);
    /* issue 17 (fuzz_plan): librosa's lift 1 + (lifter/2) sin(pi k / lifter) is NaN once
     * pi n_mfcc / lifter overflows (a lifter below about 1e-305): refused, not NaN coefficients */
    const double pi = 3.141592653589793;
    if (c->mfcc_lifter > 0.0 && !isfinite(pi * (double)c->n_mfcc / c->mfcc_lifter))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "mfcc_lifter = %g is too small: sin(pi n_mfcc / lifter) overflows to NaN for "
             "n_mfcc = %lld (use 0 for no liftering)",
             c->mfcc_lifter, (long long)c->n_mfcc);
    return MELSPEC_OK;
}

static melspec_status check_pcen(melspec_config *c, char *message, size_t capacity)
{
    if (c->scaling != MELSPEC_SCALING_NONE)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "feature PCEN normalizes the unscaled values: scaling = %d must be SCALING_NONE",
             (int)c->scaling);
    if (!(isfinite(c->pcen_gain) && c->pcen_gain >= 0.0))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "pcen_gain = %g must be finite and >= 0",
             c->pcen_gain);
    if (!(isfinite(c->pcen_bias) && c->pcen_bias >= 0.0))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "pcen_bias = %g must be finite and >= 0",
             c->pcen_bias);
    if (!(isfinite(c->pcen_power) && c->pcen_power >= 0.0))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "pcen_power = %g must be finite and >= 0",
             c->pcen_power);
    if (!is_finite_positive(c->pcen_eps))
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "pcen_eps = %g must be a positive finite number",
             c->pcen_eps);
    if (c->pcen_max_size < 1)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT, "pcen_max_size = %lld must be >= 1",
             (long long)c->pcen_max_size);
    if (isnan(c->pcen_b) || c->pcen_b > 1.0)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "pcen_b = %g must be in [0, 1] (or negative: from pcen_time_constant)", c->pcen_b);
    if (c->pcen_b < 0.0) {
        if (!is_finite_positive(c->pcen_time_constant))
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "pcen_time_constant = %g s must be a positive finite number",
                 c->pcen_time_constant);
        c->pcen_b = melspec_dsp_pcen_b(c->pcen_time_constant, c->sample_rate, c->hop_length);
        if (!(c->pcen_b >= 0.0 && c->pcen_b <= 1.0))
            FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
                 "pcen_time_constant = %g s at sample_rate = %g and hop_length = %lld gives "
                 "b = %g, outside [0, 1]",
                 c->pcen_time_constant, c->sample_rate, (long long)c->hop_length, c->pcen_b);
    }
    return MELSPEC_OK;
}

static melspec_status check_feature(melspec_config *c, char *message, size_t capacity)
{
    CHECK_ENUM(feature, MELSPEC_FEATURE_PCEN);
    if (c->feature == MELSPEC_FEATURE_NONE) return MELSPEC_OK;
    if (c->transform == MELSPEC_TRANSFORM_STFT)
        FAIL(MELSPEC_ERROR_INVALID_ARGUMENT,
             "feature = %d needs real values: transform MEL or LINEAR, not the complex STFT",
             (int)c->feature);
    if (c->feature == MELSPEC_FEATURE_MFCC)
        return check_mfcc(c, c->transform == MELSPEC_TRANSFORM_MEL ? c->n_mels : 1 + c->n_fft / 2,
                          message, capacity);
    return check_pcen(c, message, capacity);
}

melspec_status melspec_config_resolve(const melspec_config *config, melspec_config *resolved,
                                      char *message, size_t capacity)
{
    if (config == NULL || resolved == NULL)
        FAIL(MELSPEC_ERROR_NULL_POINTER, "config is NULL");
    melspec_status status = copy_config(config, resolved, message, capacity);
    if (status != MELSPEC_OK) return status;
    melspec_config *c = resolved;
    CHECK_ENUM(transform, MELSPEC_TRANSFORM_STFT);
    if ((status = check_spectrum(c, message, capacity)) != MELSPEC_OK) return status;
    if ((status = check_power_and_mel(c, message, capacity)) != MELSPEC_OK) return status;
    if ((status = check_output(c, message, capacity)) != MELSPEC_OK) return status;
    return check_feature(c, message, capacity);
}
