/* The feature stage (issue 15): the MFCC basis against the DCT's orthonormality, streams equal to
 * the offline transform bit for bit (PCEN carries its smoother across chunks and calls), batches
 * equal their clips, and every bad feature field refused with a message naming it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsp/mfcc.h"
#include "test_support.h"

#define SAMPLE_RATE 16000.0
#define PI 3.14159265358979323846
#define N_SAMPLES 9000

/* ---- the basis ------------------------------------------------------------------------------ */

static double *basis(int dct_type, int ortho, int64_t n, int64_t n_mfcc, double lifter)
{
    double *b = malloc((size_t)(n_mfcc * n) * sizeof *b);
    assert_non_null(b);
    assert_int_equal(melspec_dsp_mfcc_basis(dct_type, ortho, n, n_mfcc, lifter, b), 0);
    return b;
}

/* An orthonormal DCT's full matrix B has B B^T = I. */
static void assert_orthonormal(const double *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            double dot = 0.0;
            for (int64_t k = 0; k < n; k++) dot += b[i * n + k] * b[j * n + k];
            assert_close(dot, i == j ? 1.0 : 0.0, 1e-12);
        }
}

static void test_ortho_bases_are_orthonormal(void **state)
{
    (void)state;
    static const int64_t sizes[] = {2, 3, 5, 26, 40, 128};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        const int64_t n = sizes[s];
        for (int type = 1; type <= 3; type++) {
            double *b = basis(type, 1, n, n, 0.0);
            assert_orthonormal(b, n);
            free(b);
        }
        /* type 3 is type 2's inverse, i.e. its transpose once orthonormal */
        double *b2 = basis(2, 1, n, n, 0.0), *b3 = basis(3, 1, n, n, 0.0);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < n; j++) assert_close(b3[i * n + j], b2[j * n + i], 1e-14);
        free(b2);
        free(b3);
    }
}

static void test_unnormalized_and_lifter(void **state)
{
    (void)state;
    const int64_t n = 40, n_mfcc = 13;
    const double n_double = 40.0;
    const double lifter = 22.0;
    double *ortho = basis(2, 1, n, n_mfcc, 0.0), *plain = basis(2, 0, n, n_mfcc, 0.0);
    double *lifted = basis(2, 0, n, n_mfcc, lifter);
    for (int64_t k = 0; k < n_mfcc; k++) {
        /* scipy's "ortho" scales row 0 by sqrt(1/(4N)), the others by sqrt(1/(2N)) */
        const double scale = k == 0 ? sqrt(1.0 / (4.0 * n_double)) : sqrt(1.0 / (2.0 * n_double));
        const double lift = 1.0 + lifter / 2.0 * sin(PI * (double)(k + 1) / lifter);
        for (int64_t m = 0; m < n; m++) {
            assert_close(ortho[k * n + m], plain[k * n + m] * scale, 1e-14);
            assert_close(lifted[k * n + m], plain[k * n + m] * lift, 1e-12);
        }
    }
    /* the unnormalized type 2 of a constant row is 2N in coefficient 0 and 0 elsewhere */
    for (int64_t k = 0; k < n_mfcc; k++) {
        double sum = 0.0;
        for (int64_t m = 0; m < n; m++) sum += plain[k * n + m];
        assert_close(sum, k == 0 ? 2.0 * n_double : 0.0, 1e-10);
    }
    free(ortho);
    free(plain);
    free(lifted);
    double b[4];
    assert_int_equal(melspec_dsp_mfcc_basis(1, 1, 1, 1, 0.0, b), -1); /* type 1 needs N >= 2 */
    assert_int_equal(melspec_dsp_mfcc_basis(2, 1, 2, 3, 0.0, b), -1); /* n_mfcc > N */
    assert_int_equal(melspec_dsp_mfcc_basis(4, 1, 2, 2, 0.0, b), -1);
    assert_int_equal(melspec_dsp_mfcc_basis(2, 1, 2, 2, -1.0, b), -1);
}

/* ---- plans and streams ---------------------------------------------------------------------- */

typedef struct feature_case {
    const char *name;
    int32_t transform, feature, dtype, pad_mode, scaling;
    int64_t n_fft, hop, n_mels, n_mfcc, max_size;
    int32_t dct_type, dct_norm;
    double lifter, pcen_power, pcen_bias, gain;
} feature_case;

static const feature_case cases[] = {
    {"mfcc dB", MELSPEC_TRANSFORM_MEL, MELSPEC_FEATURE_MFCC, MELSPEC_DTYPE_FLOAT32,
     MELSPEC_PAD_CONSTANT, MELSPEC_SCALING_POWER_TO_DB, 400, 160, 40, 13, 1, 2,
     MELSPEC_DCT_NORM_ORTHO, 22.0, 0.5, 2.0, 0.98},
    {"mfcc dct1 float16 reflect", MELSPEC_TRANSFORM_MEL, MELSPEC_FEATURE_MFCC,
     MELSPEC_DTYPE_FLOAT16, MELSPEC_PAD_REFLECT, MELSPEC_SCALING_POWER_TO_DB, 512, 128, 64, 64,
     1, 1, MELSPEC_DCT_NORM_NONE, 0.0, 0.5, 2.0, 0.98},
    {"mfcc dct3 of log", MELSPEC_TRANSFORM_MEL, MELSPEC_FEATURE_MFCC, MELSPEC_DTYPE_FLOAT32,
     MELSPEC_PAD_EDGE, MELSPEC_SCALING_LOG, 300, 77, 30, 20, 1, 3, MELSPEC_DCT_NORM_ORTHO, 3.5,
     0.5, 2.0, 0.98},
    {"pcen mel", MELSPEC_TRANSFORM_MEL, MELSPEC_FEATURE_PCEN, MELSPEC_DTYPE_FLOAT32,
     MELSPEC_PAD_CONSTANT, MELSPEC_SCALING_NONE, 400, 160, 40, 20, 1, 2, MELSPEC_DCT_NORM_ORTHO,
     0.0, 0.5, 2.0, 0.98},
    {"pcen linear max 3 bfloat16", MELSPEC_TRANSFORM_LINEAR, MELSPEC_FEATURE_PCEN,
     MELSPEC_DTYPE_BFLOAT16, MELSPEC_PAD_REFLECT, MELSPEC_SCALING_NONE, 256, 100, 0, 20, 3, 2,
     MELSPEC_DCT_NORM_ORTHO, 0.0, 0.25, 10.0, 0.8},
    {"pcen log1p no bias max 4", MELSPEC_TRANSFORM_MEL, MELSPEC_FEATURE_PCEN,
     MELSPEC_DTYPE_FLOAT32, MELSPEC_PAD_EDGE, MELSPEC_SCALING_NONE, 401, 99, 32, 20, 4, 2,
     MELSPEC_DCT_NORM_ORTHO, 0.0, 0.0, 0.0, 0.5},
};

static melspec_config case_config(const feature_case *c)
{
    melspec_config config;
    melspec_config_init(&config);
    config.backend = MELSPEC_BACKEND_CPU;
    config.sample_rate = SAMPLE_RATE;
    config.transform = c->transform;
    config.n_fft = c->n_fft;
    config.hop_length = c->hop;
    if (c->n_mels > 0) config.n_mels = c->n_mels;
    config.pad_mode = c->pad_mode;
    config.scaling = c->scaling;
    config.top_db = INFINITY; /* streams need it */
    config.output_dtype = c->dtype;
    config.layout = MELSPEC_LAYOUT_FRAMES_MAJOR; /* streamed frames concatenate */
    config.feature = c->feature;
    config.n_mfcc = c->n_mfcc;
    config.mfcc_dct_type = c->dct_type;
    config.mfcc_norm = c->dct_norm;
    config.mfcc_lifter = c->lifter;
    config.pcen_power = c->pcen_power;
    config.pcen_bias = c->pcen_bias;
    config.pcen_gain = c->gain;
    config.pcen_max_size = c->max_size;
    config.pcen_time_constant = 0.06; /* a short memory, so the state matters within the test */
    return config;
}

static melspec_plan *plan_for(const melspec_config *config)
{
    melspec_plan *plan = NULL;
    char message[512];
    if (melspec_plan_create(&plan, config, message, sizeof message) != MELSPEC_OK)
        fail_msg("plan_create: %s", message);
    return plan;
}

/* One signal's offline output; *n_bytes receives its size. */
static unsigned char *offline(melspec_plan *plan, const float *x, int64_t n_signals, int64_t n,
                              size_t *n_bytes)
{
    PLAN_OK(plan, melspec_plan_output_bytes(plan, n_signals, n, n_bytes));
    unsigned char *out = malloc(*n_bytes);
    assert_non_null(out);
    PLAN_OK(plan, melspec_execute(plan, x, n_signals, n, out, *n_bytes));
    return out;
}

/* Streams x through stream in pseudo-random chunks; returns the concatenated frames' bytes. */
static unsigned char *streamed(melspec_plan *plan, melspec_stream *stream, const float *x,
                               int64_t n, uint64_t seed, size_t *n_bytes)
{
    size_t frame_bytes = 0;
    PLAN_OK(plan, melspec_stream_frame_bytes(stream, &frame_bytes));
    const size_t capacity = frame_bytes * (size_t)(n + 16);
    unsigned char *out = malloc(capacity);
    assert_non_null(out);
    size_t used = 0;
    uint64_t rng = seed;
    for (int64_t at = 0; at < n;) {
        int64_t chunk = 1 + (int64_t)(test_rand_next(&rng) % 700);
        if (chunk > n - at) chunk = n - at;
        int64_t got = 0;
        PLAN_OK(plan, melspec_stream_push(stream, x + at, chunk, out + used, capacity - used, &got));
        used += (size_t)got * frame_bytes;
        at += chunk;
    }
    int64_t got = 0;
    PLAN_OK(plan, melspec_stream_flush(stream, out + used, capacity - used, &got));
    used += (size_t)got * frame_bytes;
    *n_bytes = used;
    return out;
}

static void test_streams_equal_offline_bit_for_bit(void **state)
{
    (void)state;
    float *x = malloc(N_SAMPLES * sizeof *x);
    assert_non_null(x);
    make_test_signal(x, N_SAMPLES, SAMPLE_RATE, 15);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const melspec_config config = case_config(&cases[i]);
        melspec_plan *plan = plan_for(&config);
        size_t want_bytes = 0, got_bytes = 0;
        unsigned char *want = offline(plan, x, 1, N_SAMPLES, &want_bytes);
        melspec_stream *stream = NULL;
        PLAN_OK(plan, melspec_stream_create(&stream, plan));
        for (uint64_t seed = 1; seed <= 3; seed++) {
            unsigned char *got = streamed(plan, stream, x, N_SAMPLES, seed, &got_bytes);
            assert_int_equal(got_bytes, want_bytes);
            if (memcmp(got, want, want_bytes) != 0)
                fail_msg("%s: streamed frames differ from offline (seed %llu)", cases[i].name,
                         (unsigned long long)seed);
            free(got);
            /* reset starts the next signal from librosa's initial PCEN state again */
            PLAN_OK(plan, melspec_stream_reset(stream));
        }
        printf("  %-30s %zu bytes streamed = offline\n", cases[i].name, want_bytes);
        melspec_stream_destroy(stream);
        free(want);
        melspec_plan_destroy(plan);
    }
    free(x);
}

/* Two streams through push_many, interleaved: each keeps its own smoother. */
static void test_push_many_keeps_each_streams_state(void **state)
{
    (void)state;
    enum { N = 4000, CHUNK = 321 };
    float *x = malloc(2 * N * sizeof *x);
    assert_non_null(x);
    make_test_signal(x, N, SAMPLE_RATE, 3);
    make_test_signal(x + N, N, SAMPLE_RATE, 4);
    melspec_config config = case_config(&cases[3]);
    melspec_plan *plan = plan_for(&config);
    size_t want_bytes[2];
    unsigned char *want[2] = {offline(plan, x, 1, N, &want_bytes[0]),
                              offline(plan, x + N, 1, N, &want_bytes[1])};
    melspec_stream *streams[2] = {NULL, NULL};
    PLAN_OK(plan, melspec_stream_create(&streams[0], plan));
    PLAN_OK(plan, melspec_stream_create(&streams[1], plan));
    size_t frame_bytes = 0;
    PLAN_OK(plan, melspec_stream_frame_bytes(streams[0], &frame_bytes));
    unsigned char *got[2] = {malloc(want_bytes[0] + frame_bytes * 8),
                             malloc(want_bytes[1] + frame_bytes * 8)};
    size_t used[2] = {0, 0};
    for (int64_t at = 0; at < N; at += CHUNK) {
        const int64_t k = at + CHUNK <= N ? CHUNK : N - at;
        const float *chunks[2] = {x + at, x + N + at};
        const int64_t lengths[2] = {k, k};
        void *frames[2] = {got[0] + used[0], got[1] + used[1]};
        const size_t bytes[2] = {want_bytes[0] + frame_bytes * 8 - used[0],
                                 want_bytes[1] + frame_bytes * 8 - used[1]};
        int64_t n_frames[2] = {0, 0};
        PLAN_OK(plan, melspec_stream_push_many(streams, 2, chunks, lengths, frames, bytes,
                                               n_frames));
        for (int s = 0; s < 2; s++) used[s] += (size_t)n_frames[s] * frame_bytes;
    }
    for (int s = 0; s < 2; s++) {
        int64_t n_frames = 0;
        PLAN_OK(plan, melspec_stream_flush(streams[s], got[s] + used[s],
                                           want_bytes[s] + frame_bytes * 8 - used[s], &n_frames));
        used[s] += (size_t)n_frames * frame_bytes;
        assert_int_equal(used[s], want_bytes[s]);
        assert_memory_equal(got[s], want[s], want_bytes[s]);
        melspec_stream_destroy(streams[s]);
        free(got[s]);
        free(want[s]);
    }
    melspec_plan_destroy(plan);
    free(x);
}

/* Each clip of a batch starts from the initial state: the batch equals its clips one by one. */
static void test_batch_equals_clips(void **state)
{
    (void)state;
    enum { N = 3000, CLIPS = 3 };
    float *x = malloc(CLIPS * N * sizeof *x);
    assert_non_null(x);
    for (int b = 0; b < CLIPS; b++) make_test_signal(x + b * N, N, SAMPLE_RATE, 20 + (uint64_t)b);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        melspec_config config = case_config(&cases[i]);
        config.layout = MELSPEC_LAYOUT_BINS_MAJOR;
        config.top_db = 80.0; /* per clip, offline */
        melspec_plan *plan = plan_for(&config);
        size_t batch_bytes = 0, clip_bytes = 0;
        unsigned char *batch = offline(plan, x, CLIPS, N, &batch_bytes);
        for (int b = 0; b < CLIPS; b++) {
            unsigned char *clip = offline(plan, x + b * N, 1, N, &clip_bytes);
            assert_int_equal(clip_bytes * CLIPS, batch_bytes);
            assert_memory_equal(batch + (size_t)b * clip_bytes, clip, clip_bytes);
            free(clip);
        }
        free(batch);
        melspec_plan_destroy(plan);
    }
    free(x);
}

/* ---- the config ----------------------------------------------------------------------------- */

static void expect_refused(const melspec_config *config, const char *field)
{
    melspec_plan *plan = NULL;
    char message[512] = "";
    const melspec_status status = melspec_plan_create(&plan, config, message, sizeof message);
    assert_null(plan);
    if (status != MELSPEC_ERROR_INVALID_ARGUMENT || strstr(message, field) == NULL)
        fail_msg("expected INVALID_ARGUMENT naming %s, got %s: %s", field,
                 melspec_status_name(status), message);
}

static void test_bad_fields_are_refused(void **state)
{
    (void)state;
    melspec_config base;
    melspec_config_init(&base);
    base.backend = MELSPEC_BACKEND_CPU;
    base.scaling = MELSPEC_SCALING_POWER_TO_DB;
    base.feature = MELSPEC_FEATURE_MFCC;
    melspec_config c = base;
#define REFUSED(field_, value_, name_) \
    do {                               \
        c = base;                      \
        c.field_ = value_;             \
        expect_refused(&c, name_);     \
    } while (0)
    REFUSED(feature, 3, "feature");
    REFUSED(feature, -1, "feature");
    REFUSED(mfcc_dct_type, 0, "mfcc_dct_type");
    REFUSED(mfcc_dct_type, 4, "mfcc_dct_type");
    REFUSED(mfcc_norm, 2, "mfcc_norm");
    REFUSED(n_mfcc, 0, "n_mfcc");
    REFUSED(n_mfcc, 129, "n_mfcc"); /* more than the 128 mels */
    REFUSED(mfcc_lifter, -1.0, "mfcc_lifter");
    REFUSED(mfcc_lifter, NAN, "mfcc_lifter");
    REFUSED(mfcc_lifter, 1e-310, "mfcc_lifter"); /* sin(pi k / lifter): NaN (fuzz_plan) */
    base.feature = MELSPEC_FEATURE_PCEN;
    base.scaling = MELSPEC_SCALING_NONE;
    REFUSED(transform, MELSPEC_TRANSFORM_STFT, "feature");
    REFUSED(scaling, MELSPEC_SCALING_POWER_TO_DB, "scaling");
    REFUSED(pcen_gain, -0.1, "pcen_gain");
    REFUSED(pcen_bias, -1.0, "pcen_bias");
    REFUSED(pcen_power, -0.5, "pcen_power");
    REFUSED(pcen_power, INFINITY, "pcen_power");
    REFUSED(pcen_eps, 0.0, "pcen_eps");
    REFUSED(pcen_max_size, 0, "pcen_max_size");
    REFUSED(pcen_b, 1.5, "pcen_b");
    REFUSED(pcen_b, NAN, "pcen_b");
    REFUSED(pcen_time_constant, 0.0, "pcen_time_constant");
#undef REFUSED
    /* a linear plan of n_fft 1 has one bin: DCT type 1 needs two */
    c = base;
    c.feature = MELSPEC_FEATURE_MFCC;
    c.transform = MELSPEC_TRANSFORM_LINEAR;
    c.n_fft = 1;
    c.hop_length = 1;
    c.n_mfcc = 1;
    c.mfcc_dct_type = 1;
    expect_refused(&c, "mfcc_dct_type");
}

static void test_plan_queries(void **state)
{
    (void)state;
    melspec_config config;
    melspec_config_init(&config);
    config.feature = MELSPEC_FEATURE_PCEN;
    melspec_plan *plan = plan_for(&config);
    melspec_config resolved;
    PLAN_OK(plan, melspec_plan_config(plan, &resolved));
    /* librosa's b for 0.4 s at 22050 Hz and hop 512 */
    const double t = 0.4 * 22050.0 / 512.0;
    assert_close(resolved.pcen_b, (sqrt(1.0 + 4.0 * t * t) - 1.0) / (2.0 * t * t), 1e-15);
    int64_t n_bins = 0, n_frames = 0;
    PLAN_OK(plan, melspec_plan_output_shape(plan, 22050, &n_bins, &n_frames));
    assert_int_equal(n_bins, 128);
    melspec_plan_destroy(plan);

    config.feature = MELSPEC_FEATURE_MFCC;
    config.scaling = MELSPEC_SCALING_POWER_TO_DB; /* top_db 80 against the clip: offline only */
    plan = plan_for(&config);
    PLAN_OK(plan, melspec_plan_output_shape(plan, 22050, &n_bins, &n_frames));
    assert_int_equal(n_bins, 20);
    size_t frame_bytes = 0;
    PLAN_OK(plan, melspec_plan_frame_bytes(plan, &frame_bytes));
    assert_int_equal(frame_bytes, 20 * sizeof(float));
    melspec_stream *stream = NULL;
    assert_int_equal(melspec_stream_create(&stream, plan), MELSPEC_ERROR_UNSUPPORTED);
    assert_non_null(strstr(melspec_plan_last_error(plan), "top_db"));
    melspec_plan_destroy(plan);

    /* an older caller's struct ends before `feature`: its plan has no feature stage */
    melspec_config old;
    melspec_config_init(&old);
    old.backend = MELSPEC_BACKEND_CPU;
    old.struct_size = (uint32_t)offsetof(melspec_config, feature);
    old.feature = MELSPEC_FEATURE_MFCC; /* past its size: never read */
    plan = plan_for(&old);
    PLAN_OK(plan, melspec_plan_output_shape(plan, 22050, &n_bins, &n_frames));
    assert_int_equal(n_bins, 128);
    melspec_plan_destroy(plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ortho_bases_are_orthonormal),
        cmocka_unit_test(test_unnormalized_and_lifter),
        cmocka_unit_test(test_streams_equal_offline_bit_for_bit),
        cmocka_unit_test(test_push_many_keeps_each_streams_state),
        cmocka_unit_test(test_batch_equals_clips),
        cmocka_unit_test(test_bad_fields_are_refused),
        cmocka_unit_test(test_plan_queries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
