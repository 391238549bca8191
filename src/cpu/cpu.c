/* CPU backend: the reference path, and its one ops table for every kind of plan. The STFT family
 * on blocks of MELSPEC_RFFT_BATCH frames: gather (frames inside the signal are read in place, the
 * others gathered with padding), window and real FFT (fft.h: one frame per SIMD lane), |X|^power
 * and the sparse mel product on the block (lane layout: value v of frame f at [v * 8 + f]), then
 * the scaling stage per clip, the layout and the output dtype. Constant-Q plans: cqt.c.
 *
 * Streams hand over frames in blocks too and run the same block code: a frame's values do not
 * depend on the block it is in, nor on its place in it, so streams and execute give the same
 * bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../alloc.h"
#include "../dsp/float16.h"
#include "../dsp/framing.h"
#include "../widest_vectors.h"
#include "cpu_backend.h"
#include "fft.h"

/* Raw frames a stream hands over per stream_compute: enough to amortise the call. */
#define CPU_STREAM_BATCH 16
#define LANES MELSPEC_RFFT_BATCH
/* How far ahead of a block store_block prefetches each bins-major row (frames). */
#define STORE_PREFETCH_FRAMES (4 * LANES)

typedef struct cpu_state {
    melspec_rfft *fft;
    float *window;       /* n_fft */
    float *frames;       /* LANES x n_fft: the block's frames that need padding */
    float *power;        /* LANES x n_freq, lane layout */
    float *values;       /* LANES x the values of a frame, lane layout */
    float *frame_values; /* one frame's values (streams) */
    melspec_lanes_rows mel_rows;        /* the plan's filterbank, for mel_product */
    melspec_lanes_product mel_product;  /* the filterbank on a block (fft_lanes.h) */
    float *clip;         /* 16-bit outputs: one clip's float values before the conversion */
    int64_t clip_floats; /* ... its size */
    float *stream_frames;          /* CPU_STREAM_BATCH raw frames of n_fft (streams) */
    unsigned char *stream_values;  /* ... their values in the output dtype */
    melspec_cpu_features *features; /* the feature stage's (features.c); NULL without one */
    int scan_input_first; /* NaN and Inf by a scan of the input, not in the blocks (below) */
} cpu_state;

/* Floats of one frame's output values: n_bins, or n_bins complex pairs. */
static int64_t values_per_frame(const melspec_plan *plan)
{
    return plan->stages.n_bins * (plan->stages.complex_values ? 2 : 1);
}

/* Floats of one frame's spectrum values (what block_values computes): the output's unless a
 * feature stage follows, which takes spectrum_bins values and gives n_bins. */
static int64_t spectrum_values_per_frame(const melspec_plan *plan)
{
    return plan->stages.spectrum_bins * (plan->stages.complex_values ? 2 : 1);
}

/* |X|^power of a block's spectra, lane layout in and out */
WIDEST_VECTORS_LOOPS void spectrum_power_loops(const float *restrict spectrum, int64_t n_freq,
                                               melspec_power_stage power, float *restrict out)
{
#define LANES_POWER_LOOP(stage)                                                        \
    for (int64_t k = 0; k < n_freq; k++)                                               \
        for (int64_t f = 0; f < LANES; f++)                                            \
            out[k * LANES + f] = melspec_power_value(spectrum[2 * k * LANES + f],      \
                                                     spectrum[(2 * k + 1) * LANES + f], \
                                                     stage)
    MELSPEC_POWER_LOOP_BY_MODE(power, LANES_POWER_LOOP);
#undef LANES_POWER_LOOP
}
WIDEST_VECTORS_VOID(spectrum_power,
                    (const float *restrict spectrum, int64_t n_freq, melspec_power_stage power,
                     float *restrict out),
                    (spectrum, n_freq, power, out))

void melspec_cpu_spectrum_power(const float *spectrum, int64_t n_freq, melspec_power_stage power,
                                float *out)
{
    spectrum_power(spectrum, n_freq, power, out);
}

/* Window, FFT, |.|^power and filterbank of n_frames (<= LANES) frames of n_fft raw samples,
 * unscaled, in lane layout. */
static const float *block_values(melspec_plan *plan, const float *const *frames,
                                 int64_t n_frames)
{
    cpu_state *s = plan->backend_state;
    const melspec_stages *stages = &plan->stages;
    if (stages->complex_values) /* bin k's re, im are values 2k, 2k + 1 */
        return melspec_rfft_execute_frames(s->fft, frames, n_frames, s->window);
    float *power = stages->mel ? s->power : s->values;
    melspec_rfft_power_frames(s->fft, frames, n_frames, s->window, stages->power, power);
    if (!stages->mel) return s->values;
    s->mel_product(&s->mel_rows, s->power, s->values);
    return s->values;
}

/* ---- NaN and Inf in the input (ops.execute_checks_finite) ------------------------------------
 * A non-finite sample in a frame makes every value of that frame's spectrum non-finite: the FFT's
 * sums and products keep NaN and Inf (0 x Inf is NaN), |X|^power with power > 0 keeps them, and
 * so does each mel band's sum. So the samples frames read are checked where they arrive anyway:
 * each block's values, in L1, before the scaling (whose max(amin, x) and clamp would hide a NaN).
 * That saves the separate scan of the whole input (music: 5.3 MB read once more per call). The
 * samples no frame reads are scanned on their own. A block that is not finite although no sample
 * is (|X|^2 past FLT_MAX) sends the whole input through the scan once; so do plans whose
 * filterbank has no weight at all (every band empty), which would hide a NaN. */

/* Whether a sample of the signal that no frame reads is NaN or infinite: between frames when hop
 * > n_fft, and after the last frame. (Padding repeats only samples near the edges, which the
 * first and last frames read.) */
static int unread_samples_not_finite(const melspec_frame_geometry *g, const float *signal,
                                     int64_t n_samples, int64_t n_frames)
{
    /* the first frame starts at -pad <= 0; frames that overlap or touch read everything up to
     * the last one's end */
    int64_t read_to = g->n_fft - g->pad;
    for (int64_t t = 1; t < n_frames; t++) {
        const int64_t start = t * g->hop - g->pad;
        if (g->hop <= g->n_fft) {
            read_to = (n_frames - 1) * g->hop - g->pad + g->n_fft;
            break;
        }
        const int64_t gap_end = start < n_samples ? start : n_samples;
        if (gap_end > read_to && melspec_any_non_finite(signal + read_to, gap_end - read_to))
            return 1;
        read_to = start + g->n_fft;
    }
    return read_to < n_samples && melspec_any_non_finite(signal + read_to, n_samples - read_to);
}

/* Writes a block's values (lane layout) for frames first .. first + n_frames - 1 into the clip's
 * output in the plan's layout. A complex value (STFT) moves as a pair of floats. */
static void store_block(const melspec_plan *plan, const float *lanes, int64_t first,
                        int64_t n_frames, int64_t clip_frames, float *clip)
{
    const int64_t n_values = values_per_frame(plan);
    if (plan->stages.layout == MELSPEC_LAYOUT_FRAMES_MAJOR) {
        for (int64_t f = 0; f < n_frames; f++)
            for (int64_t v = 0; v < n_values; v++)
                clip[(first + f) * n_values + v] = lanes[v * LANES + f];
        return;
    }
    const int64_t width = plan->stages.complex_values ? 2 : 1;
    if (width == 1 && n_frames == LANES) {
        /* a whole block: each bin's 8 values are 8 consecutive outputs (one vector move). The
         * bins' rows are as many write streams as bins, more than the hardware prefetchers
         * follow (music: 128 rows, a fifth of the passes' time went to these stores' misses):
         * each row's line a few blocks on is asked for now, with intent to write. */
        const int64_t ahead = first + STORE_PREFETCH_FRAMES;
        for (int64_t b = 0; b < plan->stages.n_bins; b++) {
            float *row = clip + b * clip_frames;
            memcpy(row + first, lanes + b * LANES, LANES * sizeof *clip);
            if (ahead < clip_frames) __builtin_prefetch(row + ahead, 1);
        }
        return;
    }
    for (int64_t b = 0; b < plan->stages.n_bins; b++)
        for (int64_t f = 0; f < n_frames; f++)
            for (int64_t c = 0; c < width; c++)
                clip[width * (b * clip_frames + first + f) + c] = lanes[(width * b + c) * LANES + f];
}

static melspec_status spectrum_execute(melspec_plan *plan, const float *input, int64_t n_signals,
                                       int64_t n_samples, void *output)
{
    cpu_state *s = plan->backend_state;
    const melspec_stages *stages = &plan->stages;
    const int64_t n_fft = stages->frames.n_fft;
    const int64_t n_frames = melspec_stages_frame_count(stages, n_samples);
    const int64_t clip_floats = values_per_frame(plan) * n_frames;
    const int float32 = stages->dtype == MELSPEC_DTYPE_FLOAT32;
    float *const feature_input = melspec_cpu_features_input(s->features);
    /* a fixed-reference dB on each block while it is in L1 (scale.c) */
    const int db_by_block = melspec_cpu_db_by_block(stages);
    const int64_t block_floats = spectrum_values_per_frame(plan) * LANES;
    if (!float32 && clip_floats > s->clip_floats)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL,
                            "clip of %lld values past the reserved %lld", (long long)clip_floats,
                            (long long)s->clip_floats);
    /* NaN and Inf: in each block, or by one scan of the whole input (see above) */
    int input_scanned = s->scan_input_first;
    if (input_scanned && melspec_any_non_finite(input, n_signals * n_samples))
        return MELSPEC_ERROR_NON_FINITE_INPUT;
    for (int64_t b = 0; b < n_signals; b++) {
        const float *signal = input + b * n_samples;
        if (!input_scanned &&
            unread_samples_not_finite(&stages->frames, signal, n_samples, n_frames))
            return MELSPEC_ERROR_NON_FINITE_INPUT;
        float *clip = float32 ? (float *)output + b * clip_floats : s->clip;
        float clip_maximum = 0.0f; /* db_by_block: the clip's largest value so far */
        for (int64_t first = 0; first < n_frames; first += LANES) {
            const int64_t in_block = n_frames - first < LANES ? n_frames - first : LANES;
            const float *frames[LANES];
            for (int64_t f = 0; f < in_block; f++) {
                const int64_t t = first + f;
                /* frames inside the signal are read in place; the others are gathered with
                 * padding */
                frames[f] = signal + (t * stages->frames.hop - stages->frames.pad);
                if (!melspec_frame_is_inside(&stages->frames, n_samples, t)) {
                    melspec_gather_frame(&stages->frames, signal, 0, n_samples, t,
                                         s->frames + f * n_fft);
                    frames[f] = s->frames + f * n_fft;
                }
            }
            const float *lanes = block_values(plan, frames, in_block);
            if (!input_scanned && melspec_any_non_finite(lanes, block_floats)) {
                if (melspec_any_non_finite(input, n_signals * n_samples))
                    return MELSPEC_ERROR_NON_FINITE_INPUT;
                input_scanned = 1; /* finite: the values overflowed */
            }
            if (db_by_block) /* real values: block_values gave s->values */
                melspec_cpu_db_block(stages, s->values, spectrum_values_per_frame(plan), in_block,
                                     first, &clip_maximum);
            if (feature_input == NULL) {
                store_block(plan, lanes, first, in_block, n_frames, clip);
                continue;
            }
            /* with a feature stage the values wait in its input, frame after frame */
            const int64_t n_values = stages->spectrum_bins;
            for (int64_t f = 0; f < in_block; f++)
                for (int64_t v = 0; v < n_values; v++)
                    feature_input[(first + f) * n_values + v] = lanes[v * LANES + f];
        }
        float *const scaled = feature_input == NULL ? clip : feature_input;
        const int64_t n_scaled = feature_input == NULL ? clip_floats
                                                       : n_frames * stages->spectrum_bins;
        if (db_by_block)
            melspec_cpu_db_clip_end(stages, scaled, n_scaled, clip_maximum);
        else
            melspec_cpu_scale_clip(stages, scaled, n_scaled);
        if (feature_input != NULL)
            melspec_cpu_features_clip(plan, s->features, feature_input, n_frames, clip);
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
    const melspec_status features =
        melspec_cpu_features_reserve(plan, s->features,
                                     melspec_stages_frame_count(&plan->stages, n_samples));
    if (features != MELSPEC_OK) return features;
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
    const melspec_allocator *a = &plan->allocator;
    melspec_free(a, s->window);
    melspec_free(a, s->frames);
    melspec_free(a, s->power);
    melspec_free(a, s->values);
    melspec_free(a, s->frame_values);
    melspec_free(a, s->clip);
    melspec_free(a, s->stream_frames);
    melspec_free(a, s->stream_values);
    melspec_cpu_features_destroy(s->features);
    melspec_free(a, s);
    plan->backend_state = NULL;
}

static melspec_status spectrum_create(melspec_plan *plan)
{
    const int64_t n_fft = plan->stages.frames.n_fft;
    cpu_state *s = melspec_alloc_zeroed(&plan->allocator, 1, sizeof *s);
    if (s == NULL) return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "CPU state");
    plan->backend_state = s;
    const melspec_allocator *a = &plan->allocator;
    const size_t frame_values = (size_t)(2 * plan->n_freq + plan->stages.spectrum_bins);
    s->fft = melspec_rfft_create(n_fft, a);
    s->window = melspec_alloc(a, (size_t)n_fft * sizeof *s->window);
    s->frames = melspec_alloc(a, (size_t)(LANES * n_fft) * sizeof *s->frames);
    /* zeroed: lanes a short block leaves unwritten are multiplied and checked too */
    s->power = melspec_alloc_zeroed(a, (size_t)(LANES * plan->n_freq), sizeof *s->power);
    s->values = melspec_alloc_zeroed(a, LANES * frame_values, sizeof *s->values);
    s->frame_values = melspec_alloc(a, frame_values * sizeof *s->frame_values);
    const melspec_status features = melspec_cpu_features_create(plan, &s->features);
    if (features != MELSPEC_OK) {
        spectrum_destroy(plan);
        return features;
    }
    if (!s->fft || !s->window || !s->frames || !s->power || !s->values || !s->frame_values) {
        spectrum_destroy(plan);
        return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY,
                            "FFT plan and scratch for n_fft = %lld (%s)", (long long)n_fft,
                            melspec_rfft_library());
    }
    for (int64_t i = 0; i < n_fft; i++) s->window[i] = (float)plan->window[i];
    s->mel_rows = (melspec_lanes_rows){plan->mel_rows.n_rows, plan->mel_rows.weights,
                                       plan->mel_rows.row_offset, plan->mel_rows.first_column,
                                       plan->mel_rows.row_length};
    s->mel_product = melspec_lanes_product_for(MELSPEC_LANES_AUTO);
    /* a filterbank without a single weight gives zeros whatever the input: NaN would pass */
    const melspec_sparse_rows *mel = &plan->mel_rows;
    const int64_t mel_weights =
        mel->n_rows > 0 ? mel->row_offset[mel->n_rows - 1] + mel->row_length[mel->n_rows - 1] : 0;
    s->scan_input_first = plan->stages.mel && mel_weights == 0;
    const melspec_status status =
        spectrum_reserve(plan, plan->stages.max_batch, plan->stages.max_samples);
    if (status != MELSPEC_OK) spectrum_destroy(plan);
    return status;
}

/* ---- streams: frames from src/stream.c, computed in blocks with the code above -------------- */

static melspec_status cpu_stream_prepare(melspec_plan *plan, float **raw_frames,
                                         const void **values, int64_t *max_frames)
{
    cpu_state *s = plan->backend_state;
    if (s->stream_frames == NULL) {
        const size_t frame_bytes = plan->stages.stream_frame_bytes;
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
    const melspec_stages *stages = &plan->stages;
    const int64_t n_fft = stages->frames.n_fft;
    /* with a feature stage the stream applies it: the scaled float32 values go there */
    const int64_t n_values = spectrum_values_per_frame(plan);
    const int32_t dtype = stages->complex_values || stages->feature != MELSPEC_FEATURE_NONE
                              ? MELSPEC_DTYPE_FLOAT32
                              : stages->dtype;
    const size_t frame_bytes = stages->stream_frame_bytes;
    for (int64_t first = 0; first < n_frames; first += LANES) {
        const int64_t in_block = n_frames - first < LANES ? n_frames - first : LANES;
        const float *frames[LANES];
        for (int64_t f = 0; f < in_block; f++) frames[f] = s->stream_frames + (first + f) * n_fft;
        const float *lanes = block_values(plan, frames, in_block);
        for (int64_t f = 0; f < in_block; f++) {
            for (int64_t v = 0; v < n_values; v++) s->frame_values[v] = lanes[v * LANES + f];
            /* streams never need the clip's maximum, so one frame scales as the whole clip
             * would */
            melspec_cpu_scale_clip(stages, s->frame_values, n_values);
            melspec_store_dtype(s->frame_values, n_values, dtype,
                                s->stream_values + (size_t)(first + f) * frame_bytes);
        }
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
    /* the STFT family checks its samples in its blocks (spectrum_execute); the CQT here */
    if (plan->stages.kind == MELSPEC_PLAN_KIND_CQT &&
        melspec_any_non_finite(input, n_signals * n_samples))
        return MELSPEC_ERROR_NON_FINITE_INPUT;
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
    .execute_checks_finite = 1,
    .reserve = cpu_reserve,
    .execute_device = NULL, /* host memory only: the device-pointer API says so */
    .set_stream = NULL,
    .stream_prepare = cpu_stream_prepare, /* streams are refused for CQT plans before this */
    .stream_compute = cpu_stream_compute,
};
