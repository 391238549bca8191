/* Streaming: frames as soon as they are complete, equal bit for bit to the offline execute.
 *
 * A stream keeps the samples that frames still to come may read in a linear buffer of
 * n_fft + hop_length floats. A frame's raw samples are gathered from the buffer by the CPU
 * backend's melspec_cpu_gather_frame, given the buffer as the window of the signal it is, so that
 * the padding is decided by the offline code itself. On the
 * CPU the window, FFT and scaling are then the offline building blocks too (bit-exact); backends
 * with stream hooks (CUDA) receive the gathered frames in batches and run their own frame
 * pipeline on them, for all the streams of a call at once.
 *
 * When is frame t final? Its samples run from start(t) = t hop - pad to start(t) + n_fft - 1
 * (pad = n_fft/2 when centred, else 0). It is final once every sample it covers has arrived
 * (start(t) + n_fft <= received): samples past the end only appear at flush, when the length is
 * known. The samples before the start do not depend on the future for CONSTANT and EDGE; for
 * REFLECT they do while the signal is not longer than the pad (numpy reflects periodically then),
 * so with REFLECT no frame is final before pad + 1 samples have arrived.
 *
 * What must be kept? A frame still to come reads its own samples and, at flush, the reflection of
 * the samples past the end, which reaches down to start(t) - 1. Frames that start before the
 * signal also read its first pad + 1 samples; while such a frame is still to come nothing is
 * dropped. So the buffer starts at `base`, the largest multiple of hop_length not above
 * start(next) - 1 (0 while start(next) <= 0), and holds at most n_fft + hop_length samples.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cpu/cpu_backend.h"
#include "plan.h"

struct melspec_stream {
    melspec_plan *plan;     /* failures are recorded there */
    int64_t n_fft, hop, pad;
    int64_t reflect_wait;   /* samples needed before any frame is final (pad + 1 for REFLECT) */
    int64_t value_bytes;    /* one output value: 4, 8 (complex64) or 2 (float16, bfloat16) */
    int64_t frame_bytes;    /* one output frame: n_bins values */
    int64_t capacity;       /* buffer size in samples: n_fft + hop */
    float *buffer;          /* samples origin .. received - 1 (those below origin never stored) */
    float *values;          /* CPU: one frame's values */
    float *staging;         /* batched backends: max_batch raw frames of n_fft (the backend's) */
    const unsigned char *staged_values; /* ... and their values, frame after frame */
    int64_t max_batch;      /* 0: frames computed one by one on the CPU */
    int64_t origin;         /* absolute index of buffer[0]; a multiple of hop, <= base */
    int64_t base;           /* absolute index of the first sample still needed */
    int64_t received;       /* samples pushed so far */
    int64_t emitted;        /* frames written so far */
    int flushed;
    int in_call;            /* marks the stream while melspec_streams_push checks duplicates */
};

/* Where the frames of one call go: the call's i-th stream writes counts[i] frames to frames[i],
 * in the order the streams are listed, so one cursor tells where the next frame goes. Batched
 * backends hold gathered frames until max_batch of them are staged or the call ends. */
typedef struct frame_sink {
    void *const *frames;
    const int64_t *counts;
    int64_t stream_index, column; /* where the next frame goes */
    int64_t n_staged;             /* batched: frames gathered, not computed yet */
} frame_sink;

/* ---- frame arithmetic ------------------------------------------------------------------------ */

/* Samples that must have arrived before frame t is final (without flush). */
static int64_t samples_needed(const melspec_stream *s, int64_t t)
{
    const int64_t end = t * s->hop - s->pad + s->n_fft;
    return end > s->reflect_wait ? end : s->reflect_wait;
}

/* Number of frames final once `received` samples have arrived (frames are final in order). */
static int64_t frames_final(const melspec_stream *s, int64_t received)
{
    if (received < s->reflect_wait) return 0;
    const int64_t reach = received + s->pad - s->n_fft;
    return reach < 0 ? 0 : 1 + reach / s->hop;
}

/* Number of frames of the whole signal once flushed. */
static int64_t frames_total(const melspec_stream *s)
{
    if (s->received == 0) return 0;
    const int64_t n = melspec_frame_count(&s->plan->config, s->received);
    return n < 0 ? 0 : n;
}

/* The first sample frames from t on may read (see the top of the file). */
static int64_t base_for(const melspec_stream *s, int64_t t)
{
    const int64_t first = t * s->hop - s->pad - 1;
    return first <= 0 ? 0 : first / s->hop * s->hop;
}

/* ---- the sample buffer ----------------------------------------------------------------------- */

/* Appends count samples (absolute indices received ..). Samples below origin are never needed. */
static melspec_status append(melspec_stream *s, const float *samples, int64_t count)
{
    if (count == 0) return MELSPEC_OK;
    const int64_t end = s->received + count;
    if (end - s->origin > s->capacity) {
        /* Drop what no frame will read again; base only moves in multiples of hop. */
        const int64_t keep = s->received > s->base ? s->received - s->base : 0;
        if (keep > 0)
            memmove(s->buffer, s->buffer + (s->base - s->origin), (size_t)keep * sizeof *s->buffer);
        s->origin = s->base;
        if (end - s->origin > s->capacity)
            return melspec_fail(s->plan, MELSPEC_ERROR_INTERNAL,
                                "stream buffer of %lld samples cannot hold samples %lld..%lld",
                                (long long)s->capacity, (long long)s->origin, (long long)end);
    }
    const int64_t from = s->received > s->origin ? s->received : s->origin;
    if (from < end)
        memcpy(s->buffer + (from - s->origin), samples + (from - s->received),
               (size_t)(end - from) * sizeof *samples);
    s->received = end;
    return MELSPEC_OK;
}

/* Copies one frame's values into column `column` of a clip of n_columns frames, in the plan's
 * layout. */
static void store_frame(const melspec_stream *s, const unsigned char *values, void *frames,
                        int64_t column, int64_t n_columns)
{
    unsigned char *out = frames;
    if (s->plan->config.layout == MELSPEC_LAYOUT_FRAMES_MAJOR) {
        memcpy(out + column * s->frame_bytes, values, (size_t)s->frame_bytes);
        return;
    }
    const int64_t n_bins = s->frame_bytes / s->value_bytes;
#define MELSPEC_SCATTER_(size)                                                               \
    for (int64_t b = 0; b < n_bins; b++)                                                      \
        memcpy(out + (b * n_columns + column) * (size), values + b * (size), (size))
    switch (s->value_bytes) {
    case 2: MELSPEC_SCATTER_(2); break;
    case 4: MELSPEC_SCATTER_(4); break;
    default: MELSPEC_SCATTER_(8); break;
    }
#undef MELSPEC_SCATTER_
}

static void sink_store(const melspec_stream *s, frame_sink *sink, const unsigned char *values)
{
    while (sink->column == sink->counts[sink->stream_index]) {
        sink->stream_index++;
        sink->column = 0;
    }
    store_frame(s, values, sink->frames[sink->stream_index], sink->column,
                sink->counts[sink->stream_index]);
    sink->column++;
}

/* Batched backends: computes the staged frames and stores them where they belong. */
static melspec_status sink_compute(const melspec_stream *s, frame_sink *sink)
{
    if (sink->n_staged == 0) return MELSPEC_OK;
    const melspec_status status = s->plan->ops->stream_compute(s->plan, sink->n_staged);
    if (status != MELSPEC_OK) return status;
    for (int64_t q = 0; q < sink->n_staged; q++)
        sink_store(s, sink, s->staged_values + q * s->frame_bytes);
    sink->n_staged = 0;
    return MELSPEC_OK;
}

/* Frame t, given the signal's length so far (its final length at flush): gathered from the
 * buffer, then computed at once (CPU) or staged (batched backends). */
static melspec_status emit_frame(melspec_stream *s, int64_t t, int64_t n_signal, frame_sink *sink)
{
    melspec_plan *plan = s->plan;
    const melspec_config *config = &plan->config;
    float *raw = s->max_batch > 0 ? s->staging + sink->n_staged * s->n_fft
                                  : melspec_cpu_frame_scratch(plan);
    /* The buffer holds the signal from origin on: the offline code gathers frame t from it with
     * the same padding decisions (see the top of the file). */
    melspec_cpu_gather_frame(config, s->buffer, s->origin, n_signal, t, raw);
    s->emitted = t + 1;
    const int64_t base = base_for(s, s->emitted);
    if (base > s->base) s->base = base;
    if (s->max_batch > 0) {
        sink->n_staged++;
        return sink->n_staged == s->max_batch ? sink_compute(s, sink) : MELSPEC_OK;
    }
    melspec_cpu_frame_values(plan, raw, s->values);
    melspec_cpu_scale_clip(config, s->values, s->frame_bytes / (int64_t)sizeof(float));
    sink_store(s, sink, (const unsigned char *)s->values);
    return MELSPEC_OK;
}

/* ---- checks shared by push and multi-push ---------------------------------------------------- */

static melspec_status check_push(melspec_stream *s, const float *samples, int64_t n_samples,
                                 const void *frames, int64_t frame_capacity, int64_t *needed)
{
    melspec_plan *plan = s->plan;
    if (s->flushed)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                            "push after flush: call melspec_stream_reset to start a new signal");
    if (n_samples < 0)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT, "n_samples = %lld must be >= 0",
                            (long long)n_samples);
    if (frame_capacity < 0)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                            "frame_capacity = %lld must be >= 0", (long long)frame_capacity);
    if (samples == NULL && n_samples > 0)
        return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "samples is NULL");
    if (frames == NULL && frame_capacity > 0)
        return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER,
                            "frames is NULL with frame_capacity = %lld", (long long)frame_capacity);
    if (n_samples > INT64_MAX / 2 - s->received)
        return melspec_fail(plan, MELSPEC_ERROR_SIZE_OVERFLOW,
                            "%lld samples after %lld overflow the sample count",
                            (long long)n_samples, (long long)s->received);
    for (int64_t i = 0; i < n_samples; i++)
        if (!isfinite(samples[i]))
            return melspec_fail(plan, MELSPEC_ERROR_NON_FINITE_INPUT,
                                "sample %lld of the chunk (%lld of the stream) is %s",
                                (long long)i, (long long)(s->received + i),
                                isnan(samples[i]) ? "NaN" : "infinite");
    *needed = frames_final(s, s->received + n_samples) - s->emitted;
    return MELSPEC_OK;
}

/* Consumes the chunk; its frames (already counted, and known to fit) go to the sink. */
static melspec_status run_push(melspec_stream *s, const float *samples, int64_t n_samples,
                               int64_t n_ready, frame_sink *sink)
{
    const int64_t first = s->emitted;
    int64_t used = 0;
    for (int64_t j = 0; j < n_ready; j++) {
        const int64_t take = samples_needed(s, first + j) - s->received;
        if (take > 0) {
            const melspec_status status = append(s, samples + used, take);
            if (status != MELSPEC_OK) return status;
            used += take;
        }
        const melspec_status status = emit_frame(s, first + j, s->received, sink);
        if (status != MELSPEC_OK) return status;
    }
    return append(s, samples + used, n_samples - used);
}

/* ---- public API ------------------------------------------------------------------------------ */

void melspec_stream_destroy(melspec_stream *stream)
{
    if (stream == NULL) return;
    free(stream->buffer);
    free(stream->values);
    free(stream);
}

melspec_status melspec_stream_create(melspec_plan *plan, melspec_stream **stream_out)
{
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    plan->last_error[0] = '\0';
    if (stream_out == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "stream (the out-parameter) is NULL");
    *stream_out = NULL;
    if (plan->kind != MELSPEC_PLAN_KIND_SPECTRUM)
        return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                            "streaming is for mel, linear and STFT plans; a constant-Q plan does "
                            "not stream");
    const melspec_config *c = &plan->config;
    const int decibels = c->scaling == MELSPEC_SCALING_POWER_TO_DB ||
                         c->scaling == MELSPEC_SCALING_AMPLITUDE_TO_DB;
    if (decibels && c->ref_mode == MELSPEC_REF_MAX)
        return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                            "streaming with ref_mode = MAX: a stream cannot know the clip's "
                            "maximum before its end; use ref_mode = VALUE with a fixed ref");
    if (decibels && !isinf(c->top_db))
        return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                            "streaming with top_db = %g: the clamp is relative to the clip's "
                            "maximum, unknown before its end; set top_db = INFINITY",
                            c->top_db);

    melspec_status status = MELSPEC_OK;
    melspec_stream *s = calloc(1, sizeof *s);
    if (s == NULL) return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "stream");
    s->plan = plan;
    s->n_fft = c->n_fft;
    s->hop = c->hop_length;
    s->pad = c->center ? c->n_fft / 2 : 0;
    s->reflect_wait = c->center && c->pad_mode == MELSPEC_PAD_REFLECT ? s->pad + 1 : 0;
    s->value_bytes = (int64_t)melspec_output_value_bytes(c);
    s->frame_bytes = plan->n_bins * s->value_bytes;
    s->capacity = s->n_fft + s->hop;
    s->buffer = malloc((size_t)s->capacity * sizeof *s->buffer);
    if (s->buffer == NULL) {
        status = melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "stream buffer of %lld floats",
                              (long long)s->capacity);
        goto fail;
    }
    if (plan->ops->stream_prepare != NULL) {
        const void *values = NULL;
        status = plan->ops->stream_prepare(plan, &s->staging, &values, &s->max_batch);
        if (status != MELSPEC_OK) goto fail;
        s->staged_values = values;
    } else if (plan->backend == MELSPEC_BACKEND_CPU) {
        s->values = malloc((size_t)s->frame_bytes);
        if (s->values == NULL) {
            status = melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "stream frame of %lld bytes",
                                  (long long)s->frame_bytes);
            goto fail;
        }
    } else {
        status = melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                              "the %s backend has no streaming", plan->ops->name);
        goto fail;
    }
    *stream_out = s;
    return MELSPEC_OK;

fail:
    melspec_stream_destroy(s);
    return status;
}

melspec_status melspec_stream_reset(melspec_stream *stream)
{
    if (stream == NULL) return MELSPEC_ERROR_NULL_POINTER;
    stream->origin = 0;
    stream->base = 0;
    stream->received = 0;
    stream->emitted = 0;
    stream->flushed = 0;
    stream->plan->last_error[0] = '\0';
    return MELSPEC_OK;
}

melspec_status melspec_stream_latency(const melspec_stream *stream, int64_t *n_samples)
{
    if (stream == NULL || n_samples == NULL) return MELSPEC_ERROR_NULL_POINTER;
    *n_samples = stream->n_fft - stream->pad;
    return MELSPEC_OK;
}

melspec_status melspec_stream_push(melspec_stream *stream, const float *samples,
                                   int64_t n_samples, void *frames, int64_t frame_capacity,
                                   int64_t *n_frames)
{
    if (stream == NULL) return MELSPEC_ERROR_NULL_POINTER;
    melspec_plan *plan = stream->plan;
    plan->last_error[0] = '\0';
    if (n_frames == NULL) return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "n_frames is NULL");
    *n_frames = 0;
    int64_t needed = 0;
    melspec_status status = check_push(stream, samples, n_samples, frames, frame_capacity, &needed);
    if (status != MELSPEC_OK) return status;
    if (needed > frame_capacity) {
        *n_frames = needed;
        return melspec_fail(plan, MELSPEC_ERROR_BUFFER_TOO_SMALL,
                            "%lld frame(s) are ready but frames has room for %lld; nothing was "
                            "consumed",
                            (long long)needed, (long long)frame_capacity);
    }
    void *const outputs[1] = {frames};
    frame_sink sink = {outputs, &needed, 0, 0, 0};
    status = run_push(stream, samples, n_samples, needed, &sink);
    if (status == MELSPEC_OK) status = sink_compute(stream, &sink);
    if (status == MELSPEC_OK) *n_frames = needed;
    return status;
}

melspec_status melspec_stream_flush(melspec_stream *stream, void *frames, int64_t frame_capacity,
                                    int64_t *n_frames)
{
    if (stream == NULL) return MELSPEC_ERROR_NULL_POINTER;
    melspec_plan *plan = stream->plan;
    plan->last_error[0] = '\0';
    if (n_frames == NULL) return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "n_frames is NULL");
    *n_frames = 0;
    if (frame_capacity < 0)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                            "frame_capacity = %lld must be >= 0", (long long)frame_capacity);
    if (frames == NULL && frame_capacity > 0)
        return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER,
                            "frames is NULL with frame_capacity = %lld", (long long)frame_capacity);
    if (stream->flushed) return MELSPEC_OK;
    const int64_t total = frames_total(stream);
    const int64_t needed = total - stream->emitted;
    if (needed > frame_capacity) {
        *n_frames = needed;
        return melspec_fail(plan, MELSPEC_ERROR_BUFFER_TOO_SMALL,
                            "flush has %lld frame(s) but frames has room for %lld; nothing was "
                            "consumed",
                            (long long)needed, (long long)frame_capacity);
    }
    void *const outputs[1] = {frames};
    frame_sink sink = {outputs, &needed, 0, 0, 0};
    const int64_t first = stream->emitted;
    melspec_status status = MELSPEC_OK;
    for (int64_t j = 0; j < needed && status == MELSPEC_OK; j++)
        status = emit_frame(stream, first + j, stream->received, &sink);
    if (status == MELSPEC_OK) status = sink_compute(stream, &sink);
    if (status != MELSPEC_OK) return status;
    stream->flushed = 1;
    *n_frames = needed;
    return MELSPEC_OK;
}

melspec_status melspec_streams_push(melspec_stream *const *streams, int64_t n_streams,
                                    const float *const *chunks, const int64_t *chunk_lengths,
                                    void *const *frames, const int64_t *frame_capacities,
                                    int64_t *n_frames)
{
    if (n_streams == 0) return MELSPEC_OK;
    if (streams == NULL || streams[0] == NULL) return MELSPEC_ERROR_NULL_POINTER;
    melspec_plan *plan = streams[0]->plan;
    plan->last_error[0] = '\0';
    if (n_streams < 0)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT, "n_streams = %lld must be >= 0",
                            (long long)n_streams);
    if (chunks == NULL || chunk_lengths == NULL || frames == NULL || frame_capacities == NULL ||
        n_frames == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER,
                            "chunks, chunk_lengths, frames, frame_capacities or n_frames is NULL");

    /* Check everything before anything is consumed; mark streams to catch one listed twice. */
    melspec_status status = MELSPEC_OK;
    int too_small = 0;
    int64_t checked = 0;
    for (; checked < n_streams; checked++) {
        melspec_stream *s = streams[checked];
        if (s == NULL || s->plan != plan || s->in_call) {
            status = melspec_fail(plan, s == NULL ? MELSPEC_ERROR_NULL_POINTER
                                                  : MELSPEC_ERROR_INVALID_ARGUMENT,
                                  "streams[%lld] is %s", (long long)checked,
                                  s == NULL        ? "NULL"
                                  : s->plan != plan ? "of another plan than streams[0]"
                                                    : "listed twice");
            break;
        }
        s->in_call = 1;
        status = check_push(s, chunks[checked], chunk_lengths[checked], frames[checked],
                            frame_capacities[checked], &n_frames[checked]);
        if (status != MELSPEC_OK) {
            char detail[MELSPEC_MESSAGE_CAPACITY];
            memcpy(detail, plan->last_error, sizeof detail);
            melspec_fail(plan, status, "streams[%lld]: %s", (long long)checked, detail);
            checked++;
            break;
        }
        if (n_frames[checked] > frame_capacities[checked]) too_small = 1;
    }
    for (int64_t i = 0; i < checked; i++) streams[i]->in_call = 0;
    if (status != MELSPEC_OK) {
        for (int64_t i = 0; i < n_streams; i++) n_frames[i] = 0;
        return status;
    }
    if (too_small) {
        for (int64_t i = 0; i < n_streams; i++)
            if (n_frames[i] > frame_capacities[i])
                return melspec_fail(plan, MELSPEC_ERROR_BUFFER_TOO_SMALL,
                                    "streams[%lld] has %lld frame(s) ready but room for %lld; no "
                                    "stream consumed anything (n_frames holds what each needs)",
                                    (long long)i, (long long)n_frames[i],
                                    (long long)frame_capacities[i]);
    }
    /* One sink for all: batched backends compute the frames of many streams together. */
    frame_sink sink = {frames, n_frames, 0, 0, 0};
    for (int64_t i = 0; i < n_streams; i++) {
        status = run_push(streams[i], chunks[i], chunk_lengths[i], n_frames[i], &sink);
        if (status != MELSPEC_OK) return status;
    }
    return sink_compute(streams[0], &sink);
}
