/* CPU backend: the reference path. Frame by frame: gather (with centre padding), window, real
 * FFT, |X|^power, sparse mel product, then the scaling stage per clip and the layout. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../dsp/padding.h"
#include "cpu_backend.h"
#include "fft.h"

typedef struct cpu_state {
    melspec_rfft *fft;
    float *window;       /* n_fft */
    float *frame;        /* n_fft raw samples of the current frame */
    float *power;        /* 1 + n_fft/2 */
    float *values;       /* values of one frame (n_bins, or 2 n_freq for STFT) */
} cpu_state;

float melspec_cpu_padded_sample(const float *signal, int64_t n, int64_t t,
                                melspec_pad_mode pad_mode)
{
    return melspec_padded_sample(signal, n, t, pad_mode);
}

void melspec_cpu_gather_frame(const melspec_config *config, const float *samples, int64_t first,
                              int64_t n_samples, int64_t frame, float *frame_samples)
{
    const int64_t n_fft = config->n_fft;
    const int64_t pad = config->center ? n_fft / 2 : 0;
    const int64_t start = frame * config->hop_length - pad;
    if (start >= 0 && start + n_fft <= n_samples) {
        memcpy(frame_samples, samples + (start - first), (size_t)n_fft * sizeof *frame_samples);
        return;
    }
    const int32_t pad_mode = config->pad_mode;
    /* the end's padding sees the signal from tail_start on (librosa pads its tail separately) */
    const int64_t tail_start =
        pad_mode == MELSPEC_PAD_REFLECT
            ? melspec_tail_segment_start(n_samples, frame, n_fft, config->hop_length, pad)
            : 0;
    for (int64_t i = 0; i < n_fft; i++) {
        const int64_t t = start + i;
        if (t >= 0 && t < n_samples) frame_samples[i] = samples[t - first];
        else if (t < 0) /* frames before the signal's start are only asked for with first = 0 */
            frame_samples[i] = melspec_padded_sample(samples, n_samples, t, pad_mode);
        else
            frame_samples[i] = melspec_padded_sample(samples + (tail_start - first),
                                                     n_samples - tail_start, t - tail_start,
                                                     pad_mode);
    }
}

int64_t melspec_cpu_values_per_frame(const melspec_plan *plan)
{
    return plan->config.transform == MELSPEC_TRANSFORM_STFT ? 2 * plan->n_freq : plan->n_bins;
}

float *melspec_cpu_frame_scratch(melspec_plan *plan)
{
    return ((cpu_state *)plan->backend_state)->frame;
}

static void spectrum_power(const float *restrict spectrum, int64_t n_freq, double power,
                           float *restrict out)
{
    if (power == 2.0) {
        for (int64_t k = 0; k < n_freq; k++) {
            const float re = spectrum[2 * k], im = spectrum[2 * k + 1];
            out[k] = re * re + im * im;
        }
    } else if (power == 1.0) {
        for (int64_t k = 0; k < n_freq; k++)
            {
                const float re = spectrum[2 * k], im = spectrum[2 * k + 1];
                out[k] = sqrtf(re * re + im * im);
            }
    } else {
        const float half_power = (float)(power / 2.0);
        for (int64_t k = 0; k < n_freq; k++) {
            const float re = spectrum[2 * k], im = spectrum[2 * k + 1];
            out[k] = powf(re * re + im * im, half_power);
        }
    }
}

static void sparse_product(const melspec_sparse_rows *rows, const float *x, float *out)
{
    for (int64_t r = 0; r < rows->n_rows; r++) {
        const float *w = rows->weights + rows->row_offset[r];
        const float *xr = x + rows->first_column[r];
        float sum = 0.0f;
        for (int64_t k = 0; k < rows->row_length[r]; k++) sum += w[k] * xr[k];
        out[r] = sum;
    }
}

void melspec_cpu_frame_values(melspec_plan *plan, const float *frame_samples, float *values)
{
    cpu_state *s = plan->backend_state;
    const melspec_config *c = &plan->config;
    float *restrict in = melspec_rfft_input(s->fft);
    const float *restrict window = s->window;
    for (int64_t i = 0; i < c->n_fft; i++) in[i] = frame_samples[i] * window[i];
    const float *spectrum = melspec_rfft_execute(s->fft);
    switch ((melspec_transform)c->transform) {
    case MELSPEC_TRANSFORM_STFT:
        memcpy(values, spectrum, (size_t)(2 * plan->n_freq) * sizeof *values);
        return;
    case MELSPEC_TRANSFORM_LINEAR: spectrum_power(spectrum, plan->n_freq, c->power, values); return;
    case MELSPEC_TRANSFORM_MEL:
        spectrum_power(spectrum, plan->n_freq, c->power, s->power);
        sparse_product(&plan->mel_rows, s->power, values);
        return;
    }
}

/* Writes one frame's values into the clip's output in the plan's layout. A complex value
 * (STFT) moves as a pair of floats. */
static void store_frame(const melspec_plan *plan, const float *values, int64_t frame,
                        int64_t n_frames, float *clip)
{
    const int64_t n_bins = plan->n_bins;
    const int64_t width = plan->config.transform == MELSPEC_TRANSFORM_STFT ? 2 : 1;
    if (plan->config.layout == MELSPEC_LAYOUT_FRAMES_MAJOR) {
        memcpy(clip + frame * n_bins * width, values, (size_t)(n_bins * width) * sizeof *clip);
        return;
    }
    if (width == 1) {
        for (int64_t b = 0; b < n_bins; b++) clip[b * n_frames + frame] = values[b];
    } else {
        for (int64_t b = 0; b < n_bins; b++) {
            clip[2 * (b * n_frames + frame)] = values[2 * b];
            clip[2 * (b * n_frames + frame) + 1] = values[2 * b + 1];
        }
    }
}

static melspec_status cpu_execute(melspec_plan *plan, const float *input, int64_t n_signals,
                                  int64_t n_samples, void *output)
{
    cpu_state *s = plan->backend_state;
    const int64_t n_frames = melspec_frame_count(&plan->config, n_samples);
    const int64_t clip_floats = melspec_cpu_values_per_frame(plan) * n_frames;
    for (int64_t b = 0; b < n_signals; b++) {
        const float *signal = input + b * n_samples;
        float *clip = (float *)output + b * clip_floats;
        const int64_t pad = plan->config.center ? plan->config.n_fft / 2 : 0;
        for (int64_t t = 0; t < n_frames; t++) {
            /* frames inside the signal are read in place; the others are gathered with padding */
            const int64_t start = t * plan->config.hop_length - pad;
            const float *frame = signal + start;
            if (start < 0 || start + plan->config.n_fft > n_samples) {
                melspec_cpu_gather_frame(&plan->config, signal, 0, n_samples, t, s->frame);
                frame = s->frame;
            }
            melspec_cpu_frame_values(plan, frame, s->values);
            store_frame(plan, s->values, t, n_frames, clip);
        }
        melspec_cpu_scale_clip(&plan->config, clip, clip_floats);
    }
    return MELSPEC_OK;
}

static void cpu_destroy(melspec_plan *plan)
{
    cpu_state *s = plan->backend_state;
    if (s == NULL) return;
    melspec_rfft_destroy(s->fft);
    free(s->window);
    free(s->frame);
    free(s->power);
    free(s->values);
    free(s);
    plan->backend_state = NULL;
}

static melspec_status cpu_create(melspec_plan *plan)
{
    const melspec_config *c = &plan->config;
    if (c->output_dtype != MELSPEC_DTYPE_FLOAT32)
        return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                            "output_dtype = %d: the CPU backend writes float32 only",
                            (int)c->output_dtype);
    cpu_state *s = calloc(1, sizeof *s);
    if (s == NULL) return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "CPU state");
    plan->backend_state = s;
    const size_t n_fft = (size_t)c->n_fft;
    s->fft = melspec_rfft_create(c->n_fft);
    s->window = malloc(n_fft * sizeof *s->window);
    s->frame = malloc(n_fft * sizeof *s->frame);
    s->power = malloc((size_t)plan->n_freq * sizeof *s->power);
    s->values = malloc((size_t)(2 * plan->n_freq + plan->n_bins) * sizeof *s->values);
    if (!s->fft || !s->window || !s->frame || !s->power || !s->values) {
        cpu_destroy(plan);
        return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY,
                            "FFT plan and scratch for n_fft = %lld (%s)", (long long)c->n_fft,
                            melspec_rfft_library());
    }
    for (size_t i = 0; i < n_fft; i++) s->window[i] = (float)plan->window[i];
    return MELSPEC_OK;
}

const melspec_backend_ops melspec_cpu_ops = {
    .name = "CPU",
    .create = cpu_create,
    .destroy = cpu_destroy,
    .execute = cpu_execute,
    .reserve = NULL,
    .execute_device = NULL, /* host memory only: the device-pointer API says so */
    .set_stream = NULL,
};
