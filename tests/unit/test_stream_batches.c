/* The streams' batched paths in every build: a fake backend that wraps the CPU backend's ops
 * but takes at most 3 frames per stream_compute, so that a call's frames cross batch boundaries
 * inside a stream and between the streams of one melspec_stream_push_many. The frames must still
 * concatenate, bit for bit, to melspec_execute of each whole signal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "melspec.h"
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

static melspec_backend_ops fake_ops;

/* A CPU plan whose streams go through the fake backend. */
static melspec_plan *make_fake_plan(const melspec_config *c)
{
    fake_ops = melspec_cpu_ops;
    fake_ops.name = "fake (3 frames per batch)";
    fake_ops.stream_prepare = fake_prepare;
    fake_ops.stream_compute = fake_compute;
    melspec_plan *plan = NULL;
    char why[256];
    if (melspec_plan_create(&plan, c, why, sizeof why) != MELSPEC_OK) fail_msg("plan: %s", why);
    plan->ops = &fake_ops;
    return plan;
}

#define N_STREAMS 5

static void check_config(melspec_config c, uint64_t seed)
{
    c.backend = MELSPEC_BACKEND_CPU;
    melspec_plan *plan = make_fake_plan(&c);
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
    assert_true(n_computes > 0);
    melspec_plan_destroy(plan);
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
