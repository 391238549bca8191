/* Random configs and calls, valid and not, thousands of them: every call returns a status (with
 * a message on failure), never crashes, never writes past the stated capacity. Run under
 * ASan/UBSan by scripts/check-memory.sh (its valgrind pass skips it: minutes there). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

#define GUARD 64

/* Mostly plausible values, sometimes hostile ones. */
static int64_t random_size(uint64_t *rng, int64_t typical)
{
    switch (test_rand_next(rng) % 16) {
    case 0: return 0;
    case 1: return -(int64_t)(test_rand_next(rng) % 100);
    case 2: return INT64_MAX / (int64_t)(1 + test_rand_next(rng) % 4);
    case 3: return 1 + (int64_t)(test_rand_next(rng) % 4);
    default: return 1 + (int64_t)(test_rand_next(rng) % (uint64_t)(2 * typical));
    }
}

static double random_real(uint64_t *rng, double typical)
{
    switch (test_rand_next(rng) % 16) {
    case 0: return 0.0;
    case 1: return -typical;
    case 2: return NAN;
    case 3: return INFINITY;
    default: return typical * (0.5 + 0.5 * (1.0 + test_rand_uniform(rng)));
    }
}

static int32_t random_enum(uint64_t *rng, int32_t last)
{
    return test_rand_next(rng) % 10 == 0 ? (int32_t)(test_rand_next(rng) % 7) - 2
                                         : (int32_t)(test_rand_next(rng) % (uint64_t)(last + 1));
}

static void random_config(uint64_t *rng, melspec_config *c)
{
    melspec_config_init(c);
    c->backend = MELSPEC_BACKEND_CPU;
    c->transform = random_enum(rng, MELSPEC_TRANSFORM_STFT);
    c->sample_rate = random_real(rng, 16000.0);
    c->n_fft = random_size(rng, 512);
    c->hop_length = test_rand_next(rng) % 3 == 0 ? 0 : random_size(rng, 256);
    c->win_length = test_rand_next(rng) % 2 == 0 ? 0 : random_size(rng, 512);
    c->window = random_enum(rng, MELSPEC_WINDOW_RECTANGULAR);
    c->center = random_enum(rng, 1);
    c->pad_mode = random_enum(rng, MELSPEC_PAD_EDGE);
    c->mel_scale = random_enum(rng, MELSPEC_MEL_SCALE_HTK);
    c->mel_norm = random_enum(rng, MELSPEC_MEL_NORM_NONE);
    c->power = random_real(rng, 2.0);
    c->n_mels = random_size(rng, 40);
    c->fmin = test_rand_next(rng) % 2 == 0 ? 0.0 : random_real(rng, 200.0);
    c->fmax = test_rand_next(rng) % 2 == 0 ? 0.0 : random_real(rng, 6000.0);
    c->scaling = random_enum(rng, MELSPEC_SCALING_LOG);
    c->ref_mode = random_enum(rng, MELSPEC_REF_MAX);
    c->ref = random_real(rng, 1.0);
    c->amin = test_rand_next(rng) % 2 == 0 ? 0.0 : random_real(rng, 1e-10);
    c->top_db = test_rand_next(rng) % 3 == 0 ? INFINITY : random_real(rng, 80.0);
    c->layout = random_enum(rng, MELSPEC_LAYOUT_FRAMES_MAJOR);
    c->output_dtype = test_rand_next(rng) % 8 == 0 ? random_enum(rng, MELSPEC_DTYPE_BFLOAT16) : 0;
}

/* The same signal streamed in random chunks gives execute's frames (frame-major: byte for byte;
 * bins-major: the same count), or the stream is refused with a reason. */
static void check_stream_matches(melspec_plan *plan, const float *input, int64_t n_samples,
                                 const unsigned char *expected, size_t expected_bytes,
                                 uint64_t *rng)
{
    melspec_stream *stream = NULL;
    if (melspec_stream_create(&stream, plan) != MELSPEC_OK) {
        assert_null(stream);
        assert_true(melspec_plan_last_error(plan)[0] != '\0');
        return;
    }
    melspec_config c;
    assert_int_equal(melspec_plan_config(plan, &c), MELSPEC_OK);
    int64_t n_bins, n_frames;
    assert_int_equal(melspec_plan_output_shape(plan, n_samples, &n_bins, &n_frames), MELSPEC_OK);
    const size_t frame_bytes = expected_bytes / (size_t)n_frames;
    unsigned char *streamed = malloc(expected_bytes + GUARD);
    assert_non_null(streamed);
    memset(streamed, 0x5a, expected_bytes + GUARD);
    int64_t done = 0, total = 0;
    while (done <= n_samples) {
        const int final = done == n_samples;
        const int64_t chunk = final ? 0 : 1 + (int64_t)(test_rand_next(rng) % 700);
        const int64_t count = chunk < n_samples - done ? chunk : n_samples - done;
        int64_t got = 0;
        const int64_t room = n_frames - total;
        const melspec_status status =
            final ? melspec_stream_flush(stream, streamed + (size_t)total * frame_bytes, stream_frames_bytes(stream, room), &got)
                  : melspec_stream_push(stream, input + done, count,
                                        streamed + (size_t)total * frame_bytes, stream_frames_bytes(stream, room), &got);
        if (status != MELSPEC_OK)
            fail_msg("stream: %s: %s", melspec_status_name(status), melspec_plan_last_error(plan));
        total += got;
        assert_true(total <= n_frames);
        if (final) break;
        done += count;
    }
    assert_int_equal(total, n_frames);
    for (size_t i = expected_bytes; i < expected_bytes + GUARD; i++)
        assert_int_equal(streamed[i], 0x5a);
    if (c.layout == MELSPEC_LAYOUT_FRAMES_MAJOR)
        assert_memory_equal(streamed, expected, expected_bytes);
    free(streamed);
    melspec_stream_destroy(stream);
}

static void test_random_configs_and_calls(void **state)
{
    (void)state;
    /* MELSPEC_TEST_SEED reruns the search with another seed */
    const char *seed = getenv("MELSPEC_TEST_SEED");
    uint64_t rng = seed != NULL ? strtoull(seed, NULL, 10) : 20261121u;
    int created = 0, executed = 0;
    enum { MAX_SAMPLES = 3000 };
    float *input = malloc(2 * MAX_SAMPLES * sizeof *input);
    assert_non_null(input);
    make_test_signal(input, 2 * MAX_SAMPLES, 16000.0, 8);
    const int n_trials = 3000;
    for (int trial = 0; trial < n_trials; trial++) {
        melspec_config c;
        random_config(&rng, &c);
        if (c.n_fft > 4096) c.n_fft = test_rand_next(&rng) % 2 ? c.n_fft : 4096; /* keep it quick */
        char message[256];
        melspec_plan *plan = NULL;
        const melspec_status created_status = melspec_plan_create(&plan, &c, message, sizeof message);
        if (created_status != MELSPEC_OK) {
            assert_null(plan);
            assert_true(created_status < 0);
            assert_true(message[0] != '\0');
            continue;
        }
        created++;
        const int64_t n_signals = 1 + (int64_t)(test_rand_next(&rng) % 2);
        const int64_t n_samples = (int64_t)(test_rand_next(&rng) % (MAX_SAMPLES + 1));
        size_t n_bytes = 0;
        const melspec_status sized = melspec_plan_output_bytes(plan, n_signals, n_samples, &n_bytes);
        if (sized != MELSPEC_OK || n_bytes > (size_t)64 << 20) {
            if (sized != MELSPEC_OK) {
                /* the query is quiet; execute refuses the same call with a reason */
                float probe[4] = {0.25f, -0.5f, 0.125f, 1.0f};
                assert_int_equal(melspec_execute(plan, probe, n_signals, n_samples, probe, 0),
                                 sized);
                assert_true(melspec_plan_last_error(plan)[0] != '\0');
            }
            melspec_plan_destroy(plan);
            continue;
        }
        /* sometimes a buffer one value too small: refused, and nothing written at all */
        const int short_buffer = test_rand_next(&rng) % 5 == 0 && n_bytes >= 4;
        const size_t capacity = short_buffer ? n_bytes - 4 : n_bytes;
        unsigned char *out = malloc(n_bytes + GUARD);
        assert_non_null(out);
        memset(out, 0x5a, n_bytes + GUARD);
        const melspec_status status =
            melspec_execute(plan, input, n_signals, n_samples, out, capacity);
        if (short_buffer) {
            assert_int_equal(status, MELSPEC_ERROR_BUFFER_TOO_SMALL);
            for (size_t i = 0; i < n_bytes + GUARD; i++) assert_int_equal(out[i], 0x5a);
        } else {
            if (status != MELSPEC_OK)
                fail_msg("execute failed on a valid call: %s", melspec_plan_last_error(plan));
            executed++;
            for (size_t i = n_bytes; i < n_bytes + GUARD; i++) assert_int_equal(out[i], 0x5a);
            if (n_signals == 1) check_stream_matches(plan, input, n_samples, out, n_bytes, &rng);
        }
        free(out);
        melspec_plan_destroy(plan);
    }
    print_message("  %d plans created, %d executed, of %d random configs\n", created, executed,
                  n_trials);
    /* the generator still reaches valid configs */
    assert_true(created > n_trials / 15 && executed > n_trials / 20);
    free(input);
}

static void random_cqt_config(uint64_t *rng, melspec_cqt_config *c)
{
    melspec_cqt_config_init(c);
    c->backend = MELSPEC_BACKEND_CPU;
    c->output = random_enum(rng, MELSPEC_CQT_OUTPUT_MAGNITUDE);
    c->sample_rate = random_real(rng, 16000.0);
    c->hop_length = test_rand_next(rng) % 3 == 0 ? 0 : random_size(rng, 256);
    c->fmin = test_rand_next(rng) % 2 == 0 ? 0.0 : random_real(rng, 60.0);
    c->n_bins = random_size(rng, 48);
    c->bins_per_octave = test_rand_next(rng) % 2 == 0 ? 0 : random_size(rng, 24);
    c->filter_scale = test_rand_next(rng) % 2 == 0 ? 0.0 : random_real(rng, 1.0);
    c->norm = random_enum(rng, MELSPEC_CQT_NORM_NONE);
    c->window = random_enum(rng, MELSPEC_WINDOW_RECTANGULAR);
    c->sparsity = test_rand_next(rng) % 2 == 0 ? 0.01 : random_real(rng, 0.5);
    c->pad_mode = random_enum(rng, MELSPEC_PAD_EDGE);
    c->scaling = c->output == MELSPEC_CQT_OUTPUT_MAGNITUDE ? random_enum(rng, MELSPEC_SCALING_LOG)
                                                          : 0;
    c->layout = random_enum(rng, MELSPEC_LAYOUT_FRAMES_MAJOR);
    c->max_samples = 8000;
}

/* The same for constant-Q plans: creation validates, execute stays within its buffers. */
static void test_random_cqt_configs(void **state)
{
    (void)state;
    const char *seed = getenv("MELSPEC_TEST_SEED");
    uint64_t rng = seed != NULL ? strtoull(seed, NULL, 10) : 7u;
    enum { N = 6000 };
    float *input = malloc(N * sizeof *input);
    assert_non_null(input);
    make_test_signal(input, N, 16000.0, 9);
    int created = 0;
    const int n_trials = 400;
    for (int trial = 0; trial < n_trials; trial++) {
        melspec_cqt_config c;
        random_cqt_config(&rng, &c);
        char message[256];
        melspec_plan *plan = NULL;
        const melspec_status status = melspec_cqt_plan_create(&plan, &c, message, sizeof message);
        if (status != MELSPEC_OK) {
            assert_null(plan);
            assert_true(message[0] != '\0');
            continue;
        }
        created++;
        const int64_t n_samples = 1 + (int64_t)(test_rand_next(&rng) % N);
        size_t n_bytes = 0;
        if (melspec_plan_output_bytes(plan, 1, n_samples, &n_bytes) == MELSPEC_OK &&
            n_bytes < ((size_t)16 << 20)) {
            unsigned char *out = malloc(n_bytes + GUARD);
            assert_non_null(out);
            memset(out, 0x5a, n_bytes + GUARD);
            const melspec_status executed =
                melspec_execute(plan, input, 1, n_samples, out, n_bytes);
            if (executed != MELSPEC_OK)
                assert_true(melspec_plan_last_error(plan)[0] != '\0');
            for (size_t i = n_bytes; i < n_bytes + GUARD; i++) assert_int_equal(out[i], 0x5a);
            free(out);
        }
        melspec_plan_destroy(plan);
    }
    print_message("  %d constant-Q plans created of %d random configs\n", created, n_trials);
    assert_true(created > n_trials / 20);
    free(input);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_configs_and_calls),
        cmocka_unit_test(test_random_cqt_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
