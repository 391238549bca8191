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
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cuda_runtime_api.h>
#include <time.h>

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

/* ---- the device rings (issue 12c): chunk patterns, reset, lengths, fallback, stream switch ---- */

#define CUDA_OK(call)                                                                      \
    do {                                                                                   \
        const cudaError_t error_ = (call);                                                 \
        if (error_ != cudaSuccess) fail_msg("%s: %s", #call, cudaGetErrorName(error_));    \
    } while (0)

/* Chunk sizes: 0 and 1 alternating, odd (7), the hop, larger than n_fft (3 n_fft + 1), and
 * random ones including 0. */
enum chunk_pattern { ZERO_ONE, ODD, HOP, LARGE, RANDOM, N_PATTERNS };

static int64_t next_chunk(enum chunk_pattern pattern, const stream_case *p, int64_t call,
                          uint64_t *rng)
{
    switch (pattern) {
    case ZERO_ONE: return call % 2;
    case ODD: return 7;
    case HOP: return p->hop;
    case LARGE: return 3 * p->n_fft + 1;
    default:
        return test_rand_next(rng) % 3 == 0 ? 0
                                            : (int64_t)(test_rand_next(rng) % (uint64_t)(2 * p->n_fft));
    }
}

/* Streams x through a CPU and a CUDA stream with the same chunks (same frame counts at every
 * call), then flushes; returns the GPU's error against the CPU over the whole clip. */
static double stream_both(const stream_case *p, melspec_plan *cpu, melspec_plan *gpu,
                          melspec_stream *cs, melspec_stream *gs, const float *x, int64_t n,
                          enum chunk_pattern pattern, uint64_t seed)
{
    int64_t bins, total;
    PLAN_OK(cpu, melspec_plan_output_shape(cpu, n, &bins, &total));
    const int64_t vb = value_bytes(p, MELSPEC_DTYPE_FLOAT32), frame_bytes = bins * vb;
    const size_t clip_bytes = (size_t)((total > 0 ? total : 1) * frame_bytes);
    unsigned char *cpu_clip = malloc(clip_bytes), *gpu_clip = malloc(clip_bytes);
    unsigned char *scratch = malloc(clip_bytes + (size_t)frame_bytes + GUARD_BYTES);
    assert_true(cpu_clip != NULL && gpu_clip != NULL && scratch != NULL);
    uint64_t rng = seed;
    int64_t offset = 0, emitted = 0;
    for (int64_t call = 0, last = 0; !last; call++) {
        int64_t size = next_chunk(pattern, p, call, &rng);
        if (size >= n - offset) size = n - offset;
        last = offset == n;
        const int64_t room = total - emitted;
        const int64_t a = call_stream(cpu, cs, x + offset, size, (int)last, room, frame_bytes,
                                      scratch);
        place(p, vb, scratch, a, emitted, total, cpu_clip);
        const int64_t b = call_stream(gpu, gs, x + offset, size, (int)last, room, frame_bytes,
                                      scratch);
        assert_int_equal(a, b);
        place(p, vb, scratch, b, emitted, total, gpu_clip);
        emitted += a;
        offset += size;
    }
    assert_int_equal(emitted, total);
    const double error = total > 0 ? clip_error(p, (const float *)gpu_clip,
                                                (const float *)cpu_clip, total * frame_bytes / 4)
                                   : 0.0;
    free(scratch);
    free(gpu_clip);
    free(cpu_clip);
    return error;
}

/* Every padding mode, centred and not, through every chunk pattern; each stream is then reset and
 * reused for a short signal (shorter than the pad: reflect repeats) and a long one. */
static void test_device_rings_chunk_patterns(void **state)
{
    (void)state;
    enum { MEL = MELSPEC_TRANSFORM_MEL, LIN = MELSPEC_TRANSFORM_LINEAR,
           FRAMES = MELSPEC_LAYOUT_FRAMES_MAJOR, BINS = MELSPEC_LAYOUT_BINS_MAJOR };
    static const stream_case cases[] = {
        {800, 200, MEL, FRAMES, 1, MELSPEC_PAD_CONSTANT, 1.0, MELSPEC_SCALING_NONE},
        {400, 160, MEL, BINS, 1, MELSPEC_PAD_REFLECT, 2.0, MELSPEC_SCALING_NONE},
        {255, 100, LIN, FRAMES, 1, MELSPEC_PAD_EDGE, 1.0, MELSPEC_SCALING_NONE},
        {256, 64, LIN, BINS, 0, MELSPEC_PAD_CONSTANT, 2.0, MELSPEC_SCALING_NONE},
        {128, 200, MEL, FRAMES, 1, MELSPEC_PAD_REFLECT, 1.0, MELSPEC_SCALING_NONE},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const stream_case *p = &cases[c];
        melspec_plan *cpu = make_plan(p, MELSPEC_BACKEND_CPU, MELSPEC_DTYPE_FLOAT32);
        melspec_plan *gpu = make_plan(p, MELSPEC_BACKEND_CUDA, MELSPEC_DTYPE_FLOAT32);
        melspec_stream *cs = NULL, *gs = NULL;
        PLAN_OK(cpu, melspec_stream_create(&cs, cpu));
        PLAN_OK(gpu, melspec_stream_create(&gs, gpu));
        enum { N = 1700 };
        static float x[N];
        double worst = 0.0;
        for (int pattern = 0; pattern < N_PATTERNS; pattern++) {
            make_test_signal(x, N, 16000.0, 40 + (uint64_t)(c * N_PATTERNS) + (uint64_t)pattern);
            /* a short signal (a third of the pad, or one n_fft uncentred) after a reset, then
             * the whole one after another reset: the rings must forget the previous signal */
            const int64_t short_n = p->center ? p->n_fft / 6 + 1 : p->n_fft;
            const int64_t lengths[2] = {short_n, N};
            for (int k = 0; k < 2; k++) {
                PLAN_OK(cpu, melspec_stream_reset(cs));
                PLAN_OK(gpu, melspec_stream_reset(gs));
                const double error = stream_both(p, cpu, gpu, cs, gs, x, lengths[k],
                                                 (enum chunk_pattern)pattern, 5 + (uint64_t)k);
                if (!(error <= worst)) worst = error;
            }
        }
        printf("  rings: n_fft %4lld hop %3lld center %d pad %d: worst error %.3g over %d "
               "chunk patterns\n",
               (long long)p->n_fft, (long long)p->hop, p->center, p->pad_mode, worst,
               N_PATTERNS);
        if (!(worst <= tolerance(p))) fail_msg("error %.3g above %.3g", worst, tolerance(p));
        melspec_stream_destroy(gs);
        melspec_stream_destroy(cs);
        melspec_plan_destroy(gpu);
        melspec_plan_destroy(cpu);
    }
}

/* Streams of different lengths (1 sample to 5000) in one call per round, one hop each (as the
 * benchmark's multi-stream case does) or a random chunk; streams that have ended push 0 samples.
 * fixed_memory = 1 with more streams than the step's first capacity takes the frame path, which
 * must agree too. Each stream against a CPU stream of its signal. */
static void check_streams_of_different_lengths(int fixed_memory, int n_streams)
{
    const stream_case p = {800, 200, MELSPEC_TRANSFORM_MEL, MELSPEC_LAYOUT_FRAMES_MAJOR, 1,
                           MELSPEC_PAD_REFLECT, 1.0, MELSPEC_SCALING_NONE};
    melspec_plan *cpu = make_plan(&p, MELSPEC_BACKEND_CPU, MELSPEC_DTYPE_FLOAT32);
    melspec_config c;
    melspec_config_init(&c);
    PLAN_OK(cpu, melspec_plan_config(cpu, &c));
    c.backend = MELSPEC_BACKEND_CUDA;
    c.fixed_memory = fixed_memory;
    melspec_plan *gpu = NULL;
    char why[256];
    if (melspec_plan_create(&gpu, &c, why, sizeof why) != MELSPEC_OK) fail_msg("plan: %s", why);
    const int64_t bins = bins_of(&p);
    enum { MAX_N = 5000 };
    melspec_stream **streams = calloc((size_t)n_streams, sizeof *streams);
    float *signals = malloc((size_t)n_streams * MAX_N * sizeof *signals);
    float *out = malloc((size_t)n_streams * (1 + MAX_N / 200) * (size_t)bins * sizeof *out);
    float *ref = malloc((size_t)(1 + MAX_N / 200) * (size_t)bins * sizeof *ref);
    const float **chunks = calloc((size_t)n_streams, sizeof *chunks);
    void **outs = calloc((size_t)n_streams, sizeof *outs);
    size_t *rooms = calloc((size_t)n_streams, sizeof *rooms);
    int64_t *lengths = calloc((size_t)n_streams, sizeof *lengths);
    int64_t *sizes = calloc((size_t)n_streams, sizeof *sizes);
    int64_t *counts = calloc((size_t)n_streams, sizeof *counts);
    int64_t *offsets = calloc((size_t)n_streams, sizeof *offsets);
    int64_t *emitted = calloc((size_t)n_streams, sizeof *emitted);
    assert_true(streams && signals && out && ref && chunks && outs && rooms && lengths && sizes &&
                counts && offsets && emitted);
    const int64_t per_stream = (1 + MAX_N / 200) * bins;
    uint64_t rng = 99;
    for (int i = 0; i < n_streams; i++) {
        lengths[i] = 1 + (int64_t)(test_rand_next(&rng) % MAX_N);
        make_test_signal(signals + (size_t)i * MAX_N, lengths[i], 16000.0, 500 + (uint64_t)i);
        PLAN_OK(gpu, melspec_stream_create(&streams[i], gpu));
    }
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < n_streams; i++) {
            int64_t size = round % 4 == 3 ? (int64_t)(test_rand_next(&rng) % 900) : 200;
            if (size > lengths[i] - offsets[i]) size = lengths[i] - offsets[i];
            sizes[i] = size;
            chunks[i] = signals + (size_t)i * MAX_N + offsets[i];
            outs[i] = out + (size_t)(i * per_stream + emitted[i] * bins);
            rooms[i] = (size_t)((per_stream - emitted[i] * bins)) * sizeof *out;
        }
        PLAN_OK(gpu, melspec_stream_push_many(streams, n_streams, chunks, sizes, outs, rooms,
                                              counts));
        for (int i = 0; i < n_streams; i++) {
            offsets[i] += sizes[i];
            emitted[i] += counts[i];
        }
    }
    double worst = 0.0;
    for (int i = 0; i < n_streams; i++) {
        /* the rest in one push, then the flush */
        int64_t got = 0;
        PLAN_OK(gpu, melspec_stream_push(streams[i], signals + (size_t)i * MAX_N + offsets[i],
                                         lengths[i] - offsets[i],
                                         out + (size_t)(i * per_stream + emitted[i] * bins),
                                         (size_t)(per_stream - emitted[i] * bins) * sizeof *out,
                                         &got));
        emitted[i] += got;
        PLAN_OK(gpu, melspec_stream_flush(streams[i],
                                          out + (size_t)(i * per_stream + emitted[i] * bins),
                                          (size_t)(per_stream - emitted[i] * bins) * sizeof *out,
                                          &got));
        emitted[i] += got;
        melspec_stream *r = NULL;
        PLAN_OK(cpu, melspec_stream_create(&r, cpu));
        int64_t a = 0, b = 0;
        PLAN_OK(cpu, melspec_stream_push(r, signals + (size_t)i * MAX_N, lengths[i], ref,
                                         (size_t)per_stream * sizeof *ref, &a));
        PLAN_OK(cpu, melspec_stream_flush(r, ref + a * bins,
                                          (size_t)(per_stream - a * bins) * sizeof *ref, &b));
        melspec_stream_destroy(r);
        assert_int_equal(emitted[i], a + b);
        if (a + b > 0) {
            const double error =
                clip_error(&p, out + (size_t)(i * per_stream), ref, (a + b) * bins);
            if (!(error <= worst)) worst = error;
        }
        melspec_stream_destroy(streams[i]);
    }
    printf("  %d streams of 1..%d samples, fixed_memory %d: worst error %.3g\n", n_streams,
           MAX_N, fixed_memory, worst);
    if (!(worst <= tolerance(&p))) fail_msg("error %.3g above %.3g", worst, tolerance(&p));
    free(emitted);
    free(offsets);
    free(counts);
    free(sizes);
    free(lengths);
    free(rooms);
    free(outs);
    free(chunks);
    free(ref);
    free(out);
    free(signals);
    free(streams);
    melspec_plan_destroy(gpu);
    melspec_plan_destroy(cpu);
}

static void test_streams_of_different_lengths(void **state)
{
    (void)state;
    check_streams_of_different_lengths(0, 300);
    check_streams_of_different_lengths(1, 300); /* > the step's first 256 frames: frame path */
    check_streams_of_different_lengths(1, 20);
}

/* Blocks the stream it is enqueued on for a while, so that later work there is still pending. */
static void CUDART_CB hold_stream(void *data)
{
    (void)data;
    const struct timespec hold = {0, 300 * 1000 * 1000};
    nanosleep(&hold, NULL);
}

/* Finding 5 of issue 12: work of an execute_device on stream A is still queued when the plan
 * moves to stream B and a stream push runs there. The push must wait for A's work (it shares the
 * plan's ordering event) and so must the next call: when the push returns, A's work is done. On
 * the emulator all work runs at once, so this can only fail on a GPU. */
static void check_stream_switch(int fixed_memory, int n_streams)
{
    melspec_config c;
    melspec_config_init(&c);
    c.backend = MELSPEC_BACKEND_CUDA;
    c.sample_rate = 16000.0;
    c.n_fft = 800;
    c.hop_length = 200;
    c.n_mels = 80;
    c.fmin = 55.0;
    c.fmax = 7600.0;
    c.power = 1.0;
    c.layout = MELSPEC_LAYOUT_FRAMES_MAJOR;
    c.fixed_memory = fixed_memory;
    melspec_plan *gpu = NULL, *cpu = NULL;
    char why[256];
    if (melspec_plan_create(&gpu, &c, why, sizeof why) != MELSPEC_OK) fail_msg("plan: %s", why);
    c.backend = MELSPEC_BACKEND_CPU;
    if (melspec_plan_create(&cpu, &c, why, sizeof why) != MELSPEC_OK) fail_msg("plan: %s", why);

    enum { N = 16000 };
    static float x[N];
    make_test_signal(x, N, 16000.0, 77);
    size_t out_bytes;
    PLAN_OK(gpu, melspec_plan_output_bytes(gpu, 1, N, &out_bytes));
    float *d_in = NULL, *d_out = NULL;
    CUDA_OK(cudaMalloc((void **)&d_in, sizeof x));
    CUDA_OK(cudaMalloc((void **)&d_out, out_bytes));
    CUDA_OK(cudaMemcpy(d_in, x, sizeof x, cudaMemcpyHostToDevice));
    cudaStream_t a, b;
    cudaEvent_t a_done;
    CUDA_OK(cudaStreamCreateWithFlags(&a, cudaStreamNonBlocking));
    CUDA_OK(cudaStreamCreateWithFlags(&b, cudaStreamNonBlocking));
    CUDA_OK(cudaEventCreateWithFlags(&a_done, cudaEventDisableTiming));

    melspec_stream **streams = calloc((size_t)n_streams, sizeof *streams);
    const float **chunks = calloc((size_t)n_streams, sizeof *chunks);
    int64_t *sizes = calloc((size_t)n_streams, sizeof *sizes);
    int64_t *counts = calloc((size_t)n_streams, sizeof *counts);
    void **outs = calloc((size_t)n_streams, sizeof *outs);
    size_t *rooms = calloc((size_t)n_streams, sizeof *rooms);
    size_t frame_bytes;
    PLAN_OK(gpu, melspec_plan_frame_bytes(gpu, &frame_bytes));
    const int64_t first = 1000; /* one push of 1000 samples: frames 0..3 become final */
    float *frames = malloc((size_t)n_streams * 8 * frame_bytes);
    assert_true(streams && chunks && sizes && counts && outs && rooms && frames);
    for (int i = 0; i < n_streams; i++) {
        PLAN_OK(gpu, melspec_stream_create(&streams[i], gpu));
        chunks[i] = x + i; /* each stream its own window of the signal */
        sizes[i] = first;
        outs[i] = (unsigned char *)frames + (size_t)i * 8 * frame_bytes;
        rooms[i] = 8 * frame_bytes;
    }

    PLAN_OK(gpu, melspec_plan_set_cuda_stream(gpu, (void *)a));
    CUDA_OK(cudaLaunchHostFunc(a, hold_stream, NULL));
    PLAN_OK(gpu, melspec_execute_device(gpu, d_in, 1, N, d_out, out_bytes));
    CUDA_OK(cudaEventRecord(a_done, a));
    PLAN_OK(gpu, melspec_plan_set_cuda_stream(gpu, (void *)b));
    PLAN_OK(gpu, melspec_stream_push_many(streams, n_streams, chunks, sizes, outs, rooms, counts));
    /* the push returned: it waited for A's work, the plan's previous call */
    assert_int_equal(cudaEventQuery(a_done), cudaSuccess);
    /* and the next call on B is ordered too (it reuses A's buffers) */
    PLAN_OK(gpu, melspec_execute_device(gpu, d_in, 1, N, d_out, out_bytes));
    CUDA_OK(cudaStreamSynchronize(b));

    float *got = malloc(out_bytes), *want = malloc(out_bytes);
    assert_true(got != NULL && want != NULL);
    CUDA_OK(cudaMemcpy(got, d_out, out_bytes, cudaMemcpyDeviceToHost));
    PLAN_OK(cpu, melspec_execute(cpu, x, 1, N, want, out_bytes));
    const stream_case p = {800, 200, MELSPEC_TRANSFORM_MEL, MELSPEC_LAYOUT_FRAMES_MAJOR, 1,
                           MELSPEC_PAD_CONSTANT, 1.0, MELSPEC_SCALING_NONE};
    const double error = clip_error(&p, got, want, (int64_t)(out_bytes / sizeof(float)));
    /* the streams' frames: those of a CPU stream fed the same chunk */
    double stream_error = 0.0;
    for (int i = 0; i < n_streams; i++) {
        melspec_stream *r = NULL;
        int64_t n = 0;
        PLAN_OK(cpu, melspec_stream_create(&r, cpu));
        PLAN_OK(cpu, melspec_stream_push(r, x + i, first, want, 8 * frame_bytes, &n));
        assert_int_equal(n, counts[i]);
        const double e = clip_error(&p, (const float *)outs[i], want,
                                    n * (int64_t)(frame_bytes / sizeof(float)));
        if (!(e <= stream_error)) stream_error = e;
        melspec_stream_destroy(r);
        melspec_stream_destroy(streams[i]);
    }
    printf("  stream switch (%d streams, fixed_memory %d): execute error %.3g, streams %.3g\n",
           n_streams, fixed_memory, error, stream_error);
    if (!(error <= tolerance(&p)) || !(stream_error <= tolerance(&p)))
        fail_msg("errors %.3g, %.3g above %.3g", error, stream_error, tolerance(&p));
    free(want);
    free(got);
    free(frames);
    free(rooms);
    free(outs);
    free(counts);
    free(sizes);
    free(chunks);
    free(streams);
    CUDA_OK(cudaEventDestroy(a_done));
    melspec_plan_destroy(gpu); /* before its streams go: it may wait on them */
    melspec_plan_destroy(cpu);
    CUDA_OK(cudaStreamDestroy(b));
    CUDA_OK(cudaStreamDestroy(a));
    CUDA_OK(cudaFree(d_out));
    CUDA_OK(cudaFree(d_in));
}

static void test_stream_switch_between_calls(void **state)
{
    (void)state;
    check_stream_switch(0, 4);   /* the ring path */
    check_stream_switch(1, 300); /* the frame path: a fixed-memory plan, more than a step holds */
}

int main(void)
{
    if (melspec_cuda_device_count() < 1) {
        return gpu_test_without_device("test_cuda_stream");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpu_stream_matches_cpu_stream),
        cmocka_unit_test(test_many_streams_in_one_call),
        cmocka_unit_test(test_float16_stream),
        cmocka_unit_test(test_refused_scaling_on_gpu),
        cmocka_unit_test(test_device_rings_chunk_patterns),
        cmocka_unit_test(test_streams_of_different_lengths),
        cmocka_unit_test(test_stream_switch_between_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
