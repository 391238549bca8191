/* Streaming: frames as soon as they are complete, equal bit for bit to the offline execute.
 *
 * This file is backend-neutral: the cursor, the sample buffer and the padding decisions live here,
 * the frames' values are the backend's. A stream keeps the samples that frames still to come may
 * read in a linear buffer of n_fft + hop_length floats. A frame's raw samples are gathered from
 * the buffer by melspec_gather_frame (src/dsp/framing.h, the same function the CPU backend's
 * execute pads with), given the buffer as the window of the signal it is. Complete frames go to
 * the backend through its stream ops (stream_prepare / stream_compute) in batches of up to the
 * backend's max_frames, for all the streams of a call at once; the CPU backend computes them with
 * its offline building blocks (bit-exact), the CUDA backend in one device batch.
 *
 * Backends with rings (the stream_ring / stream_step ops of src/plan.h, the CUDA backend) get
 * instead, per call, each stream's new samples plus the ring state decided here (which frames
 * become final, the length their padding sees, which samples the backend's ring must keep), and
 * keep each stream's ring where they compute: a call of N streams is then one device step. The
 * host buffer below stays the truth: the backend's ring is a cache of it, valid (ring_valid)
 * only after a step that succeeded, refilled from the host buffer (resend_from) otherwise, so a
 * failed step leaves every stream as it was. Streams whose call makes no frame final are not
 * sent at all: their samples reach the ring with their next step.
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

#include "alloc.h"
#include "config.h"
#include "dsp/framing.h"
#include "dsp/float16.h"
#include "feature_stage.h"
#include "plan.h"

struct melspec_stream {
    melspec_plan *plan;     /* failures are recorded there */
    int64_t n_fft, hop, pad;
    int64_t reflect_wait;   /* samples needed before any frame is final (pad + 1 for REFLECT) */
    int64_t value_bytes;    /* one output value: 4, 8 (complex64) or 2 (float16, bfloat16) */
    int64_t frame_bytes;    /* one output frame: n_bins values */
    int64_t capacity;       /* buffer size in samples: n_fft + hop */
    float *buffer;          /* samples origin .. received - 1 (those below origin never stored) */
    float *staging;         /* max_batch raw frames of n_fft (the backend's) */
    const unsigned char *staged_values; /* ... and their values, frame after frame */
    int64_t max_batch;      /* frames the backend takes per stream_compute */
    int64_t origin;         /* absolute index of buffer[0]; a multiple of hop, <= base */
    int64_t base;           /* absolute index of the first sample still needed */
    int64_t received;       /* samples pushed so far */
    int64_t emitted;        /* frames written so far */
    int flushed;
    int in_call;            /* marks the stream while melspec_streams_push checks duplicates */
    /* The backend's ring (NULL for backends without one): it holds samples ring_first ..
     * ring_received - 1 when ring_valid. */
    void *ring;
    int ring_valid;
    int64_t ring_first, ring_received;
    /* The feature stage (issue 15), applied here to the backend's scaled frames in time order
     * (NULL without one): the PCEN smoother's state carries from frame to frame as offline. */
    double *pcen_state;             /* spectrum_bins */
    float *feature_values;          /* n_bins: one frame's features */
    unsigned char *feature_frame;   /* ... in the output dtype */
};

/* Where the frames of one call go: the call's i-th stream writes counts[i] frames to frames[i],
 * in the order the streams are listed, so one cursor tells where the next frame goes. Gathered
 * frames wait in the backend's staging until max_batch of them are there or the call ends. */
typedef struct frame_sink {
    melspec_stream *const *streams; /* the call's streams: frames[i] is streams[i]'s */
    void *const *frames;
    const int64_t *counts;
    int64_t stream_index, column; /* where the next frame goes */
    int64_t n_staged;             /* frames gathered, not computed yet */
} frame_sink;

#define FORWARD_STATUS_(expression)                                           \
    do {                                                                      \
        const melspec_status forwarded_ = (expression);                       \
        if (forwarded_ != MELSPEC_OK) return forwarded_;                      \
    } while (0)

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
    const int64_t n = melspec_stages_frame_count(&s->plan->stages, s->received);
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
    if (s->plan->stages.layout == MELSPEC_LAYOUT_FRAMES_MAJOR) {
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

/* The feature stage on the stream's next frame: the backend's scaled values in, the frame to
 * store out. */
static const unsigned char *apply_feature(melspec_stream *s, const unsigned char *values)
{
    const melspec_stages *stages = &s->plan->stages;
    melspec_feature_frame(stages, s->plan->mfcc_basis, s->pcen_state, (const float *)values,
                          s->feature_values);
    melspec_store_dtype(s->feature_values, stages->n_bins, stages->dtype, s->feature_frame);
    return s->feature_frame;
}

static void sink_store(frame_sink *sink, const unsigned char *values)
{
    while (sink->column == sink->counts[sink->stream_index]) {
        sink->stream_index++;
        sink->column = 0;
    }
    melspec_stream *s = sink->streams[sink->stream_index];
    if (s->feature_frame != NULL) values = apply_feature(s, values);
    store_frame(s, values, sink->frames[sink->stream_index], sink->column,
                sink->counts[sink->stream_index]);
    sink->column++;
}

/* Computes the staged frames and stores them where they belong. */
static melspec_status sink_compute(const melspec_stream *s, frame_sink *sink)
{
    if (sink->n_staged == 0) return MELSPEC_OK;
    const melspec_status status = s->plan->ops->stream_compute(s->plan, sink->n_staged);
    if (status != MELSPEC_OK) return status;
    for (int64_t q = 0; q < sink->n_staged; q++)
        sink_store(sink, s->staged_values + q * (int64_t)s->plan->stages.stream_frame_bytes);
    sink->n_staged = 0;
    return MELSPEC_OK;
}

/* Frame t, given the signal's length so far (its final length at flush): gathered from the
 * buffer into the backend's staging, computed once max_batch frames are staged. */
static melspec_status emit_frame(melspec_stream *s, int64_t t, int64_t n_signal, frame_sink *sink)
{
    float *raw = s->staging + sink->n_staged * s->n_fft;
    /* The buffer holds the signal from origin on: the offline code gathers frame t from it with
     * the same padding decisions (see the top of the file). */
    melspec_gather_frame(&s->plan->stages.frames, s->buffer, s->origin, n_signal, t, raw);
    s->emitted = t + 1;
    const int64_t base = base_for(s, s->emitted);
    if (base > s->base) s->base = base;
    sink->n_staged++;
    return sink->n_staged == s->max_batch ? sink_compute(s, sink) : MELSPEC_OK;
}

/* ---- checks shared by push and multi-push ---------------------------------------------------- */

/* Whole frames that fit in frames_bytes. */
static int64_t frames_fitting(const melspec_stream *s, size_t frames_bytes)
{
    const size_t n = frames_bytes / (size_t)s->frame_bytes;
    return n > (size_t)INT64_MAX ? INT64_MAX : (int64_t)n;
}

static melspec_status check_frames(melspec_stream *s, const void *frames, size_t frames_bytes)
{
    if (frames == NULL && frames_bytes > 0)
        return melspec_fail(s->plan, MELSPEC_ERROR_NULL_POINTER,
                            "frames is NULL with frames_bytes = %zu", frames_bytes);
    return MELSPEC_OK;
}

static melspec_status check_push(melspec_stream *s, const float *samples, int64_t n_samples,
                                 const void *frames, size_t frames_bytes, int64_t *needed)
{
    melspec_plan *plan = s->plan;
    if (s->flushed)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT,
                            "push after flush: call melspec_stream_reset to start a new signal");
    if (n_samples < 0)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT, "n_samples = %lld must be >= 0",
                            (long long)n_samples);
    if (samples == NULL && n_samples > 0)
        return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER, "samples is NULL");
    const melspec_status status = check_frames(s, frames, frames_bytes);
    if (status != MELSPEC_OK) return status;
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

/* ---- the ring path: one backend step per call ------------------------------------------------ */

/* Stream s's part of a call that makes n_frames frames final, after n_new new samples (0 at
 * flush, where the frames' padding sees the whole signal). Decides everything; changes
 * nothing. */
static void make_step(const melspec_stream *s, const float *chunk, int64_t n_new,
                      int64_t n_frames, melspec_stream_step *step)
{
    const int64_t received_new = s->received + n_new;
    const int64_t base_new = base_for(s, s->emitted + n_frames);
    step->ring = s->ring;
    step->ring_first = s->ring_first;
    step->window_first = s->base;
    /* the ring is a cache of the host buffer: whatever it may not hold is sent again */
    const int ring_usable = s->ring_valid && s->ring_first <= s->base &&
                            s->ring_received >= s->base && s->ring_received <= s->received;
    step->resend_from = ring_usable ? s->ring_received : s->base;
    step->resend = step->resend_from < s->received ? s->buffer + (step->resend_from - s->origin)
                                                   : NULL;
    step->chunk = chunk;
    step->received = s->received;
    step->n_new = n_new;
    step->first_frame = s->emitted;
    step->n_frames = n_frames;
    step->n_signal = received_new;
    step->keep_from = base_new > s->base ? base_new : s->base;
}

/* After a call: the host buffer holds keep_from .. received + n_new - 1, the cursor moves on.
 * Cannot fail (ring_check has checked the sizes). */
static void commit_step(melspec_stream *s, const melspec_stream_step *step, int ring_written)
{
    const int64_t received_new = s->received + step->n_new;
    const int64_t keep_from = step->keep_from;
    if (s->received > keep_from)
        memmove(s->buffer, s->buffer + (keep_from - s->origin),
                (size_t)(s->received - keep_from) * sizeof *s->buffer);
    const int64_t from = s->received > keep_from ? s->received : keep_from;
    if (from < received_new)
        memcpy(s->buffer + (from - keep_from), step->chunk + (from - s->received),
               (size_t)(received_new - from) * sizeof *s->buffer);
    s->origin = keep_from;
    s->base = keep_from;
    s->received = received_new;
    s->emitted += step->n_frames;
    if (ring_written) {
        s->ring_valid = 1;
        s->ring_first = keep_from;
        s->ring_received = received_new;
    }
}

/* The samples a step keeps must fit the host buffer and the ring (n_fft + hop: see the top of
 * the file); anything else is a bug here, reported before any state changes. */
static melspec_status ring_check(const melspec_stream *s, const melspec_stream_step *step)
{
    const int64_t kept = step->received + step->n_new - step->keep_from;
    if (kept <= s->capacity) return MELSPEC_OK;
    return melspec_fail(s->plan, MELSPEC_ERROR_INTERNAL,
                        "stream step keeps %lld samples (%lld..) in a ring of %lld",
                        (long long)kept, (long long)step->keep_from, (long long)s->capacity);
}

/* One call (push_many, push or flush) on streams with rings: every frame that becomes final in
 * one backend step. On failure no stream changed, except that rings are marked stale. Returns
 * EXCEEDS_PLAN, with nothing done, when the step does not fit a fixed-memory plan (the caller
 * then takes the frame path). */
static melspec_status ring_call(melspec_plan *plan, melspec_stream *const *streams,
                                int64_t n_streams, const float *const *chunks,
                                const int64_t *chunk_lengths, const int64_t *n_frames,
                                void *const *frames)
{
    melspec_stream_step_size size = {0, 0, 0, 0};
    melspec_stream_step step;
    for (int64_t i = 0; i < n_streams; i++) {
        make_step(streams[i], chunks[i], chunk_lengths[i], n_frames[i], &step);
        FORWARD_STATUS_(ring_check(streams[i], &step));
        if (step.n_frames == 0) continue; /* its samples wait for its next step */
        size.n_streams++;
        size.n_upload += step.received + step.n_new - step.resend_from;
        size.n_window += step.received + step.n_new - step.window_first;
        size.n_frames += step.n_frames;
    }
    melspec_status status = MELSPEC_OK;
    const void *values = NULL;
    if (size.n_frames > 0) {
        const melspec_backend_ops *ops = plan->ops;
        status = ops->stream_step_begin(plan, &size, !plan->stages.fixed_memory);
        if (status == MELSPEC_ERROR_EXCEEDS_PLAN) return status;
        for (int64_t i = 0; i < n_streams && status == MELSPEC_OK; i++) {
            if (n_frames[i] == 0) continue;
            make_step(streams[i], chunks[i], chunk_lengths[i], n_frames[i], &step);
            status = ops->stream_step_add(plan, &step);
        }
        if (status == MELSPEC_OK) status = ops->stream_step_run(plan, &values);
        if (status != MELSPEC_OK) {
            /* a ring may be half rewritten: refill each from the host buffer next time */
            for (int64_t i = 0; i < n_streams; i++) streams[i]->ring_valid = 0;
            return status;
        }
    }
    frame_sink sink = {streams, frames, n_frames, 0, 0, 0};
    const unsigned char *next = values;
    for (int64_t i = 0; i < n_streams; i++) {
        melspec_stream *s = streams[i];
        make_step(s, chunks[i], chunk_lengths[i], n_frames[i], &step);
        for (int64_t q = 0; q < step.n_frames; q++, next += plan->stages.stream_frame_bytes)
            sink_store(&sink, next);
        commit_step(s, &step, step.n_frames > 0);
    }
    return MELSPEC_OK;
}

/* The frame path for a call: frames gathered here, computed by stream_compute. The streams'
 * rings do not see these samples, so they are refilled at their next step. */
static melspec_status frame_call(melspec_stream *const *streams, int64_t n_streams,
                                 const float *const *chunks, const int64_t *chunk_lengths,
                                 const int64_t *n_frames, void *const *frames, int flushing)
{
    frame_sink sink = {streams, frames, n_frames, 0, 0, 0};
    for (int64_t i = 0; i < n_streams; i++) {
        melspec_stream *s = streams[i];
        s->ring_valid = 0;
        melspec_status status = MELSPEC_OK;
        if (!flushing) {
            status = run_push(s, chunks[i], chunk_lengths[i], n_frames[i], &sink);
        } else { /* the frames that read past the end, padded for the final length */
            const int64_t first = s->emitted;
            for (int64_t j = 0; j < n_frames[i] && status == MELSPEC_OK; j++)
                status = emit_frame(s, first + j, s->received, &sink);
        }
        if (status != MELSPEC_OK) return status;
    }
    return n_streams > 0 ? sink_compute(streams[0], &sink) : MELSPEC_OK;
}

/* A call's frames, by the ring path where the backend has one (falling back to the frame path
 * when a fixed-memory plan cannot hold the step). Flush calls give chunks of 0 samples. */
static melspec_status compute_call(melspec_plan *plan, melspec_stream *const *streams,
                                   int64_t n_streams, const float *const *chunks,
                                   const int64_t *chunk_lengths, const int64_t *n_frames,
                                   void *const *frames, int flushing)
{
    if (n_streams > 0 && streams[0]->ring != NULL) {
        const melspec_status status =
            ring_call(plan, streams, n_streams, chunks, chunk_lengths, n_frames, frames);
        if (status != MELSPEC_ERROR_EXCEEDS_PLAN || !plan->stages.fixed_memory) return status;
        plan->last_error[0] = '\0'; /* not this call's failure: the frame path takes it */
    }
    return frame_call(streams, n_streams, chunks, chunk_lengths, n_frames, frames, flushing);
}

/* ---- public API ------------------------------------------------------------------------------ */

void melspec_stream_destroy(melspec_stream *stream)
{
    if (stream == NULL) return;
    if (stream->ring != NULL) stream->plan->ops->stream_ring_destroy(stream->plan, stream->ring);
    const melspec_allocator *allocator = &stream->plan->allocator;
    melspec_free(allocator, stream->buffer);
    melspec_free(allocator, stream->pcen_state);
    melspec_free(allocator, stream->feature_values);
    melspec_free(allocator, stream->feature_frame);
    melspec_free(allocator, stream);
}

static melspec_status stream_create(melspec_stream **stream_out, melspec_plan *plan)
{
    const melspec_stages *stages = &plan->stages;
    if (stages->kind != MELSPEC_PLAN_KIND_SPECTRUM)
        return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                            "streaming is for mel, linear and STFT plans; a constant-Q plan does "
                            "not stream");
    if (stages->needs_clip_max)
        return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED,
                            "streaming with dB scaling relative to the clip's maximum (ref_mode = "
                            "MAX or a finite top_db): a stream cannot know the clip's maximum "
                            "before its end; use ref_mode = VALUE with a fixed ref and top_db = "
                            "INFINITY");
    if (plan->ops->stream_prepare == NULL || plan->ops->stream_compute == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_UNSUPPORTED, "the %s backend has no streaming",
                            plan->ops->name);

    melspec_status status = MELSPEC_OK;
    melspec_stream *s = melspec_alloc_zeroed(&plan->allocator, 1, sizeof *s);
    if (s == NULL) return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "stream");
    s->plan = plan;
    s->n_fft = stages->frames.n_fft;
    s->hop = stages->frames.hop;
    s->pad = stages->frames.pad;
    s->reflect_wait = s->pad > 0 && stages->frames.pad_mode == MELSPEC_PAD_REFLECT ? s->pad + 1 : 0;
    s->value_bytes = (int64_t)stages->value_bytes;
    s->frame_bytes = stages->n_bins * s->value_bytes;
    s->capacity = s->n_fft + s->hop;
    s->buffer = melspec_alloc(&plan->allocator, (size_t)s->capacity * sizeof *s->buffer);
    if (s->buffer == NULL) {
        status = melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "stream buffer of %lld floats",
                              (long long)s->capacity);
        goto fail;
    }
    if (stages->feature != MELSPEC_FEATURE_NONE) {
        s->pcen_state = melspec_alloc(&plan->allocator,
                                      (size_t)stages->spectrum_bins * sizeof *s->pcen_state);
        s->feature_values = melspec_alloc(&plan->allocator,
                                          (size_t)stages->n_bins * sizeof *s->feature_values);
        s->feature_frame = melspec_alloc(&plan->allocator, (size_t)s->frame_bytes);
        if (s->pcen_state == NULL || s->feature_values == NULL || s->feature_frame == NULL) {
            status = melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "stream feature state");
            goto fail;
        }
        melspec_feature_reset(stages, s->pcen_state);
    }
    const void *values = NULL;
    status = plan->ops->stream_prepare(plan, &s->staging, &values, &s->max_batch);
    if (status != MELSPEC_OK) goto fail;
    s->staged_values = values;
    if (plan->ops->stream_step_run != NULL) {
        status = plan->ops->stream_ring_create(plan, s->capacity, &s->ring);
        if (status != MELSPEC_OK) goto fail;
    }
    *stream_out = s;
    return MELSPEC_OK;

fail:
    melspec_stream_destroy(s);
    return status;
}

melspec_status melspec_stream_create(melspec_stream **stream_out, melspec_plan *plan)
{
    if (stream_out != NULL) *stream_out = NULL;
    if (plan == NULL) return MELSPEC_ERROR_NULL_POINTER;
    MELSPEC_ENTER_PLAN(plan);
    if (stream_out == NULL)
        return melspec_plan_leave(plan, melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER,
                                                     "stream (the out-parameter) is NULL"));
    return melspec_plan_leave(plan, stream_create(stream_out, plan));
}

melspec_status melspec_stream_reset(melspec_stream *stream)
{
    if (stream == NULL) return MELSPEC_ERROR_NULL_POINTER;
    MELSPEC_ENTER_PLAN(stream->plan);
    stream->origin = 0;
    stream->base = 0;
    stream->received = 0;
    stream->emitted = 0;
    stream->flushed = 0;
    stream->ring_valid = 0;
    if (stream->pcen_state != NULL) melspec_feature_reset(&stream->plan->stages, stream->pcen_state);
    return melspec_plan_leave(stream->plan, MELSPEC_OK);
}

melspec_status melspec_stream_frame_bytes(const melspec_stream *stream, size_t *n_bytes)
{
    if (stream == NULL || n_bytes == NULL) return MELSPEC_ERROR_NULL_POINTER;
    *n_bytes = (size_t)stream->frame_bytes;
    return MELSPEC_OK;
}

melspec_status melspec_stream_latency(const melspec_stream *stream, int64_t *n_samples)
{
    if (stream == NULL || n_samples == NULL) return MELSPEC_ERROR_NULL_POINTER;
    *n_samples = stream->n_fft - stream->pad;
    return MELSPEC_OK;
}

static melspec_status stream_push(melspec_stream *stream, const float *samples, int64_t n_samples,
                                  void *frames, size_t frames_bytes, int64_t *n_frames)
{
    melspec_plan *plan = stream->plan;
    int64_t needed = 0;
    melspec_status status = check_push(stream, samples, n_samples, frames, frames_bytes, &needed);
    if (status != MELSPEC_OK) return status;
    if (needed > frames_fitting(stream, frames_bytes)) {
        *n_frames = needed;
        return melspec_fail(plan, MELSPEC_ERROR_BUFFER_TOO_SMALL,
                            "%lld frame(s) of %lld bytes are ready but frames holds %zu bytes; "
                            "nothing was consumed",
                            (long long)needed, (long long)stream->frame_bytes, frames_bytes);
    }
    void *const outputs[1] = {frames};
    melspec_stream *const streams[1] = {stream};
    status = compute_call(plan, streams, 1, &samples, &n_samples, &needed, outputs, 0);
    if (status == MELSPEC_OK) *n_frames = needed;
    return status;
}

melspec_status melspec_stream_push(melspec_stream *stream, const float *samples,
                                   int64_t n_samples, void *frames, size_t frames_bytes,
                                   int64_t *n_frames)
{
    if (stream == NULL || n_frames == NULL) return MELSPEC_ERROR_NULL_POINTER;
    *n_frames = 0;
    MELSPEC_ENTER_PLAN(stream->plan);
    return melspec_plan_leave(stream->plan, stream_push(stream, samples, n_samples, frames,
                                                        frames_bytes, n_frames));
}

static melspec_status stream_flush(melspec_stream *stream, void *frames, size_t frames_bytes,
                                   int64_t *n_frames)
{
    melspec_status status = check_frames(stream, frames, frames_bytes);
    if (status != MELSPEC_OK || stream->flushed) return status;
    const int64_t needed = frames_total(stream) - stream->emitted;
    if (needed > frames_fitting(stream, frames_bytes)) {
        *n_frames = needed;
        return melspec_fail(stream->plan, MELSPEC_ERROR_BUFFER_TOO_SMALL,
                            "flush has %lld frame(s) of %lld bytes but frames holds %zu bytes; "
                            "nothing was consumed",
                            (long long)needed, (long long)stream->frame_bytes, frames_bytes);
    }
    void *const outputs[1] = {frames};
    melspec_stream *const streams[1] = {stream};
    const float *const no_samples[1] = {NULL};
    const int64_t no_length[1] = {0};
    status = compute_call(stream->plan, streams, 1, no_samples, no_length, &needed, outputs, 1);
    if (status != MELSPEC_OK) return status;
    stream->flushed = 1;
    stream->ring_valid = 0;
    *n_frames = needed;
    return MELSPEC_OK;
}

melspec_status melspec_stream_flush(melspec_stream *stream, void *frames, size_t frames_bytes,
                                    int64_t *n_frames)
{
    if (stream == NULL || n_frames == NULL) return MELSPEC_ERROR_NULL_POINTER;
    *n_frames = 0;
    MELSPEC_ENTER_PLAN(stream->plan);
    return melspec_plan_leave(stream->plan,
                              stream_flush(stream, frames, frames_bytes, n_frames));
}

static melspec_status push_many(melspec_plan *plan, melspec_stream *const *streams,
                                int64_t n_streams, const float *const *chunks,
                                const int64_t *chunk_lengths, void *const *frames,
                                const size_t *frames_bytes, int64_t *n_frames)
{
    if (n_streams < 0)
        return melspec_fail(plan, MELSPEC_ERROR_INVALID_ARGUMENT, "n_streams = %lld must be >= 0",
                            (long long)n_streams);
    if (chunks == NULL || chunk_lengths == NULL || frames == NULL || frames_bytes == NULL ||
        n_frames == NULL)
        return melspec_fail(plan, MELSPEC_ERROR_NULL_POINTER,
                            "chunks, chunk_lengths, frames, frames_bytes or n_frames is NULL");

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
                            frames_bytes[checked], &n_frames[checked]);
        if (status != MELSPEC_OK) {
            char detail[MELSPEC_MESSAGE_CAPACITY];
            memcpy(detail, plan->last_error, sizeof detail);
            melspec_fail(plan, status, "streams[%lld]: %s", (long long)checked, detail);
            checked++;
            break;
        }
        if (n_frames[checked] > frames_fitting(s, frames_bytes[checked])) too_small = 1;
    }
    for (int64_t i = 0; i < checked; i++) streams[i]->in_call = 0;
    if (status != MELSPEC_OK) {
        for (int64_t i = 0; i < n_streams; i++) n_frames[i] = 0;
        return status;
    }
    if (too_small) {
        for (int64_t i = 0; i < n_streams; i++)
            if (n_frames[i] > frames_fitting(streams[i], frames_bytes[i]))
                return melspec_fail(plan, MELSPEC_ERROR_BUFFER_TOO_SMALL,
                                    "streams[%lld] has %lld frame(s) ready but its buffer holds "
                                    "%zu bytes; no stream consumed anything (n_frames holds what "
                                    "each needs)",
                                    (long long)i, (long long)n_frames[i], frames_bytes[i]);
    }
    /* The backend computes the frames of all the streams together. */
    return compute_call(plan, streams, n_streams, chunks, chunk_lengths, n_frames, frames, 0);
}

melspec_status melspec_stream_push_many(melspec_stream *const *streams, int64_t n_streams,
                                        const float *const *chunks, const int64_t *chunk_lengths,
                                        void *const *frames, const size_t *frames_bytes,
                                        int64_t *n_frames)
{
    if (n_streams == 0) return MELSPEC_OK;
    if (streams == NULL || streams[0] == NULL) return MELSPEC_ERROR_NULL_POINTER;
    melspec_plan *plan = streams[0]->plan;
    MELSPEC_ENTER_PLAN(plan);
    return melspec_plan_leave(plan, push_many(plan, streams, n_streams, chunks, chunk_lengths,
                                              frames, frames_bytes, n_frames));
}
