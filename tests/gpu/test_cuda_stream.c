/*
 * Streams on the CUDA backend against streams on the CPU backend (the reference), chunk by chunk,
 * and many streams in one melspec_stream_push_many call; exits 77 (skipped) where no CUDA device
 * exists.
 *
 * Accuracy (compare.h): normalized max error (max |gpu - cpu| / max |cpu| over a whole streamed
 * clip) within 1e-6 for linear outputs (times the power for power > 1, as tests/gpu/test_cuda.c),
 * and within 1e-5 for log outputs compared in the linear domain (exp(v)), which adds the float32
 * rounding of the stored logarithm; dB outputs are compared in dB, each value within what that
 * 1e-5 allows at its depth below the clip's peak (clip_error). Each push writes into a buffer
 * poisoned with NaN bytes and followed by a guard region: the call must write exactly its frames
 * and nothing after them.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "melspec.h"
#include "melspec_cuda.h"
#include "test_support.h"

#define GUARD_BYTES 64
#define POISON 0xFF /* all-ones bytes: NaN in float32 and float16 */

typedef struct stream_case {
    int64_t n_fft, hop;
    int transform, layout, center, pad_mode;
    double power;
    int scaling;
} stream_case;

static melspec_plan *make_plan(const stream_case *p, melspec_backend backend, int dtype)
{
    melspec_config c;
    melspec_config_init(&c);
    c.backend = backend;
    c.sample_rate = 16000.0;
    c.n_fft = p->n_fft;
    c.hop_length = p->hop;
    c.transform = p->transform;
    c.layout = p->layout;
    c.center = p->center;
    c.pad_mode = p->pad_mode;
    c.power = p->power;
    c.n_mels = p->n_fft >= 256 ? 40 : 8;
    c.fmin = 30.0;
    c.scaling = p->scaling;
    c.top_db = INFINITY;
    c.output_dtype = dtype;
    melspec_plan *plan = NULL;
    char why[256];
    if (melspec_plan_create(&plan, &c, why, sizeof why) != MELSPEC_OK)
        fail_msg("plan_create (%s): %s", backend == MELSPEC_BACKEND_CUDA ? "CUDA" : "CPU", why);
    return plan;
}

static int64_t value_bytes(const stream_case *p, int dtype)
{
    if (p->transform == MELSPEC_TRANSFORM_STFT) return 8;
    return dtype == MELSPEC_DTYPE_FLOAT32 ? 4 : 2;
}

static int64_t bins_of(const stream_case *p)
{
    return p->transform == MELSPEC_TRANSFORM_MEL ? (p->n_fft >= 256 ? 40 : 8) : 1 + p->n_fft / 2;
}

/* A streamed clip, assembled in the plan's layout, as bytes. */
typedef struct clip {
    unsigned char *bytes;
    int64_t n_frames, capacity_frames;
} clip;

/* Places k frames (the layout for a clip of k) at frames first.. of a clip of total frames. */
static void place(const stream_case *p, int64_t vb, const unsigned char *chunk, int64_t k,
                  int64_t first, int64_t total, unsigned char *out)
{
    const int64_t n_bins = bins_of(p);
    if (p->layout == MELSPEC_LAYOUT_FRAMES_MAJOR) {
        memcpy(out + first * n_bins * vb, chunk, (size_t)(k * n_bins * vb));
        return;
    }
    for (int64_t b = 0; b < n_bins; b++)
        memcpy(out + (b * total + first) * vb, chunk + b * k * vb, (size_t)(k * vb));
}

/* Checks that a call wrote its frames and nothing after them. */
static void check_guard(const unsigned char *buffer, size_t written, size_t size)
{
    for (size_t i = written; i < size; i++)
        if (buffer[i] != POISON) fail_msg("byte %zu after %zu written was overwritten", i, written);
}

/* One push or flush into a poisoned buffer with room for `room` frames; returns the count. */
static int64_t call_stream(melspec_plan *plan, melspec_stream *stream, const float *x, int64_t n,
                           int flush, int64_t room, int64_t frame_bytes, unsigned char *scratch)
{
    const size_t size = (size_t)(room * frame_bytes) + GUARD_BYTES;
    memset(scratch, POISON, size);
    int64_t got = -1;
    if (flush)
        PLAN_OK(plan, melspec_stream_flush(stream, scratch, stream_frames_bytes(stream, room), &got));
    else
        PLAN_OK(plan, melspec_stream_push(stream, x, n, scratch, stream_frames_bytes(stream, room), &got));
    check_guard(scratch, (size_t)(got * frame_bytes), size);
    return got;
}

static double tolerance(const stream_case *p)
{
    if (p->scaling != MELSPEC_SCALING_NONE) return 1e-5;
    return 1e-6 * (p->power > 1.0 ? p->power : 1.0);
}

/* dB: the float32 rounding of the dB values themselves, which the linear-domain tolerance does
 * not cover (an ulp of a value near 100 dB is 7.6e-6 dB; log10f rounds by a few 1e-6 dB) */
#define DB_TOLERANCE 2e-5

/* A clip's error against the reference b, to hold to tolerance(p), with compare.h's
 * definitions: n values decoded as float32 (STFT pairs as two floats each, as test_cuda.c);
 * dB outputs in dB (compare_decibels: element-wise within what the linear tolerance allows at
 * each value's depth below the peak, and the peaks the same; make_plan's top_db is INFINITY, as
 * a stream cannot know a clip's maximum, so there is no floor to check), the error being the
 * worst fraction of the allowance times the tolerance, or infinity when the peaks disagree; log
 * outputs as exp(v); the rest by normalized error. NaN or a mismatched infinity makes it
 * infinite. */
static double clip_error(const stream_case *p, const float *a, const float *b, int64_t n)
{
    const double factor = p->scaling == MELSPEC_SCALING_POWER_TO_DB       ? 10.0
                          : p->scaling == MELSPEC_SCALING_AMPLITUDE_TO_DB ? 20.0
                                                                          : 0.0;
    if (factor > 0.0) {
        const compare_db_result r = compare_decibels(a, b, (size_t)n, 1, factor, INFINITY,
                                                     tolerance(p), DB_TOLERANCE);
        const double error = compare_decibels_error(&r, tolerance(p));
        if (isinf(error)) {
            char text[256];
            printf("    dB: %s\n", compare_decibels_describe(&r, text, sizeof text));
        }
        return error;
    }
    if (p->scaling == MELSPEC_SCALING_LOG) return compare_logs(a, b, (size_t)n).normalized_error;
    return compare_floats(a, b, (size_t)n).normalized_error;
}


/* Streams the same signal through a CPU and a CUDA stream with the same random chunks; every
 * push must give the same number of frames, and the clips must agree. */
static void check_case(const stream_case *p, uint64_t seed)
{
    melspec_plan *cpu = make_plan(p, MELSPEC_BACKEND_CPU, MELSPEC_DTYPE_FLOAT32);
    melspec_plan *gpu = make_plan(p, MELSPEC_BACKEND_CUDA, MELSPEC_DTYPE_FLOAT32);
    melspec_stream *cpu_stream = NULL, *gpu_stream = NULL;
    PLAN_OK(cpu, melspec_stream_create(&cpu_stream, cpu));
    PLAN_OK(gpu, melspec_stream_create(&gpu_stream, gpu));

    const int64_t n = 3000 + (int64_t)(seed % 517);
    float *x = malloc((size_t)n * sizeof *x);
    assert_non_null(x);
    make_test_signal(x, n, 16000.0, seed);
    int64_t bins, total;
    PLAN_OK(cpu, melspec_plan_output_shape(cpu, n, &bins, &total));
    const int64_t vb = value_bytes(p, MELSPEC_DTYPE_FLOAT32), frame_bytes = bins * vb;
    unsigned char *cpu_clip = malloc((size_t)(total * frame_bytes));
    unsigned char *gpu_clip = malloc((size_t)(total * frame_bytes));
    unsigned char *scratch = malloc((size_t)((total + 1) * frame_bytes) + GUARD_BYTES);
    assert_non_null(cpu_clip);
    assert_non_null(gpu_clip);
    assert_non_null(scratch);

    uint64_t rng = seed * 2654435761u + 1;
    int64_t offset = 0, emitted = 0;
    for (int last = 0; !last;) {
        int64_t size = (int64_t)(test_rand_next(&rng) % (uint64_t)(2 * p->n_fft + p->hop));
        if (test_rand_next(&rng) % 5 == 0) size = 0;
        if (size >= n - offset) size = n - offset;
        last = offset == n;
        const int64_t room = total - emitted;
        const int64_t a = call_stream(cpu, cpu_stream, x + offset, size, last, room, frame_bytes,
                                      scratch);
        place(p, vb, scratch, a, emitted, total, cpu_clip);
        const int64_t b = call_stream(gpu, gpu_stream, x + offset, size, last, room, frame_bytes,
                                      scratch);
        assert_int_equal(a, b);
        place(p, vb, scratch, b, emitted, total, gpu_clip);
        emitted += a;
        offset += size;
    }
    assert_int_equal(emitted, total);
    const int64_t n_floats = total * frame_bytes / 4;
    const double error =
        clip_error(p, (const float *)gpu_clip, (const float *)cpu_clip, n_floats);
    printf("  n_fft %4lld hop %3lld transform %d layout %d center %d pad %d power %g scaling %d: "
           "%lld frames, error %.3g\n",
           (long long)p->n_fft, (long long)p->hop, p->transform, p->layout, p->center,
           p->pad_mode, p->power, p->scaling, (long long)total, error);
    if (!(error <= tolerance(p))) fail_msg("error %.3g above %.3g", error, tolerance(p));

    /* The GPU stream also agrees with the GPU's own offline execute. */
    size_t bytes;
    PLAN_OK(gpu, melspec_plan_output_bytes(gpu, 1, n, &bytes));
    PLAN_OK(gpu, melspec_execute(gpu, x, 1, n, scratch, bytes));
    const double offline_error =
        clip_error(p, (const float *)gpu_clip, (const float *)scratch, n_floats);
    if (!(offline_error <= tolerance(p)))
        fail_msg("GPU stream against GPU execute: error %.3g above %.3g", offline_error,
                 tolerance(p));

    free(scratch);
    free(gpu_clip);
    free(cpu_clip);
    free(x);
    melspec_stream_destroy(gpu_stream);
    melspec_stream_destroy(cpu_stream);
    melspec_plan_destroy(gpu);
    melspec_plan_destroy(cpu);
}

static void test_gpu_stream_matches_cpu_stream(void **state)
{
    (void)state;
    enum { MEL = MELSPEC_TRANSFORM_MEL, LIN = MELSPEC_TRANSFORM_LINEAR,
           STFT = MELSPEC_TRANSFORM_STFT, BINS = MELSPEC_LAYOUT_BINS_MAJOR,
           FRAMES = MELSPEC_LAYOUT_FRAMES_MAJOR, CONST = MELSPEC_PAD_CONSTANT,
           REFL = MELSPEC_PAD_REFLECT, EDGE = MELSPEC_PAD_EDGE };
    static const stream_case cases[] = {
        {800, 200, MEL, FRAMES, 1, CONST, 1.0, MELSPEC_SCALING_NONE}, /* the real-time config */
        {400, 160, MEL, BINS, 1, REFL, 2.0, MELSPEC_SCALING_LOG},
        {512, 128, MEL, BINS, 1, REFL, 2.0, MELSPEC_SCALING_POWER_TO_DB},
        {255, 100, LIN, FRAMES, 1, EDGE, 1.0, MELSPEC_SCALING_AMPLITUDE_TO_DB},
        {257, 64, LIN, BINS, 0, CONST, 2.0, MELSPEC_SCALING_NONE},
        {64, 17, STFT, BINS, 1, REFL, 1.0, MELSPEC_SCALING_NONE},
        {61, 30, STFT, FRAMES, 0, CONST, 1.0, MELSPEC_SCALING_NONE},
        {128, 200, MEL, FRAMES, 1, EDGE, 1.5, MELSPEC_SCALING_NONE}, /* hop > n_fft */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i], 11 + i);
}

/* More streams than one device batch holds, each with its own chunk lengths, in one call per
 * round; each stream's clip against a CPU stream of the same signal. */
static void test_many_streams_in_one_call(void **state)
{
    (void)state;
    enum { N_STREAMS = 300, N = 2400, ROUNDS = 12 };
    const stream_case p = {400, 160, MELSPEC_TRANSFORM_MEL, MELSPEC_LAYOUT_FRAMES_MAJOR, 1,
                           MELSPEC_PAD_REFLECT, 2.0, MELSPEC_SCALING_NONE};
    melspec_plan *cpu = make_plan(&p, MELSPEC_BACKEND_CPU, MELSPEC_DTYPE_FLOAT32);
    melspec_plan *gpu = make_plan(&p, MELSPEC_BACKEND_CUDA, MELSPEC_DTYPE_FLOAT32);
    const int64_t bins = bins_of(&p), total = 1 + N / 160;
    float *signals = malloc((size_t)N_STREAMS * N * sizeof *signals);
    float *gpu_out = malloc((size_t)N_STREAMS * (size_t)(total * bins) * sizeof *gpu_out);
    float *cpu_out = malloc((size_t)(total * bins) * sizeof *cpu_out);
    assert_non_null(signals);
    assert_non_null(gpu_out);
    assert_non_null(cpu_out);
    melspec_stream *streams[N_STREAMS];
    const float *chunks[N_STREAMS];
    int64_t lengths[N_STREAMS], counts[N_STREAMS];
    size_t capacities[N_STREAMS];
    int64_t offsets[N_STREAMS], emitted[N_STREAMS];
    void *outs[N_STREAMS];
    for (int i = 0; i < N_STREAMS; i++) {
        make_test_signal(signals + (size_t)i * N, N, 16000.0, 100 + (uint64_t)i);
        PLAN_OK(gpu, melspec_stream_create(&streams[i], gpu));
        offsets[i] = emitted[i] = 0;
    }
    uint64_t rng = 7;
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < N_STREAMS; i++) {
            int64_t size = (int64_t)(test_rand_next(&rng) % 500);
            if (round == ROUNDS - 1 || size > N - offsets[i]) size = N - offsets[i];
            lengths[i] = size;
            chunks[i] = signals + (size_t)i * N + offsets[i];
            outs[i] = gpu_out + ((size_t)i * (size_t)total + (size_t)emitted[i]) * (size_t)bins;
            capacities[i] = stream_frames_bytes(streams[i], total - emitted[i]);
        }
        if (round == 3) {
            /* One stream short of room: nobody consumes anything. */
            const size_t saved = capacities[17];
            capacities[17] = 0;
            lengths[17] = N - offsets[17];
            const melspec_status status = melspec_stream_push_many(streams, N_STREAMS, chunks, lengths,
                                                               outs, capacities, counts);
            assert_int_equal(status, MELSPEC_ERROR_BUFFER_TOO_SMALL);
            assert_true(counts[17] > 0);
            capacities[17] = saved;
        }
        PLAN_OK(gpu, melspec_stream_push_many(streams, N_STREAMS, chunks, lengths, outs, capacities,
                                          counts));
        for (int i = 0; i < N_STREAMS; i++) {
            offsets[i] += lengths[i];
            emitted[i] += counts[i];
        }
    }
    double worst = 0.0;
    for (int i = 0; i < N_STREAMS; i++) {
        int64_t got = 0;
        float *out = gpu_out + ((size_t)i * (size_t)total + (size_t)emitted[i]) * (size_t)bins;
        PLAN_OK(gpu, melspec_stream_flush(streams[i], out, stream_frames_bytes(streams[i], total - emitted[i]), &got));
        emitted[i] += got;
        assert_int_equal(emitted[i], total);

        melspec_stream *reference = NULL;
        PLAN_OK(cpu, melspec_stream_create(&reference, cpu));
        int64_t a = 0, b = 0;
        PLAN_OK(cpu, melspec_stream_push(reference, signals + (size_t)i * N, N, cpu_out, stream_frames_bytes(reference, total),
                                         &a));
        PLAN_OK(cpu, melspec_stream_flush(reference, cpu_out + a * bins, stream_frames_bytes(reference, total - a), &b));
        assert_int_equal(a + b, total);
        melspec_stream_destroy(reference);
        const double error =
            clip_error(&p, gpu_out + (size_t)i * (size_t)(total * bins), cpu_out, total * bins);
        if (!(error <= worst)) worst = error;
        melspec_stream_destroy(streams[i]);
    }
    printf("  %d streams, %d calls: worst error %.3g\n", N_STREAMS, ROUNDS, worst);
    if (!(worst <= tolerance(&p))) fail_msg("error %.3g above %.3g", worst, tolerance(&p));
    free(cpu_out);
    free(gpu_out);
    free(signals);
    melspec_plan_destroy(gpu);
    melspec_plan_destroy(cpu);
}

/* float16 output: the stream's values are the float32 stream's, rounded. */
static void test_float16_stream(void **state)
{
    (void)state;
    const stream_case p = {512, 128, MELSPEC_TRANSFORM_MEL, MELSPEC_LAYOUT_BINS_MAJOR, 1,
                           MELSPEC_PAD_CONSTANT, 2.0, MELSPEC_SCALING_LOG};
    melspec_plan *wide = make_plan(&p, MELSPEC_BACKEND_CUDA, MELSPEC_DTYPE_FLOAT32);
    melspec_plan *half = make_plan(&p, MELSPEC_BACKEND_CUDA, MELSPEC_DTYPE_FLOAT16);
    melspec_stream *a = NULL, *b = NULL;
    PLAN_OK(wide, melspec_stream_create(&a, wide));
    PLAN_OK(half, melspec_stream_create(&b, half));
    enum { N = 4000 };
    static float x[N];
    make_test_signal(x, N, 16000.0, 3);
    const int64_t bins = bins_of(&p), total = 1 + N / 128;
    static float w[(1 + N / 128) * 40];
    static uint16_t h[(1 + N / 128) * 40];
    int64_t n1 = 0, n2 = 0, t1 = 0, t2 = 0;
    PLAN_OK(wide, melspec_stream_push(a, x, N, w, stream_frames_bytes(a, total), &n1));
    PLAN_OK(half, melspec_stream_push(b, x, N, h, stream_frames_bytes(b, total), &n2));
    assert_int_equal(n1, n2);
    PLAN_OK(wide, melspec_stream_flush(a, w + n1 * bins, stream_frames_bytes(a, total - n1), &t1));
    PLAN_OK(half, melspec_stream_flush(b, h + n2 * bins, stream_frames_bytes(b, total - n2), &t2));
    assert_int_equal(t1, t2);
    for (int64_t i = 0; i < n1 * bins; i++) {
        /* decode float16 (normal numbers and zero suffice for log mel values) */
        const int exponent = (h[i] >> 10) & 0x1f;
        const double mantissa = (double)(h[i] & 0x3ff) / 1024.0;
        double v = exponent == 0 ? ldexp(mantissa, -14) : ldexp(1.0 + mantissa, exponent - 15);
        if (h[i] & 0x8000) v = -v;
        const double ulp = ldexp(1.0, (exponent == 0 ? -14 : exponent - 15) - 10);
        if (!(fabs(v - w[i]) <= 0.5 * ulp + 1e-6 * fabs(w[i])))
            fail_msg("value %lld: float16 %g, float32 %g", (long long)i, v, (double)w[i]);
    }
    melspec_stream_destroy(b);
    melspec_stream_destroy(a);
    melspec_plan_destroy(half);
    melspec_plan_destroy(wide);
}

static void test_refused_scaling_on_gpu(void **state)
{
    (void)state;
    melspec_config c;
    melspec_config_init(&c);
    c.backend = MELSPEC_BACKEND_CUDA;
    c.n_fft = 256;
    c.n_mels = 16;
    c.scaling = MELSPEC_SCALING_POWER_TO_DB; /* top_db 80: needs the clip's maximum */
    melspec_plan *plan = NULL;
    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_OK);
    melspec_stream *stream = NULL;
    assert_int_equal(melspec_stream_create(&stream, plan), MELSPEC_ERROR_UNSUPPORTED);
    assert_null(stream);
    melspec_plan_destroy(plan);
}

int main(void)
{
    if (melspec_cuda_device_count() < 1) {
        printf("no CUDA device: skipped\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpu_stream_matches_cpu_stream),
        cmocka_unit_test(test_many_streams_in_one_call),
        cmocka_unit_test(test_float16_stream),
        cmocka_unit_test(test_refused_scaling_on_gpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
