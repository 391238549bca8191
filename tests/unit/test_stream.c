/* Streaming: every chunking of every signal gives the offline frames, bit for bit. */
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
#include "test_support.h"

/* ---- deterministic signals ------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int64_t rng_below(int64_t n) { return (int64_t)(rng_next() % (uint64_t)n); }

static float rng_uniform(void) { return (float)((double)(rng_next() >> 11) / 9007199254740992.0); }

static float noise(void) { return 2.0f * rng_uniform() - 1.0f; }

enum signal_kind { SPEECH_LIKE, TONES, CLICKS, SILENCE_THEN_NOISE, N_SIGNAL_KINDS };

static const char *const signal_names[] = {"speech-like", "tones", "clicks", "silence+noise"};

/* Fills x with n samples of a signal that is never all zeros (one nonzero sample at least). */
static void make_signal(enum signal_kind kind, float *x, int64_t n, double sample_rate)
{
    const double two_pi = 6.283185307179586;
    for (int64_t i = 0; i < n; i++) {
        const double t = (double)i / sample_rate;
        switch (kind) {
        case SPEECH_LIKE: {
            /* A gliding glottal pulse train through syllable-rate envelopes, plus breath. */
            const double f0 = 110.0 + 30.0 * sin(two_pi * 3.0 * t);
            double v = 0.0;
            for (int h = 1; h <= 8; h++) v += sin(two_pi * f0 * h * t) / h;
            const double envelope = 0.5 + 0.5 * sin(two_pi * 4.0 * t);
            x[i] = (float)(0.3 * envelope * v) + 0.01f * noise();
            break;
        }
        case TONES:
            x[i] = (float)(0.5 * sin(two_pi * 440.0 * t) + 0.25 * sin(two_pi * 1234.5 * t + 1.0) +
                           0.1 * cos(two_pi * 3000.0 * t));
            break;
        case CLICKS: x[i] = (i % 97 == 3 ? 0.9f : 0.0f) + 0.001f * noise(); break;
        case SILENCE_THEN_NOISE: x[i] = i < n / 3 ? 0.0f : 0.4f * noise(); break;
        default: x[i] = 0.0f;
        }
    }
    if (n > 0 && x[n - 1] == 0.0f) x[n - 1] = 0.25f;
}

/* ---- configurations -------------------------------------------------------------------------- */

typedef struct case_params {
    int64_t n_fft, hop, win_length;
    int center, pad_mode, transform, layout, scaling;
} case_params;

static int64_t mel_count(const case_params *p)
{
    return p->n_fft >= 64 ? 12 : p->n_fft >= 16 ? 4 : 2;
}

static melspec_plan *make_plan(const case_params *p)
{
    melspec_config c;
    melspec_config_init(&c);
    c.backend = MELSPEC_BACKEND_CPU;
    c.sample_rate = 16000.0;
    c.n_fft = p->n_fft;
    c.hop_length = p->hop;
    c.win_length = p->win_length;
    c.center = p->center;
    c.pad_mode = p->pad_mode;
    c.transform = p->transform;
    c.layout = p->layout;
    c.n_mels = mel_count(p);
    c.power = p->scaling == MELSPEC_SCALING_AMPLITUDE_TO_DB ? 1.0 : 2.0;
    c.scaling = p->scaling;
    c.ref = p->scaling == MELSPEC_SCALING_AMPLITUDE_TO_DB ? 0.5 : 1.0;
    c.top_db = INFINITY;
    melspec_plan *plan = NULL;
    char why[256];
    const melspec_status status = melspec_plan_create(&plan, &c, why, sizeof why);
    if (status != MELSPEC_OK) fail_msg("plan_create: %s", why);
    return plan;
}

static int64_t floats_per_value(const case_params *p)
{
    return p->transform == MELSPEC_TRANSFORM_STFT ? 2 : 1;
}

/* ---- the check: stream a signal in a chunking, compare with execute -------------------------- */

enum chunking { ONES, PRIMES, ONE_HOP, ABOVE_N_FFT, RANDOM_WITH_ZEROS, WHOLE, N_CHUNKINGS };

static int64_t next_chunk(enum chunking how, int64_t index, const case_params *p)
{
    static const int64_t primes[] = {2, 3, 5, 7, 11, 13, 17, 19, 23};
    switch (how) {
    case ONES: return 1;
    case PRIMES: return primes[index % 9];
    case ONE_HOP: return p->hop;
    case ABOVE_N_FFT: return p->n_fft + 1 + index % 7;
    case RANDOM_WITH_ZEROS: return index % 4 == 1 ? 0 : 1 + rng_below(2 * p->n_fft + p->hop);
    case WHOLE: return INT64_MAX / 4;
    default: return 1;
    }
}

/* Copies k frames in the plan's layout for a clip of k into columns first.. of a clip of total. */
static void place(const case_params *p, int64_t n_bins, const float *chunk, int64_t k,
                  int64_t first, int64_t total, float *clip)
{
    const int64_t w = floats_per_value(p);
    if (p->layout == MELSPEC_LAYOUT_FRAMES_MAJOR) {
        memcpy(clip + first * n_bins * w, chunk, (size_t)(k * n_bins * w) * sizeof *clip);
        return;
    }
    for (int64_t b = 0; b < n_bins; b++)
        memcpy(clip + (b * total + first) * w, chunk + b * k * w, (size_t)(k * w) * sizeof *clip);
}

/* Pushes (retrying after BUFFER_TOO_SMALL when the capacity chosen was too small) and appends
 * the frames to the clip. */
static void push_and_collect(melspec_stream *stream, const case_params *p, int64_t n_bins,
                             const float *x, int64_t n, int flush, float *chunk_buffer,
                             int64_t chunk_frames, float *clip, int64_t total, int64_t *emitted)
{
    int64_t capacity = rng_below(3); /* 0, 1 or 2 frames of room first */
    for (int attempt = 0;; attempt++) {
        int64_t got = -1;
        const melspec_status status =
            flush ? melspec_stream_flush(stream, capacity ? chunk_buffer : NULL, stream_frames_bytes(stream, capacity), &got)
                  : melspec_stream_push(stream, x, n, capacity ? chunk_buffer : NULL, stream_frames_bytes(stream, capacity),
                                        &got);
        if (status == MELSPEC_ERROR_BUFFER_TOO_SMALL) {
            assert_int_equal(attempt, 0);
            assert_true(got > capacity);
            assert_true(got <= chunk_frames);
            capacity = got;
            continue;
        }
        assert_int_equal(status, MELSPEC_OK);
        assert_true(got >= 0 && got <= capacity);
        assert_true(*emitted + got <= total);
        if (got > 0) place(p, n_bins, chunk_buffer, got, *emitted, total, clip);
        *emitted += got;
        return;
    }
}

static void check_streaming(const case_params *p, enum signal_kind kind, int64_t n_samples,
                            enum chunking how)
{
    melspec_plan *plan = make_plan(p);
    float *x = malloc((size_t)(n_samples > 0 ? n_samples : 1) * sizeof *x);
    assert_non_null(x);
    make_signal(kind, x, n_samples, 16000.0);

    int64_t n_bins = 0, total = 0;
    float *offline = NULL;
    size_t offline_bytes = 0;
    if (n_samples > 0 &&
        melspec_plan_output_shape(plan, n_samples, &n_bins, &total) == MELSPEC_OK) {
        assert_int_equal(melspec_plan_output_bytes(plan, 1, n_samples, &offline_bytes),
                         MELSPEC_OK);
        offline = malloc(offline_bytes);
        assert_non_null(offline);
        assert_int_equal(melspec_execute(plan, x, 1, n_samples, offline, offline_bytes),
                         MELSPEC_OK);
    } else {
        /* Empty, or uncentred and shorter than n_fft: the stream flushes no frame. */
        total = 0;
        n_bins = p->transform == MELSPEC_TRANSFORM_MEL ? mel_count(p) : 1 + p->n_fft / 2;
    }
    const int64_t w = floats_per_value(p);
    const int64_t chunk_frames = total + 2;
    float *clip = calloc((size_t)((total > 0 ? total : 1) * n_bins * w), sizeof *clip);
    float *chunk_buffer = malloc((size_t)(chunk_frames * n_bins * w) * sizeof *chunk_buffer);
    assert_non_null(clip);
    assert_non_null(chunk_buffer);

    melspec_stream *stream = NULL;
    assert_int_equal(melspec_stream_create(&stream, plan), MELSPEC_OK);
    int64_t emitted = 0, offset = 0;
    for (int64_t index = 0; offset < n_samples; index++) {
        int64_t size = next_chunk(how, index, p);
        if (size > n_samples - offset) size = n_samples - offset;
        push_and_collect(stream, p, n_bins, x + offset, size, 0, chunk_buffer, chunk_frames, clip,
                         total, &emitted);
        offset += size;
    }
    push_and_collect(stream, p, n_bins, NULL, 0, 1, chunk_buffer, chunk_frames, clip, total,
                     &emitted);
    if (emitted != total || (total > 0 && memcmp(clip, offline, offline_bytes) != 0))
        fail_msg("n_fft %lld hop %lld win %lld center %d pad %d transform %d layout %d scaling %d, "
                 "%s signal of %lld samples, chunking %d: %lld frames streamed, %lld offline%s",
                 (long long)p->n_fft, (long long)p->hop, (long long)p->win_length, p->center,
                 p->pad_mode, p->transform, p->layout, p->scaling, signal_names[kind],
                 (long long)n_samples, (int)how, (long long)emitted, (long long)total,
                 emitted == total ? ", values differ" : "");

    /* A second flush writes nothing; a push after flush is refused. */
    int64_t got = -1;
    assert_int_equal(melspec_stream_flush(stream, chunk_buffer, stream_frames_bytes(stream, chunk_frames), &got), MELSPEC_OK);
    assert_int_equal(got, 0);
    assert_int_equal(melspec_stream_push(stream, x, n_samples > 0 ? 1 : 0, chunk_buffer,
                                         stream_frames_bytes(stream, chunk_frames), &got),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_true(strlen(melspec_plan_last_error(plan)) > 0);

    melspec_stream_destroy(stream);
    free(chunk_buffer);
    free(clip);
    free(offline);
    free(x);
    melspec_plan_destroy(plan);
}

/* ---- the parameter space --------------------------------------------------------------------- */

static const case_params core_cases[] = {
    /* n_fft even, odd, prime; hop dividing or not, larger than n_fft; win_length < n_fft. */
    {16, 4, 0, 1, MELSPEC_PAD_CONSTANT, MELSPEC_TRANSFORM_MEL, MELSPEC_LAYOUT_BINS_MAJOR, 0},
    {16, 5, 0, 1, MELSPEC_PAD_REFLECT, MELSPEC_TRANSFORM_MEL, MELSPEC_LAYOUT_FRAMES_MAJOR, 0},
    {15, 4, 11, 1, MELSPEC_PAD_EDGE, MELSPEC_TRANSFORM_LINEAR, MELSPEC_LAYOUT_BINS_MAJOR, 0},
    {17, 7, 0, 1, MELSPEC_PAD_REFLECT, MELSPEC_TRANSFORM_STFT, MELSPEC_LAYOUT_BINS_MAJOR, 0},
    {17, 3, 12, 0, MELSPEC_PAD_CONSTANT, MELSPEC_TRANSFORM_STFT, MELSPEC_LAYOUT_FRAMES_MAJOR, 0},
    {64, 16, 48, 1, MELSPEC_PAD_REFLECT, MELSPEC_TRANSFORM_MEL, MELSPEC_LAYOUT_BINS_MAJOR,
     MELSPEC_SCALING_POWER_TO_DB},
    {64, 23, 0, 0, MELSPEC_PAD_EDGE, MELSPEC_TRANSFORM_MEL, MELSPEC_LAYOUT_FRAMES_MAJOR,
     MELSPEC_SCALING_AMPLITUDE_TO_DB},
    {31, 31, 0, 1, MELSPEC_PAD_EDGE, MELSPEC_TRANSFORM_LINEAR, MELSPEC_LAYOUT_FRAMES_MAJOR,
     MELSPEC_SCALING_LOG},
    {12, 20, 0, 1, MELSPEC_PAD_REFLECT, MELSPEC_TRANSFORM_LINEAR, MELSPEC_LAYOUT_BINS_MAJOR, 0},
    {12, 20, 7, 0, MELSPEC_PAD_CONSTANT, MELSPEC_TRANSFORM_MEL, MELSPEC_LAYOUT_BINS_MAJOR, 0},
    {2, 1, 0, 1, MELSPEC_PAD_REFLECT, MELSPEC_TRANSFORM_STFT, MELSPEC_LAYOUT_BINS_MAJOR, 0},
    {1, 1, 0, 1, MELSPEC_PAD_EDGE, MELSPEC_TRANSFORM_LINEAR, MELSPEC_LAYOUT_FRAMES_MAJOR, 0},
    {3, 2, 0, 0, MELSPEC_PAD_REFLECT, MELSPEC_TRANSFORM_STFT, MELSPEC_LAYOUT_FRAMES_MAJOR, 0},
};

/* Lengths around the places where the rules change: shorter than the pad, pad, pad + 1, n_fft,
 * and a few hundred samples. */
static void lengths_for(const case_params *p, int64_t *lengths, int *n_lengths)
{
    const int64_t pad = p->n_fft / 2;
    const int64_t candidates[] = {1, 2, 3, pad - 1, pad, pad + 1, p->n_fft - 1, p->n_fft,
                                  p->n_fft + 1, p->n_fft + p->hop, 301, 777};
    *n_lengths = 0;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (candidates[i] >= 1) lengths[(*n_lengths)++] = candidates[i];
}

static void test_core_cases_all_chunkings(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof core_cases / sizeof core_cases[0]; c++) {
        int64_t lengths[16];
        int n_lengths;
        lengths_for(&core_cases[c], lengths, &n_lengths);
        for (int l = 0; l < n_lengths; l++)
            for (int how = 0; how < N_CHUNKINGS; how++)
                check_streaming(&core_cases[c], (enum signal_kind)((l + how) % N_SIGNAL_KINDS),
                                lengths[l], (enum chunking)how);
    }
}

/* Every combination of center, pad mode, transform and layout, on a few random shapes. */
static void test_product_of_modes(void **state)
{
    (void)state;
    static const int64_t shapes[][3] = {{16, 4, 0}, {15, 6, 10}, {13, 5, 0}, {20, 3, 9}};
    for (int center = 0; center <= 1; center++)
        for (int pad_mode = 0; pad_mode <= 2; pad_mode++)
            for (int transform = 0; transform <= 2; transform++)
                for (int layout = 0; layout <= 1; layout++) {
                    const int64_t *shape = shapes[rng_below(4)];
                    const case_params p = {shape[0], shape[1], shape[2], center, pad_mode,
                                           transform, layout,
                                           transform == MELSPEC_TRANSFORM_STFT
                                               ? 0
                                               : (int)rng_below(4)};
                    const int64_t n = 1 + rng_below(200);
                    check_streaming(&p, (enum signal_kind)rng_below(N_SIGNAL_KINDS), n,
                                    RANDOM_WITH_ZEROS);
                    check_streaming(&p, (enum signal_kind)rng_below(N_SIGNAL_KINDS),
                                    1 + rng_below(p.n_fft), PRIMES);
                }
}

/* Random small shapes, lengths and chunkings: catches the rare alignments (a frame ending just
 * at the padded end right after the buffer moved). */
static void test_random_shapes(void **state)
{
    (void)state;
    for (int i = 0; i < 400; i++) {
        const int64_t n_fft = 1 + rng_below(24);
        int transform = (int)rng_below(3);
        if (n_fft < 12 && transform == MELSPEC_TRANSFORM_MEL) transform = MELSPEC_TRANSFORM_LINEAR;
        const case_params p = {n_fft, 1 + rng_below(n_fft + 4), 1 + rng_below(n_fft),
                               (int)rng_below(2), (int)rng_below(3), transform,
                               (int)rng_below(2), transform == MELSPEC_TRANSFORM_STFT ? 0 : 3};
        check_streaming(&p, (enum signal_kind)rng_below(N_SIGNAL_KINDS), 1 + rng_below(120),
                        (enum chunking)rng_below(N_CHUNKINGS));
    }
}

/* The realtime config (the benchmark's stream case) over half a second, hop-sized and random. */
static void test_realtime_config(void **state)
{
    (void)state;
    const case_params p = {800, 200, 0, 1, MELSPEC_PAD_REFLECT, MELSPEC_TRANSFORM_MEL,
                           MELSPEC_LAYOUT_FRAMES_MAJOR, 0};
    check_streaming(&p, SPEECH_LIKE, 8000, ONE_HOP);
    check_streaming(&p, TONES, 8123, RANDOM_WITH_ZEROS);
    check_streaming(&p, CLICKS, 401, PRIMES);
}

/* ---- behaviour ------------------------------------------------------------------------------- */

static const case_params small = {16, 4, 0, 1, MELSPEC_PAD_CONSTANT, MELSPEC_TRANSFORM_MEL,
                                  MELSPEC_LAYOUT_BINS_MAJOR, 0};

static void test_latency_is_when_frames_come(void **state)
{
    (void)state;
    static const case_params cases[] = {
        {16, 4, 0, 1, MELSPEC_PAD_CONSTANT, 0, 0, 0},
        {15, 4, 0, 1, MELSPEC_PAD_EDGE, 0, 0, 0},
        {16, 5, 0, 0, MELSPEC_PAD_CONSTANT, 0, 0, 0},
        {16, 4, 0, 1, MELSPEC_PAD_REFLECT, 0, 0, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const case_params *p = &cases[c];
        melspec_plan *plan = make_plan(p);
        melspec_stream *stream = NULL;
        assert_int_equal(melspec_stream_create(&stream, plan), MELSPEC_OK);
        int64_t latency = -1;
        assert_int_equal(melspec_stream_latency(stream, &latency), MELSPEC_OK);
        assert_int_equal(latency, p->center ? p->n_fft - p->n_fft / 2 : p->n_fft);
        float x[200], frames[8 * 4];
        make_signal(TONES, x, 200, 16000.0);
        int64_t emitted = 0;
        for (int64_t i = 0; i < 200; i++) {
            int64_t got = 0;
            assert_int_equal(melspec_stream_push(stream, x + i, 1, frames, stream_frames_bytes(stream, 8), &got), MELSPEC_OK);
            int64_t expected = (i + 1 - latency) < 0 ? 0 : 1 + (i + 1 - latency) / p->hop;
            if (p->pad_mode == MELSPEC_PAD_REFLECT && i + 1 < p->n_fft / 2 + 1) expected = 0;
            assert_int_equal(emitted + got, expected);
            emitted += got;
        }
        melspec_stream_destroy(stream);
        melspec_plan_destroy(plan);
    }
}

static void test_buffer_too_small_consumes_nothing(void **state)
{
    (void)state;
    melspec_plan *plan = make_plan(&small);
    melspec_stream *a = NULL, *b = NULL;
    assert_int_equal(melspec_stream_create(&a, plan), MELSPEC_OK);
    assert_int_equal(melspec_stream_create(&b, plan), MELSPEC_OK);
    float x[100], fa[30 * 4], fb[30 * 4];
    make_signal(SPEECH_LIKE, x, 100, 16000.0);
    int64_t got = -1;
    /* 100 samples make 1 + (100 + 8 - 16)/4 = 24 frames final. */
    assert_int_equal(melspec_stream_push(a, x, 100, fa, stream_frames_bytes(a, 5), &got), MELSPEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(got, 24);
    assert_true(strstr(melspec_plan_last_error(plan), "nothing was consumed") != NULL);
    assert_int_equal(melspec_stream_push(a, x, 100, NULL, 0, &got),
                     MELSPEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(got, 24);
    assert_int_equal(melspec_stream_push(a, x, 100, fa, stream_frames_bytes(a, 24), &got), MELSPEC_OK);
    assert_int_equal(got, 24);
    assert_int_equal(melspec_stream_push(b, x, 100, fb, stream_frames_bytes(b, 30), &got), MELSPEC_OK);
    assert_int_equal(got, 24);
    assert_memory_equal(fa, fb, sizeof(float) * 24 * 4);
    /* Flush: 26 frames in all for 100 samples. */
    assert_int_equal(melspec_stream_flush(a, fa, stream_frames_bytes(a, 1), &got), MELSPEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(got, 2);
    assert_int_equal(melspec_stream_flush(a, fa, stream_frames_bytes(a, 2), &got), MELSPEC_OK);
    assert_int_equal(got, 2);
    melspec_stream_destroy(a);
    melspec_stream_destroy(b);
    melspec_plan_destroy(plan);
}

static void test_reset_and_reuse(void **state)
{
    (void)state;
    melspec_plan *plan = make_plan(&small);
    melspec_stream *stream = NULL;
    assert_int_equal(melspec_stream_create(&stream, plan), MELSPEC_OK);
    float x[64], first[40 * 4], second[40 * 4];
    make_signal(CLICKS, x, 64, 16000.0);
    x[10] = 0.7f;
    int64_t n1 = 0, n2 = 0, tail = 0;
    /* Half a signal, then reset mid-way (frames pending), then the whole signal twice. */
    assert_int_equal(melspec_stream_push(stream, x, 30, first, stream_frames_bytes(stream, 40), &n1), MELSPEC_OK);
    assert_int_equal(melspec_stream_reset(stream), MELSPEC_OK);
    assert_int_equal(melspec_stream_push(stream, x, 64, first, stream_frames_bytes(stream, 40), &n1), MELSPEC_OK);
    assert_int_equal(melspec_stream_flush(stream, first + n1 * 4, stream_frames_bytes(stream, 40 - n1), &tail), MELSPEC_OK);
    n1 += tail;
    assert_int_equal(melspec_stream_reset(stream), MELSPEC_OK);
    assert_int_equal(melspec_stream_push(stream, x, 64, second, stream_frames_bytes(stream, 40), &n2), MELSPEC_OK);
    assert_int_equal(melspec_stream_flush(stream, second + n2 * 4, stream_frames_bytes(stream, 40 - n2), &tail), MELSPEC_OK);
    n2 += tail;
    assert_int_equal(n1, 17);
    assert_int_equal(n2, 17);
    /* Both runs split 15 pushed + 2 flushed frames alike, so their buffers compare directly. */
    assert_memory_equal(first, second, sizeof(float) * 17 * 4);
    melspec_stream_destroy(stream);
    melspec_plan_destroy(plan);
}

/* Frames final after m samples, from the latency rule (independent of the library's code). */
static int64_t final_frames(const case_params *p, int64_t m)
{
    const int64_t pad = p->center ? p->n_fft / 2 : 0;
    if (p->center && p->pad_mode == MELSPEC_PAD_REFLECT && m < pad + 1) return 0;
    const int64_t latency = p->n_fft - pad;
    return m < latency ? 0 : 1 + (m - latency) / p->hop;
}

/* Many streams on one plan, interleaved push by push, and the same through melspec_stream_push_many. */
static void test_interleaved_streams(void **state)
{
    (void)state;
    enum { N_STREAMS = 5, N = 500 };
    const case_params p = {24, 7, 20, 1, MELSPEC_PAD_REFLECT, MELSPEC_TRANSFORM_LINEAR,
                           MELSPEC_LAYOUT_FRAMES_MAJOR, MELSPEC_SCALING_POWER_TO_DB};
    melspec_plan *plan = make_plan(&p);
    const int64_t n_bins = 13, total = 1 + N / 7;
    static float signals[N_STREAMS][N], offline[N_STREAMS][N / 7 + 1][13],
        streamed[2][N_STREAMS][N / 7 + 1][13];
    melspec_stream *streams[2][N_STREAMS];
    int64_t offsets[2][N_STREAMS] = {{0}}, emitted[2][N_STREAMS] = {{0}};
    for (int i = 0; i < N_STREAMS; i++) {
        make_signal((enum signal_kind)(i % N_SIGNAL_KINDS), signals[i], N, 16000.0);
        assert_int_equal(melspec_execute(plan, signals[i], 1, N, offline[i], sizeof offline[i]),
                         MELSPEC_OK);
        assert_int_equal(melspec_stream_create(&streams[0][i], plan), MELSPEC_OK);
        assert_int_equal(melspec_stream_create(&streams[1][i], plan), MELSPEC_OK);
    }
    for (int round = 0; round < 400; round++) {
        /* One by one. */
        const int i = (int)rng_below(N_STREAMS);
        int64_t size = rng_below(30);
        if (size > N - offsets[0][i]) size = N - offsets[0][i];
        int64_t got = 0;
        assert_int_equal(melspec_stream_push(streams[0][i], signals[i] + offsets[0][i], size,
                                             streamed[0][i][emitted[0][i]],
                                             stream_frames_bytes(streams[0][i], total - emitted[0][i]), &got),
                         MELSPEC_OK);
        offsets[0][i] += size;
        emitted[0][i] += got;
        /* All at once, each its own chunk length; sometimes with one buffer too small. */
        const float *chunks[N_STREAMS];
        int64_t lengths[N_STREAMS], counts[N_STREAMS];
        size_t capacities[N_STREAMS];
        void *outs[N_STREAMS];
        for (int j = 0; j < N_STREAMS; j++) {
            lengths[j] = rng_below(25);
            if (lengths[j] > N - offsets[1][j]) lengths[j] = N - offsets[1][j];
            chunks[j] = signals[j] + offsets[1][j];
            outs[j] = streamed[1][j][emitted[1][j]];
            capacities[j] = stream_frames_bytes(streams[1][j], total - emitted[1][j]);
        }
        const int squeeze = round % 5 == 0 ? (int)rng_below(N_STREAMS) : -1;
        if (squeeze >= 0 && final_frames(&p, offsets[1][squeeze] + lengths[squeeze]) >
                                emitted[1][squeeze]) {
            const size_t saved = capacities[squeeze];
            capacities[squeeze] = 0;
            assert_int_equal(melspec_stream_push_many(streams[1], N_STREAMS, chunks, lengths, outs,
                                                  capacities, counts),
                             MELSPEC_ERROR_BUFFER_TOO_SMALL);
            for (int j = 0; j < N_STREAMS; j++)
                assert_int_equal(counts[j], final_frames(&p, offsets[1][j] + lengths[j]) -
                                                emitted[1][j]);
            capacities[squeeze] = saved;
        }
        assert_int_equal(melspec_stream_push_many(streams[1], N_STREAMS, chunks, lengths, outs,
                                              capacities, counts),
                         MELSPEC_OK);
        for (int j = 0; j < N_STREAMS; j++) {
            offsets[1][j] += lengths[j];
            emitted[1][j] += counts[j];
            assert_int_equal(emitted[1][j], final_frames(&p, offsets[1][j]));
        }
    }
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < N_STREAMS; i++) {
            int64_t got = 0;
            assert_int_equal(melspec_stream_push(streams[k][i], signals[i] + offsets[k][i],
                                                 N - offsets[k][i], streamed[k][i][emitted[k][i]],
                                                 stream_frames_bytes(streams[k][i], total - emitted[k][i]), &got),
                             MELSPEC_OK);
            emitted[k][i] += got;
            assert_int_equal(melspec_stream_flush(streams[k][i], streamed[k][i][emitted[k][i]],
                                                  stream_frames_bytes(streams[k][i], total - emitted[k][i]), &got),
                             MELSPEC_OK);
            emitted[k][i] += got;
            assert_int_equal(emitted[k][i], total);
            assert_memory_equal(streamed[k][i], offline[i], sizeof offline[i]);
            melspec_stream_destroy(streams[k][i]);
        }
    (void)n_bins;
    melspec_plan_destroy(plan);
}

static void test_refused_scalings(void **state)
{
    (void)state;
    melspec_config c;
    melspec_config_init(&c);
    c.backend = MELSPEC_BACKEND_CPU;
    c.n_fft = 64;
    c.n_mels = 8;
    c.scaling = MELSPEC_SCALING_POWER_TO_DB;
    c.top_db = 80.0;
    melspec_plan *plan = NULL;
    melspec_stream *stream = (melspec_stream *)&c; /* must be set to NULL on failure */
    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_OK);
    assert_int_equal(melspec_stream_create(&stream, plan), MELSPEC_ERROR_UNSUPPORTED);
    assert_null(stream);
    assert_non_null(strstr(melspec_plan_last_error(plan), "top_db"));
    melspec_plan_destroy(plan);

    c.top_db = INFINITY;
    c.ref_mode = MELSPEC_REF_MAX;
    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_OK);
    assert_int_equal(melspec_stream_create(&stream, plan), MELSPEC_ERROR_UNSUPPORTED);
    assert_non_null(strstr(melspec_plan_last_error(plan), "ref_mode"));
    melspec_plan_destroy(plan);

    /* A constant-Q plan does not stream. */
    melspec_cqt_config cqt;
    melspec_cqt_config_init(&cqt);
    assert_int_equal(melspec_cqt_plan_create(&plan, &cqt, NULL, 0), MELSPEC_OK);
    assert_int_equal(melspec_stream_create(&stream, plan), MELSPEC_ERROR_UNSUPPORTED);
    assert_non_null(strstr(melspec_plan_last_error(plan), "constant-Q"));
    melspec_plan_destroy(plan);

    /* top_db and ref_mode mean nothing without dB: accepted. */
    c.scaling = MELSPEC_SCALING_LOG;
    c.top_db = 80.0;
    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_OK);
    assert_int_equal(melspec_stream_create(&stream, plan), MELSPEC_OK);
    melspec_stream_destroy(stream);
    melspec_plan_destroy(plan);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    melspec_plan *plan = make_plan(&small);
    melspec_stream *stream = NULL, *other = NULL;
    float x[40], frames[16 * 4];
    make_signal(TONES, x, 40, 16000.0);
    int64_t got = 0, latency = 0;

    assert_int_equal(melspec_stream_create(&stream, NULL), MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_stream_create(NULL, plan), MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_stream_create(&stream, plan), MELSPEC_OK);
    melspec_stream_destroy(NULL);

    assert_int_equal(melspec_stream_push(NULL, x, 4, frames, stream_frames_bytes(NULL, 16), &got),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_stream_push(stream, x, 4, frames, stream_frames_bytes(stream, 16), NULL),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_stream_push(stream, NULL, 4, frames, stream_frames_bytes(stream, 16), &got),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_stream_push(stream, x, 4, NULL, stream_frames_bytes(stream, 16), &got),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_stream_push(stream, x, -1, frames, stream_frames_bytes(stream, 16), &got),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(melspec_stream_push(stream, NULL, 0, NULL, 0, &got), MELSPEC_OK);
    assert_int_equal(got, 0);
    assert_int_equal(melspec_stream_flush(NULL, frames, stream_frames_bytes(NULL, 16), &got), MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_stream_flush(stream, frames, stream_frames_bytes(stream, 16), NULL), MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_stream_flush(stream, NULL, stream_frames_bytes(stream, 3), &got), MELSPEC_ERROR_NULL_POINTER);
    /* a capacity that is not a whole number of frames counts the whole frames only */
    assert_int_equal(melspec_stream_push(stream, x, 40, frames, stream_frames_bytes(stream, 1) - 1,
                                         &got),
                     MELSPEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(melspec_stream_reset(NULL), MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_stream_latency(NULL, &latency), MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_stream_latency(stream, NULL), MELSPEC_ERROR_NULL_POINTER);

    /* A NaN is refused and consumes nothing: the stream still equals a clean one. */
    float poisoned[40];
    memcpy(poisoned, x, sizeof x);
    poisoned[25] = NAN;
    assert_int_equal(melspec_stream_push(stream, poisoned, 40, frames, stream_frames_bytes(stream, 16), &got),
                     MELSPEC_ERROR_NON_FINITE_INPUT);
    assert_non_null(strstr(melspec_plan_last_error(plan), "NaN"));
    poisoned[25] = INFINITY;
    assert_int_equal(melspec_stream_push(stream, poisoned, 40, frames, stream_frames_bytes(stream, 16), &got),
                     MELSPEC_ERROR_NON_FINITE_INPUT);
    assert_int_equal(melspec_stream_push(stream, x, 40, frames, stream_frames_bytes(stream, 16), &got), MELSPEC_OK);
    float reference[16 * 4];
    int64_t reference_count = 0;
    assert_int_equal(melspec_stream_create(&other, plan), MELSPEC_OK);
    assert_int_equal(melspec_stream_push(other, x, 40, reference, stream_frames_bytes(other, 16), &reference_count),
                     MELSPEC_OK);
    assert_int_equal(got, reference_count);
    assert_memory_equal(frames, reference, sizeof(float) * (size_t)(got * 4));

    /* Multi-stream: NULLs, a stream listed twice, a stream of another plan, a bad chunk. */
    melspec_stream *pair[2] = {stream, other};
    const float *chunks[2] = {x, x};
    int64_t lengths[2] = {4, 4}, counts[2] = {0, 0};
    size_t capacities[2] = {stream_frames_bytes(stream, 16), stream_frames_bytes(other, 16)};
    void *outs[2] = {frames, reference};
    assert_int_equal(melspec_stream_push_many(NULL, 0, NULL, NULL, NULL, NULL, NULL), MELSPEC_OK);
    assert_int_equal(melspec_stream_push_many(NULL, 2, chunks, lengths, outs, capacities, counts),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_stream_push_many(pair, 2, NULL, lengths, outs, capacities, counts),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_stream_push_many(pair, -1, chunks, lengths, outs, capacities, counts),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    melspec_stream *twice[2] = {stream, stream};
    assert_int_equal(melspec_stream_push_many(twice, 2, chunks, lengths, outs, capacities, counts),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(melspec_plan_last_error(plan), "twice"));
    melspec_plan *plan2 = make_plan(&small);
    melspec_stream *foreign = NULL;
    assert_int_equal(melspec_stream_create(&foreign, plan2), MELSPEC_OK);
    melspec_stream *mixed[2] = {stream, foreign};
    assert_int_equal(melspec_stream_push_many(mixed, 2, chunks, lengths, outs, capacities, counts),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    lengths[1] = -3;
    assert_int_equal(melspec_stream_push_many(pair, 2, chunks, lengths, outs, capacities, counts),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(melspec_plan_last_error(plan), "streams[1]"));
    /* After all those refusals both streams are where they were: still equal. */
    lengths[1] = 4;
    assert_int_equal(melspec_stream_push_many(pair, 2, chunks, lengths, outs, capacities, counts),
                     MELSPEC_OK);
    assert_int_equal(counts[0], counts[1]);
    assert_int_equal(counts[0], 1);
    assert_memory_equal(frames, reference, sizeof(float) * 4);

    melspec_stream_destroy(foreign);
    melspec_plan_destroy(plan2);
    melspec_stream_destroy(other);
    melspec_stream_destroy(stream);
    melspec_plan_destroy(plan);
}

/* An uncentred stream shorter than n_fft, and a stream that received nothing, flush no frame. */
static void test_short_and_empty_streams(void **state)
{
    (void)state;
    const case_params p = {32, 8, 0, 0, MELSPEC_PAD_CONSTANT, MELSPEC_TRANSFORM_LINEAR,
                           MELSPEC_LAYOUT_BINS_MAJOR, 0};
    melspec_plan *plan = make_plan(&p);
    melspec_stream *stream = NULL;
    assert_int_equal(melspec_stream_create(&stream, plan), MELSPEC_OK);
    float x[31], frames[17 * 2];
    make_signal(TONES, x, 31, 16000.0);
    int64_t got = -1;
    assert_int_equal(melspec_stream_flush(stream, NULL, 0, &got), MELSPEC_OK);
    assert_int_equal(got, 0);
    assert_int_equal(melspec_stream_reset(stream), MELSPEC_OK);
    assert_int_equal(melspec_stream_push(stream, x, 31, NULL, 0, &got), MELSPEC_OK);
    assert_int_equal(melspec_stream_flush(stream, frames, stream_frames_bytes(stream, 2), &got), MELSPEC_OK);
    assert_int_equal(got, 0);
    int64_t bins, count;
    assert_int_equal(melspec_plan_output_shape(plan, 31, &bins, &count),
                     MELSPEC_ERROR_INPUT_TOO_SHORT);
    melspec_stream_destroy(stream);
    melspec_plan_destroy(plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core_cases_all_chunkings),
        cmocka_unit_test(test_product_of_modes),
        cmocka_unit_test(test_random_shapes),
        cmocka_unit_test(test_realtime_config),
        cmocka_unit_test(test_latency_is_when_frames_come),
        cmocka_unit_test(test_buffer_too_small_consumes_nothing),
        cmocka_unit_test(test_reset_and_reuse),
        cmocka_unit_test(test_interleaved_streams),
        cmocka_unit_test(test_refused_scalings),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_short_and_empty_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
