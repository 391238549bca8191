/* CPU backend: the reference path, and its one ops table for every kind of plan. The STFT family
 * frame by frame: gather (with centre padding), window, real FFT, |X|^power, sparse mel product,
 * then the scaling stage per clip, the layout and the output dtype. Constant-Q plans: cqt.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../alloc.h"
#include "../dsp/float16.h"
#include "../dsp/framing.h"
#include "cpu_backend.h"
#include "fft.h"

/* Raw frames a stream hands over per stream_compute: enough to amortise the call. */
#define CPU_STREAM_BATCH 16

typedef struct cpu_state {
    melspec_rfft *fft;
    float *window;       /* n_fft */
    float *frame;        /* n_fft raw samples of the current frame */
    float *power;        /* 1 + n_fft/2 */
    float *values;       /* values of one frame (n_bins, or 2 n_freq for STFT) */
    float *clip;         /* 16-bit outputs: one clip's float values before the conversion */
    int64_t clip_floats; /* ... its size */
    float *stream_frames;          /* CPU_STREAM_BATCH raw frames of n_fft (streams) */
    unsigned char *stream_values;  /* ... their values in the output dtype */
} cpu_state;

/* Floats of one frame's values: n_bins, or n_bins complex pairs. */
static int64_t values_per_frame(const melspec_plan *plan)
{
    return plan->stages.n_bins * (plan->stages.complex_values ? 2 : 1);
}

/* One loop per mode, so that the mode is a constant inside each (the rule is
 * melspec_power_value's; this only lets the compiler vectorise each loop on its own). */
#define SPECTRUM_POWER_LOOP(mode_)                                                          \
    do {                                                                                    \
        const melspec_power_stage constant_ = {mode_, power.half_power};                    \
        for (int64_t k = 0; k < n_freq; k++)                                                \
            out[k] = melspec_power_value(spectrum[2 * k], spectrum[2 * k + 1], constant_);  \
    } while (0)

static void spectrum_power(const float *restrict spectrum, int64_t n_freq,
                           melspec_power_stage power, float *restrict out)
{
    switch ((melspec_power_mode)power.mode) {
    case MELSPEC_POWER_SQUARED: SPECTRUM_POWER_LOOP(MELSPEC_POWER_SQUARED); return;
    case MELSPEC_POWER_MAGNITUDE: SPECTRUM_POWER_LOOP(MELSPEC_POWER_MAGNITUDE); return;
    case MELSPEC_POWER_GENERAL: SPECTRUM_POWER_LOOP(MELSPEC_POWER_GENERAL); return;
    }
}
#undef SPECTRUM_POWER_LOOP

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

/* Window, FFT, |.|^power and filterbank of one frame of n_fft raw samples, unscaled. */
static void frame_values(melspec_plan *plan, const float *frame_samples, float *values)
{
    cpu_state *s = plan->backend_state;
    const melspec_stages *stages = &plan->stages;
    float *restrict in = melspec_rfft_input(s->fft);
    const float *restrict window = s->window;
    for (int64_t i = 0; i < stages->frames.n_fft; i++) in[i] = frame_samples[i] * window[i];
    const float *spectrum = melspec_rfft_execute(s->fft);
    if (stages->complex_values) {
        memcpy(values, spectrum, (size_t)(2 * plan->n_freq) * sizeof *values);
    } else if (stages->mel) {
        spectrum_power(spectrum, plan->n_freq, stages->power, s->power);
        sparse_product(&plan->mel_rows, s->power, values);
    } else {
        spectrum_power(spectrum, plan->n_freq, stages->power, values);
    }
}

/* Writes one frame's values into the clip's output in the plan's layout. A complex value
 * (STFT) moves as a pair of floats. */
static void store_frame(const melspec_plan *plan, const float *values, int64_t frame,
                        int64_t n_frames, float *clip)
{
    const int64_t n_bins = plan->stages.n_bins;
    const int64_t width = plan->stages.complex_values ? 2 : 1;
    if (plan->stages.layout == MELSPEC_LAYOUT_FRAMES_MAJOR) {
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

static melspec_status spectrum_execute(melspec_plan *plan, const float *input, int64_t n_signals,
                                       int64_t n_samples, void *output)
{
    cpu_state *s = plan->backend_state;
    const melspec_stages *stages = &plan->stages;
    const int64_t n_frames = melspec_stages_frame_count(stages, n_samples);
    const int64_t clip_floats = values_per_frame(plan) * n_frames;
    const int float32 = stages->dtype == MELSPEC_DTYPE_FLOAT32;
    if (!float32 && clip_floats > s->clip_floats)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL,
                            "clip of %lld values past the reserved %lld", (long long)clip_floats,
                            (long long)s->clip_floats);
    for (int64_t b = 0; b < n_signals; b++) {
        const float *signal = input + b * n_samples;
        float *clip = float32 ? (float *)output + b * clip_floats : s->clip;
        for (int64_t t = 0; t < n_frames; t++) {
            /* frames inside the signal are read in place; the others are gathered with padding */
            const float *frame = signal + (t * stages->frames.hop - stages->frames.pad);
            if (!melspec_frame_is_inside(&stages->frames, n_samples, t)) {
                melspec_gather_frame(&stages->frames, signal, 0, n_samples, t, s->frame);
                frame = s->frame;
            }
            frame_values(plan, frame, s->values);
            store_frame(plan, s->values, t, n_frames, clip);
        }
        melspec_cpu_scale_clip(stages, clip, clip_floats);
        if (!float32)
            melspec_store_dtype(clip, clip_floats, stages->dtype,
                                (uint16_t *)output + b * clip_floats);
    }
    return MELSPEC_OK;
}

/* 16-bit outputs are computed in float first: one clip of n_samples samples. */
static melspec_status spectrum_reserve(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    (void)n_signals;
    cpu_state *s = plan->backend_state;
    if (plan->stages.dtype == MELSPEC_DTYPE_FLOAT32) return MELSPEC_OK;
    const int64_t floats = values_per_frame(plan) * melspec_stages_frame_count(&plan->stages,
                                                                               n_samples);
    if (floats <= s->clip_floats) return MELSPEC_OK;
    float *clip = melspec_alloc(&plan->allocator, (size_t)floats * sizeof *clip);
    if (clip == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY,
                            "clip of %lld floats for the 16-bit output", (long long)floats);
    melspec_free(&plan->allocator, s->clip);
    s->clip = clip;
    s->clip_floats = floats;
    return MELSPEC_OK;
}

static void spectrum_destroy(melspec_plan *plan)
{
    cpu_state *s = plan->backend_state;
    if (s == NULL) return;
    melspec_rfft_destroy(s->fft);
    melspec_free(&plan->allocator, s->window);
    melspec_free(&plan->allocator, s->frame);
    melspec_free(&plan->allocator, s->power);
    melspec_free(&plan->allocator, s->values);
    melspec_free(&plan->allocator, s->clip);
    melspec_free(&plan->allocator, s->stream_frames);
    melspec_free(&plan->allocator, s->stream_values);
    melspec_free(&plan->allocator, s);
    plan->backend_state = NULL;
}

static melspec_status spectrum_create(melspec_plan *plan)
{
    const int64_t n_fft = plan->stages.frames.n_fft;
    cpu_state *s = melspec_alloc_zeroed(&plan->allocator, 1, sizeof *s);
    if (s == NULL) return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "CPU state");
    plan->backend_state = s;
    s->fft = melspec_rfft_create(n_fft, &plan->allocator);
    s->window = melspec_alloc(&plan->allocator, (size_t)n_fft * sizeof *s->window);
    s->frame = melspec_alloc(&plan->allocator, (size_t)n_fft * sizeof *s->frame);
    s->power = melspec_alloc(&plan->allocator, (size_t)plan->n_freq * sizeof *s->power);
    s->values = melspec_alloc(&plan->allocator,
                              (size_t)(2 * plan->n_freq + plan->stages.n_bins) * sizeof *s->values);
    if (!s->fft || !s->window || !s->frame || !s->power || !s->values) {
        spectrum_destroy(plan);
        return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY,
                            "FFT plan and scratch for n_fft = %lld (%s)", (long long)n_fft,
                            melspec_rfft_library());
    }
    for (int64_t i = 0; i < n_fft; i++) s->window[i] = (float)plan->window[i];
    const melspec_status status =
        spectrum_reserve(plan, plan->stages.max_batch, plan->stages.max_samples);
    if (status != MELSPEC_OK) spectrum_destroy(plan);
    return status;
}

/* ---- streams: frames from src/stream.c, computed one by one with the blocks above ------------ */

static melspec_status cpu_stream_prepare(melspec_plan *plan, float **raw_frames,
                                         const void **values, int64_t *max_frames)
{
    cpu_state *s = plan->backend_state;
    if (s->stream_frames == NULL) {
        const size_t frame_bytes = (size_t)plan->stages.n_bins * plan->stages.value_bytes;
        float *frames =
            melspec_alloc(&plan->allocator,
                          (size_t)(CPU_STREAM_BATCH * plan->stages.frames.n_fft) * sizeof *frames);
        unsigned char *stored = melspec_alloc(&plan->allocator, CPU_STREAM_BATCH * frame_bytes);
        if (frames == NULL || stored == NULL) {
            melspec_free(&plan->allocator, frames);
            melspec_free(&plan->allocator, stored);
            return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "stream staging of %d frames",
                                CPU_STREAM_BATCH);
        }
        s->stream_frames = frames;
        s->stream_values = stored;
    }
    *raw_frames = s->stream_frames;
    *values = s->stream_values;
    *max_frames = CPU_STREAM_BATCH;
    return MELSPEC_OK;
}

static melspec_status cpu_stream_compute(melspec_plan *plan, int64_t n_frames)
{
    cpu_state *s = plan->backend_state;
    const int64_t n_values = values_per_frame(plan);
    const size_t frame_bytes = (size_t)plan->stages.n_bins * plan->stages.value_bytes;
    for (int64_t q = 0; q < n_frames; q++) {
        frame_values(plan, s->stream_frames + q * plan->stages.frames.n_fft, s->values);
        /* streams never need the clip's maximum, so one frame scales as the whole clip would */
        melspec_cpu_scale_clip(&plan->stages, s->values, n_values);
        melspec_store_dtype(s->values, n_values, plan->stages.complex_values ? 0 : plan->stages.dtype,
                            s->stream_values + (size_t)q * frame_bytes);
    }
    return MELSPEC_OK;
}

/* ---- the ops table: the plan's kind picks the transform, here and only here ----------------- */

typedef struct cpu_transform {
    melspec_status (*create)(melspec_plan *plan);
    void (*destroy)(melspec_plan *plan);
    melspec_status (*execute)(melspec_plan *plan, const float *input, int64_t n_signals,
                              int64_t n_samples, void *output);
    melspec_status (*reserve)(melspec_plan *plan, int64_t n_signals, int64_t n_samples);
} cpu_transform;

static const cpu_transform spectrum_transform = {spectrum_create, spectrum_destroy,
                                                 spectrum_execute, spectrum_reserve};
static const cpu_transform cqt_transform = {melspec_cpu_cqt_create, melspec_cpu_cqt_destroy,
                                            melspec_cpu_cqt_execute, melspec_cpu_cqt_reserve};

static const cpu_transform *transform_of(const melspec_plan *plan)
{
    return plan->stages.kind == MELSPEC_PLAN_KIND_CQT ? &cqt_transform : &spectrum_transform;
}

static melspec_status cpu_create(melspec_plan *plan) { return transform_of(plan)->create(plan); }

static void cpu_destroy(melspec_plan *plan) { transform_of(plan)->destroy(plan); }

static melspec_status cpu_execute(melspec_plan *plan, const float *input, int64_t n_signals,
                                  int64_t n_samples, void *output)
{
    return transform_of(plan)->execute(plan, input, n_signals, n_samples, output);
}

static melspec_status cpu_reserve(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    return transform_of(plan)->reserve(plan, n_signals, n_samples);
}

const melspec_backend_ops melspec_cpu_ops = {
    .name = "CPU",
    .create = cpu_create,
    .destroy = cpu_destroy,
    .execute = cpu_execute,
    .reserve = cpu_reserve,
    .execute_device = NULL, /* host memory only: the device-pointer API says so */
    .set_stream = NULL,
    .stream_prepare = cpu_stream_prepare, /* streams are refused for CQT plans before this */
    .stream_compute = cpu_stream_compute,
};
