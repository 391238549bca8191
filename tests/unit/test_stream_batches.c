/* The streams' batched paths in every build: a fake backend that wraps the CPU backend's ops
 * but takes at most 3 frames per stream_compute, so that a call's frames cross batch boundaries
 * inside a stream and between the streams of one melspec_stream_push_many. The frames must still
 * concatenate, bit for bit, to melspec_execute of each whole signal. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "melspec.h"
#include "dsp/framing.h"
#include "plan.h"
#include "test_support.h"

#define FAKE_BATCH 3

static int64_t n_computes; /* stream_compute calls, to prove the batches happened */

static melspec_status fake_prepare(melspec_plan *plan, float **raw_frames, const void **values,
                                   int64_t *max_frames)
{
    const melspec_status status = melspec_cpu_ops.stream_prepare(plan, raw_frames, values,
                                                                 max_frames);
    if (status == MELSPEC_OK && *max_frames > FAKE_BATCH) *max_frames = FAKE_BATCH;
    return status;
}

static melspec_status fake_compute(melspec_plan *plan, int64_t n_frames)
{
    if (n_frames < 1 || n_frames > FAKE_BATCH)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL, "batch of %lld frames",
                            (long long)n_frames);
    n_computes++;
    return melspec_cpu_ops.stream_compute(plan, n_frames);
}

/* ---- a fake ring backend: the ring ops of src/plan.h on the host, doing what the CUDA backend
 * does on the device (kernels/stream.cu: windows from ring + uploaded samples, frames padded by
 * melspec_frame_sample, rings rewritten to keep_from..), its frames computed by the CPU backend's
 * stream_compute, so that the streams must still equal execute bit for bit. It can refuse steps
 * (a small fixed-memory capacity: the front end must take the frame path) and fail a step after
 * scribbling NaN over its rings (the front end must resend what the rings held). */

static float *cpu_raw;               /* the CPU backend's staging, from stream_prepare */
static const unsigned char *cpu_values;
static int64_t cpu_max_frames;
static int64_t ring_capacity;        /* what stream_ring_create was asked for */
static int64_t n_ring_steps;         /* steps run */
static int64_t fail_step;            /* the step (1-based) that fails, 0: none */
static int64_t step_frame_limit;     /* begin refuses more frames without may_grow, 0: no limit */
static int64_t n_refused;            /* steps refused (EXCEEDS_PLAN) */
static int64_t n_resent;             /* samples given again (resend) */
static float *rings[64];
static int n_rings;

static melspec_stream_step fake_steps[64];
static float *fake_uploads[64];      /* each step's samples resend_from .. received + n_new */
static int64_t n_fake_steps;
static unsigned char *fake_values;   /* the step's values, frame after frame */
static size_t fake_values_capacity;

static melspec_status ring_prepare(melspec_plan *plan, float **raw_frames, const void **values,
                                   int64_t *max_frames)
{
    const melspec_status status = melspec_cpu_ops.stream_prepare(plan, raw_frames, values,
                                                                 max_frames);
    cpu_raw = *raw_frames;
    cpu_values = *values;
    cpu_max_frames = *max_frames;
    if (status == MELSPEC_OK && *max_frames > FAKE_BATCH) *max_frames = FAKE_BATCH;
    return status; /* the frame path (fixed-memory fallback) takes batches of 3 too */
}

static melspec_status ring_create(melspec_plan *plan, int64_t capacity, void **ring)
{
    (void)plan;
    assert_true(n_rings < 64);
    ring_capacity = capacity;
    float *r = malloc((size_t)capacity * sizeof *r);
    assert_non_null(r);
    for (int64_t i = 0; i < capacity; i++) r[i] = NAN; /* never-written samples show as NaN */
    rings[n_rings++] = r;
    *ring = r;
    return MELSPEC_OK;
}

static void ring_destroy(melspec_plan *plan, void *ring)
{
    (void)plan;
    for (int i = 0; i < n_rings; i++)
        if (rings[i] == ring) rings[i] = rings[--n_rings];
    free(ring);
}

static melspec_status ring_begin(melspec_plan *plan, const melspec_stream_step_size *size,
                                 int may_grow)
{
    if (!may_grow && step_frame_limit > 0 && size->n_frames > step_frame_limit) {
        n_refused++;
        return melspec_fail(plan, MELSPEC_ERROR_EXCEEDS_PLAN, "fake: %lld frames",
                            (long long)size->n_frames);
    }
    assert_true(size->n_frames >= 1 && size->n_streams >= 1 && size->n_streams <= 64);
    n_fake_steps = 0;
    return MELSPEC_OK;
}

static melspec_status ring_add(melspec_plan *plan, const melspec_stream_step *step)
{
    (void)plan;
    assert_true(n_fake_steps < 64);
    assert_true(step->n_frames >= 1);
    assert_true(step->ring_first <= step->window_first || step->resend_from == step->window_first);
    const int64_t n_resend = step->received - step->resend_from;
    const int64_t n_upload = n_resend + step->n_new;
    assert_true(n_resend >= 0);
    float *upload = malloc((size_t)(n_upload + 1) * sizeof *upload);
    assert_non_null(upload);
    if (n_resend > 0) memcpy(upload, step->resend, (size_t)n_resend * sizeof *upload);
    if (step->n_new > 0) memcpy(upload + n_resend, step->chunk, (size_t)step->n_new * sizeof *upload);
    n_resent += n_resend;
    fake_steps[n_fake_steps] = *step;
    fake_uploads[n_fake_steps++] = upload;
    return MELSPEC_OK;
}

static melspec_status ring_run(melspec_plan *plan, const void **values)
{
    n_ring_steps++;
    const melspec_frame_geometry *g = &plan->stages.frames;
    const size_t frame_bytes = (size_t)plan->stages.n_bins * plan->stages.value_bytes;
    melspec_status status = MELSPEC_OK;
    if (n_ring_steps == fail_step) {
        for (int64_t j = 0; j < n_fake_steps; j++) /* a half-done step on a device */
            for (int64_t i = 0; i < ring_capacity; i++) ((float *)fake_steps[j].ring)[i] = NAN;
        status = melspec_fail(plan, MELSPEC_ERROR_DEVICE, "fake: step %lld fails",
                              (long long)n_ring_steps);
    }
    size_t n_out = 0;
    for (int64_t j = 0; j < n_fake_steps && status == MELSPEC_OK; j++) {
        const melspec_stream_step *st = &fake_steps[j];
        const int64_t n_window = st->n_signal - st->window_first;
        float *window = malloc((size_t)(n_window + 1) * sizeof *window);
        assert_non_null(window);
        const float *ring = st->ring;
        for (int64_t k = 0; k < n_window; k++) {
            const int64_t t = st->window_first + k;
            window[k] = t < st->resend_from ? ring[t - st->ring_first]
                                            : fake_uploads[j][t - st->resend_from];
        }
        for (int64_t q = 0; q < st->n_frames;) {
            const int64_t batch = st->n_frames - q < cpu_max_frames ? st->n_frames - q
                                                                     : cpu_max_frames;
            for (int64_t b = 0; b < batch; b++)
                for (int64_t i = 0; i < g->n_fft; i++)
                    cpu_raw[b * g->n_fft + i] =
                        melspec_frame_sample(g->n_fft, g->hop, g->pad, g->pad_mode, window,
                                             st->window_first, st->n_signal,
                                             st->first_frame + q + b, i);
            status = melspec_cpu_ops.stream_compute(plan, batch);
            assert_int_equal(status, MELSPEC_OK);
            const size_t bytes = (size_t)batch * frame_bytes;
            if (n_out + bytes > fake_values_capacity) {
                fake_values_capacity = 2 * (n_out + bytes);
                fake_values = realloc(fake_values, fake_values_capacity);
                assert_non_null(fake_values);
            }
            memcpy(fake_values + n_out, cpu_values, bytes);
            n_out += bytes;
            q += batch;
        }
        const int64_t kept = st->n_signal - st->keep_from;
        assert_true(kept <= ring_capacity && st->keep_from >= st->window_first);
        if (kept > 0)
            memcpy(st->ring, window + (st->keep_from - st->window_first),
                   (size_t)kept * sizeof *window);
        free(window);
    }
    for (int64_t j = 0; j < n_fake_steps; j++) free(fake_uploads[j]);
    n_fake_steps = 0;
    *values = fake_values;
    return status;
}

static melspec_backend_ops fake_ops;

enum fake_kind { FAKE_BATCHES, FAKE_RINGS };

/* A CPU plan whose streams go through the fake backend. */
static melspec_plan *make_fake_plan(const melspec_config *c, enum fake_kind kind)
{
    fake_ops = melspec_cpu_ops;
    fake_ops.name = "fake (3 frames per batch)";
    fake_ops.stream_prepare = fake_prepare;
    fake_ops.stream_compute = fake_compute;
    if (kind == FAKE_RINGS) {
        fake_ops.name = "fake (rings)";
        fake_ops.stream_prepare = ring_prepare;
        fake_ops.stream_ring_create = ring_create;
        fake_ops.stream_ring_destroy = ring_destroy;
        fake_ops.stream_step_begin = ring_begin;
        fake_ops.stream_step_add = ring_add;
        fake_ops.stream_step_run = ring_run;
    }
    melspec_plan *plan = NULL;
    char why[256];
    if (melspec_plan_create(&plan, c, why, sizeof why) != MELSPEC_OK) fail_msg("plan: %s", why);
    plan->ops = &fake_ops;
    return plan;
}

#define N_STREAMS 5

static void check_config_kind(melspec_config c, uint64_t seed, enum fake_kind kind)
{
    c.backend = MELSPEC_BACKEND_CPU;
    melspec_plan *plan = make_fake_plan(&c, kind);
    int64_t lengths[N_STREAMS] = {1, 399, 2000, 4801, 7000};
    float *signals[N_STREAMS];
    unsigned char *expected[N_STREAMS], *streamed[N_STREAMS];
    size_t expected_bytes[N_STREAMS], frame_bytes;
    int64_t emitted[N_STREAMS] = {0}, offsets[N_STREAMS] = {0};
    melspec_stream *streams[N_STREAMS];
    PLAN_OK(plan, melspec_plan_frame_bytes(plan, &frame_bytes));
    for (int i = 0; i < N_STREAMS; i++) {
        if (!c.center && lengths[i] < c.n_fft) lengths[i] = c.n_fft; /* a frame at least */
        signals[i] = malloc((size_t)lengths[i] * sizeof(float));
        assert_non_null(signals[i]);
        make_test_signal(signals[i], lengths[i], c.sample_rate, seed + (uint64_t)i);
        PLAN_OK(plan, melspec_plan_output_bytes(plan, 1, lengths[i], &expected_bytes[i]));
        expected[i] = malloc(expected_bytes[i]);
        streamed[i] = calloc(1, expected_bytes[i]);
        assert_true(expected[i] != NULL && streamed[i] != NULL);
        /* frames-major, so that each stream's frames land one after another */
        PLAN_OK(plan, melspec_execute(plan, signals[i], 1, lengths[i], expected[i],
                                      expected_bytes[i]));
        PLAN_OK(plan, melspec_stream_create(&streams[i], plan));
    }
    n_computes = 0;
    uint64_t rng = seed;
    for (int round = 0; round < 200; round++) {
        const float *chunks[N_STREAMS];
        int64_t sizes[N_STREAMS], counts[N_STREAMS];
        void *outs[N_STREAMS];
        size_t room[N_STREAMS];
        for (int i = 0; i < N_STREAMS; i++) {
            int64_t size = (int64_t)(test_rand_next(&rng) % 900);
            if (size > lengths[i] - offsets[i]) size = lengths[i] - offsets[i];
            sizes[i] = size;
            chunks[i] = signals[i] + offsets[i];
            outs[i] = streamed[i] + (size_t)emitted[i] * frame_bytes;
            room[i] = expected_bytes[i] - (size_t)emitted[i] * frame_bytes;
        }
        if (kind == FAKE_RINGS && round % 9 == 4) {
            /* this call's step fails: nothing may change, and the same call then succeeds */
            fail_step = n_ring_steps + 1;
            const melspec_status failed =
                melspec_stream_push_many(streams, N_STREAMS, chunks, sizes, outs, room, counts);
            if (n_ring_steps == fail_step) assert_int_equal(failed, MELSPEC_ERROR_DEVICE);
            else assert_int_equal(failed, MELSPEC_OK); /* no frame final: no step to fail */
            fail_step = 0;
            if (failed == MELSPEC_OK) {
                for (int i = 0; i < N_STREAMS; i++) {
                    offsets[i] += sizes[i];
                    emitted[i] += counts[i];
                }
                continue;
            }
        }
        PLAN_OK(plan, melspec_stream_push_many(streams, N_STREAMS, chunks, sizes, outs, room,
                                               counts));
        for (int i = 0; i < N_STREAMS; i++) {
            offsets[i] += sizes[i];
            emitted[i] += counts[i];
        }
    }
    for (int i = 0; i < N_STREAMS; i++) {
        assert_int_equal(offsets[i], lengths[i]);
        int64_t got = 0;
        PLAN_OK(plan, melspec_stream_flush(streams[i], streamed[i] + (size_t)emitted[i] * frame_bytes,
                                           expected_bytes[i] - (size_t)emitted[i] * frame_bytes,
                                           &got));
        emitted[i] += got;
        assert_int_equal((size_t)emitted[i] * frame_bytes, expected_bytes[i]);
        assert_memory_equal(streamed[i], expected[i], expected_bytes[i]);
        melspec_stream_destroy(streams[i]);
        free(signals[i]);
        free(expected[i]);
        free(streamed[i]);
    }
    if (kind == FAKE_BATCHES) assert_true(n_computes > 0);
    melspec_plan_destroy(plan);
}

static void check_config(melspec_config c, uint64_t seed)
{
    check_config_kind(c, seed, FAKE_BATCHES);
    n_ring_steps = n_refused = n_resent = 0;
    check_config_kind(c, seed, FAKE_RINGS);
    assert_true(n_ring_steps > 0);
    assert_true(n_resent > 0); /* the failed steps' rings were refilled from the host */
    assert_int_equal(n_refused, 0);
    /* a fixed-memory plan whose steps hold 2 frames: larger calls take the frame path */
    c.fixed_memory = 1;
    n_ring_steps = n_refused = 0;
    step_frame_limit = 2;
    n_computes = 0;
    check_config_kind(c, seed + 100, FAKE_RINGS);
    step_frame_limit = 0;
    assert_true(n_refused > 0);
    assert_true(n_ring_steps > 0);
}

static void test_batches_of_three_equal_execute(void **state)
{
    (void)state;
    melspec_config c;
    melspec_config_init(&c);
    c.sample_rate = 16000;
    c.n_fft = 400;
    c.hop_length = 160;
    c.n_mels = 40;
    c.layout = MELSPEC_LAYOUT_FRAMES_MAJOR;
    check_config(c, 1);
    c.pad_mode = MELSPEC_PAD_REFLECT;
    c.scaling = MELSPEC_SCALING_LOG;
    c.output_dtype = MELSPEC_DTYPE_FLOAT16;
    check_config(c, 2);
    c.transform = MELSPEC_TRANSFORM_STFT;
    c.scaling = MELSPEC_SCALING_NONE;
    c.output_dtype = MELSPEC_DTYPE_FLOAT32;
    c.center = 0;
    check_config(c, 3);
    c.transform = MELSPEC_TRANSFORM_LINEAR;
    c.center = 1;
    c.pad_mode = MELSPEC_PAD_EDGE;
    c.scaling = MELSPEC_SCALING_POWER_TO_DB;
    c.top_db = INFINITY;
    c.output_dtype = MELSPEC_DTYPE_BFLOAT16;
    check_config(c, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_of_three_equal_execute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
