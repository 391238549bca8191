/*
 * Stream soak test: hours of generated audio (chirps, tones and noise, never silence) through
 * streams, in random chunk sizes, on the CPU backend.
 *   - One long-lived stream per config is never reset: every SAMPLE_EVERY-th frame it gives is
 *     checked, bit for bit, against melspec_execute of an uncentred plan of the same config on
 *     that frame's own n_fft samples (a frame depends on nothing else), and its frame count
 *     against the count of samples pushed.
 *   - Clip streams carry clips of random length (a tenth of a second to 20 s), each flushed and
 *     reset, and every clip's frames must equal melspec_execute on the same samples, bit for bit,
 *     in number and in value.
 *   - Memory stays flat: the plans use a counting allocator (the public hook), and after the
 *     warm-up no push, flush or reset may allocate at all; the resident set may not grow either.
 * Bounded for CI (label soak, a few seconds); longer with MELSPEC_SOAK_HOURS (hours of audio
 * through the long-lived streams, e.g. MELSPEC_SOAK_HOURS=3). Prints the audio-hours, the frames
 * checked and the peak resident memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "melspec.h"
#include "test_allocator.h"
#include "test_support.h"

#define SAMPLE_RATE 16000.0
#define SAMPLE_EVERY 97        /* long streams: every 97th frame is checked */
#define TWO_PI 6.283185307179586476925286766559
#define MAX_CHUNK 24000        /* the largest push (1.5 s); most are a few hops */
#define MAX_CLIP 320000        /* clip streams: up to 20 s */
#define HISTORY 65536          /* samples of the long stream kept to check its frames */
#define DEFAULT_HOURS 0.25     /* audio through each long stream in CI */

/* ---- generated audio: a sweeping chirp, a tone that hops, noise, a slow tremolo -------------- */

typedef struct generator {
    uint64_t rng;
    double chirp_phase, tone_phase;
    int64_t n;
} generator;

static float next_sample(generator *g)
{
    const double t = (double)g->n / SAMPLE_RATE;
    /* the chirp sweeps 60 Hz .. 7 kHz and back every 12 s; the tone changes every 0.7 s */
    const double cycle = fmod(t, 12.0) / 6.0;
    const double sweep = cycle < 1.0 ? cycle : 2.0 - cycle;
    g->chirp_phase += TWO_PI * (60.0 * pow(7000.0 / 60.0, sweep)) / SAMPLE_RATE;
    const int64_t step = (int64_t)(t / 0.7);
    g->tone_phase += TWO_PI * (110.0 * (double)(1 + (step * 7919) % 23)) / SAMPLE_RATE;
    if (g->chirp_phase > TWO_PI) g->chirp_phase -= TWO_PI;
    if (g->tone_phase > TWO_PI) g->tone_phase -= TWO_PI;
    const double noise = (double)(test_rand_next(&g->rng) >> 11) / 9007199254740992.0 - 0.5;
    const double tremolo = 0.6 + 0.4 * sin(TWO_PI * 0.3 * t);
    g->n++;
    return (float)(tremolo * (0.5 * sin(g->chirp_phase) + 0.3 * sin(g->tone_phase)) +
                   0.1 * noise);
}

/* ---- the configs: the real-time one (80 mels, power 1), Whisper-like log mel, linear dB --------- */

enum { N_CONFIGS = 3 };

static melspec_config soak_config(int which, int center)
{
    melspec_config c;
    melspec_config_init(&c);
    c.backend = MELSPEC_BACKEND_CPU;
    c.sample_rate = SAMPLE_RATE;
    c.layout = MELSPEC_LAYOUT_FRAMES_MAJOR;
    c.center = center;
    c.max_samples = MAX_CLIP;
    if (which == 0) { /* the real-time avatar config */
        c.n_fft = 800;
        c.hop_length = 200;
        c.n_mels = 80;
        c.fmin = 55.0;
        c.fmax = 7600.0;
        c.power = 1.0;
    } else if (which == 1) { /* Whisper's front end, natural log */
        c.n_fft = 400;
        c.hop_length = 160;
        c.n_mels = 80;
        c.pad_mode = MELSPEC_PAD_REFLECT;
        c.scaling = MELSPEC_SCALING_LOG;
        c.log_offset = 1e-6;
    } else { /* linear power in dB against a fixed reference, float16 out */
        c.transform = MELSPEC_TRANSFORM_LINEAR;
        c.n_fft = 512;
        c.hop_length = 128;
        c.scaling = MELSPEC_SCALING_POWER_TO_DB;
        c.top_db = INFINITY;
        c.output_dtype = MELSPEC_DTYPE_FLOAT16;
    }
    return c;
}

static test_allocator counts;

static melspec_plan *make_plan(const melspec_config *c)
{
    const melspec_allocator hook = test_allocator_hook(&counts);
    melspec_plan *plan = NULL;
    char message[256];
    if (melspec_plan_create_with_allocator(&plan, c, &hook, message, sizeof message) != MELSPEC_OK)
        fail_msg("plan: %s", message);
    return plan;
}

/* A chunk length: mostly a few hops, sometimes none, sometimes a large block. */
static int64_t chunk_length(uint64_t *rng, int64_t hop)
{
    const uint64_t r = test_rand_next(rng);
    switch (r % 16) {
    case 0: return 0;
    case 1: return 1 + (int64_t)((r >> 8) % 7);
    case 2: return (int64_t)((r >> 8) % MAX_CHUNK);
    default: return 1 + (int64_t)((r >> 8) % (uint64_t)(4 * hop));
    }
}

static long resident_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages_total = 0, pages_resident = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
        fclose(f);
    }
    return pages_resident * 4; /* 4 KiB pages */
}

/* ---- the long-lived stream of one config ----------------------------------------------------- */

typedef struct long_stream {
    melspec_config config;
    melspec_plan *plan, *frame_plan; /* the stream's; an uncentred one for single frames */
    melspec_stream *stream;
    generator gen;
    float history[HISTORY];          /* sample i at history[i % HISTORY] */
    int64_t received, frames;
    size_t frame_bytes;
    unsigned char *out, *expected;
    long checked;
} long_stream;

static void long_stream_open(long_stream *l, int which, uint64_t seed)
{
    memset(l, 0, sizeof *l);
    l->config = soak_config(which, 1);
    l->plan = make_plan(&l->config);
    melspec_config single = l->config;
    single.center = 0;
    single.max_samples = l->config.n_fft;
    l->frame_plan = make_plan(&single);
    assert_int_equal(melspec_stream_create(&l->stream, l->plan), MELSPEC_OK);
    assert_int_equal(melspec_stream_frame_bytes(l->stream, &l->frame_bytes), MELSPEC_OK);
    l->gen.rng = seed;
    l->out = malloc((MAX_CHUNK / (size_t)l->config.hop_length + 4) * l->frame_bytes);
    l->expected = malloc(l->frame_bytes);
    assert_non_null(l->out);
    assert_non_null(l->expected);
    memset(l->out, 0, (MAX_CHUNK / (size_t)l->config.hop_length + 4) * l->frame_bytes);
}

static void long_stream_close(long_stream *l)
{
    melspec_stream_destroy(l->stream);
    melspec_plan_destroy(l->plan);
    melspec_plan_destroy(l->frame_plan);
    free(l->out);
    free(l->expected);
}

/* Frame t reads samples t*hop - n_fft/2 .. + n_fft - 1 (centred, constant padding); once it is
 * out, all of them are in the history. Frames that reach before sample 0 are padded: skipped. */
static void check_frame(long_stream *l, int64_t t, const unsigned char *got)
{
    const int64_t n_fft = l->config.n_fft, first = t * l->config.hop_length - n_fft / 2;
    if (first < 0) return;
    if (first + n_fft > l->received || l->received - first > HISTORY)
        fail_msg("frame %lld: its samples are not in the history", (long long)t);
    float samples[2048];
    for (int64_t i = 0; i < n_fft; i++) samples[i] = l->history[(first + i) % HISTORY];
    assert_int_equal(melspec_execute(l->frame_plan, samples, 1, n_fft, l->expected, l->frame_bytes),
                     MELSPEC_OK);
    if (memcmp(got, l->expected, l->frame_bytes) != 0)
        fail_msg("config hop %lld: streamed frame %lld (after %.3f h) differs from execute on its "
                 "samples", (long long)l->config.hop_length, (long long)t,
                 (double)l->received / SAMPLE_RATE / 3600.0);
    l->checked++;
}

static float chunk[MAX_CHUNK];

static void long_stream_push(long_stream *l, uint64_t *rng)
{
    const int64_t n = chunk_length(rng, l->config.hop_length);
    for (int64_t i = 0; i < n; i++) {
        chunk[i] = next_sample(&l->gen);
        l->history[(l->received + i) % HISTORY] = chunk[i];
    }
    int64_t got = 0;
    const size_t capacity = (MAX_CHUNK / (size_t)l->config.hop_length + 4) * l->frame_bytes;
    assert_int_equal(melspec_stream_push(l->stream, chunk, n, l->out, capacity, &got), MELSPEC_OK);
    l->received += n;
    for (int64_t q = 0; q < got; q++)
        if ((l->frames + q) % SAMPLE_EVERY == 0)
            check_frame(l, l->frames + q, l->out + (size_t)q * l->frame_bytes);
    l->frames += got;
    /* every frame whose last sample has arrived is out (docs/streaming.md) */
    const int64_t n_fft = l->config.n_fft, hop = l->config.hop_length, pad = n_fft / 2;
    /* reflect padding of the start needs samples 1 .. pad first */
    const int64_t wait = l->config.pad_mode == MELSPEC_PAD_REFLECT ? pad + 1 : 0;
    const int64_t ready =
        l->received >= n_fft - pad && l->received >= wait ? 1 + (l->received + pad - n_fft) / hop : 0;
    if (l->frames != ready)
        fail_msg("after %lld samples: %lld frames out, %lld complete", (long long)l->received,
                 (long long)l->frames, (long long)ready);
}

/* ---- clip streams: each clip flushed and compared whole ------------------------------------- */

typedef struct clip_stream {
    melspec_config config;
    melspec_plan *plan;
    melspec_stream *stream;
    generator gen;
    float *clip;
    unsigned char *streamed, *offline;
    size_t frame_bytes, capacity;
    long clips, frames;
    int64_t samples;
} clip_stream;

static void clip_stream_open(clip_stream *c, int which, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->config = soak_config(which, 1);
    c->plan = make_plan(&c->config);
    assert_int_equal(melspec_stream_create(&c->stream, c->plan), MELSPEC_OK);
    assert_int_equal(melspec_stream_frame_bytes(c->stream, &c->frame_bytes), MELSPEC_OK);
    assert_int_equal(melspec_plan_output_bytes(c->plan, 1, MAX_CLIP, &c->capacity), MELSPEC_OK);
    c->gen.rng = seed;
    c->clip = malloc(MAX_CLIP * sizeof *c->clip);
    c->streamed = malloc(c->capacity);
    c->offline = malloc(c->capacity);
    assert_true(c->clip && c->streamed && c->offline);
    /* touched now, so that the resident set measures the library, not these pages */
    memset(c->clip, 0, MAX_CLIP * sizeof *c->clip);
    memset(c->streamed, 0, c->capacity);
    memset(c->offline, 0, c->capacity);
}

static void clip_stream_close(clip_stream *c)
{
    melspec_stream_destroy(c->stream);
    melspec_plan_destroy(c->plan);
    free(c->clip);
    free(c->streamed);
    free(c->offline);
}

/* One clip of `length` samples (0: a random length). */
static void clip_stream_run(clip_stream *c, uint64_t *rng, int64_t length)
{
    const int64_t n = length > 0 ? length : 1600 + (int64_t)(test_rand_next(rng) % (MAX_CLIP - 1600));
    for (int64_t i = 0; i < n; i++) c->clip[i] = next_sample(&c->gen);
    size_t written = 0;
    int64_t got = 0;
    for (int64_t offset = 0; offset < n;) {
        int64_t size = chunk_length(rng, c->config.hop_length);
        if (size > n - offset) size = n - offset;
        assert_int_equal(melspec_stream_push(c->stream, c->clip + offset, size,
                                             c->streamed + written, c->capacity - written, &got),
                         MELSPEC_OK);
        written += (size_t)got * c->frame_bytes;
        offset += size;
    }
    assert_int_equal(melspec_stream_flush(c->stream, c->streamed + written, c->capacity - written,
                                          &got),
                     MELSPEC_OK);
    written += (size_t)got * c->frame_bytes;
    assert_int_equal(melspec_stream_reset(c->stream), MELSPEC_OK);
    size_t expected = 0;
    assert_int_equal(melspec_plan_output_bytes(c->plan, 1, n, &expected), MELSPEC_OK);
    assert_int_equal(melspec_execute(c->plan, c->clip, 1, n, c->offline, expected), MELSPEC_OK);
    if (written != expected)
        fail_msg("clip %ld of %lld samples: %zu frames streamed, %zu offline", c->clips,
                 (long long)n, written / c->frame_bytes, expected / c->frame_bytes);
    if (memcmp(c->streamed, c->offline, expected) != 0)
        fail_msg("clip %ld of %lld samples: streamed frames differ from execute", c->clips,
                 (long long)n);
    c->clips++;
    c->frames += (long)(expected / c->frame_bytes);
    c->samples += n;
}

/* ---- the soak ------------------------------------------------------------------------------- */

static void test_soak(void **state)
{
    (void)state;
    const char *hours_text = getenv("MELSPEC_SOAK_HOURS");
    const double hours = hours_text != NULL ? atof(hours_text) : DEFAULT_HOURS;
    assert_true(hours > 0.0);
    const int64_t target = (int64_t)(hours * 3600.0 * SAMPLE_RATE);

    static long_stream longs[N_CONFIGS];
    static clip_stream clips[N_CONFIGS];
    uint64_t rng = 0x50a4u;
    memset(chunk, 0, sizeof chunk);
    for (int i = 0; i < N_CONFIGS; i++) {
        long_stream_open(&longs[i], i, 1000u + (uint64_t)i);
        clip_stream_open(&clips[i], i, 2000u + (uint64_t)i);
    }
    /* warm-up: each stream's first pushes make what they keep; a longest clip touches every page
     * of the plans' buffers, so that the resident set after it can be compared */
    for (int round = 0; round < 64; round++)
        for (int i = 0; i < N_CONFIGS; i++) long_stream_push(&longs[i], &rng);
    for (int i = 0; i < N_CONFIGS; i++) clip_stream_run(&clips[i], &rng, MAX_CLIP);
    const long calls_after_warmup = counts.n_calls, live_after_warmup = counts.n_live;
    const long rss_after_warmup = resident_kib();

    /* the clip streams carry a tenth of the long streams' audio (and 3 clips at least) */
    while (longs[0].received < target) {
        for (int round = 0; round < 256; round++)
            for (int i = 0; i < N_CONFIGS; i++) long_stream_push(&longs[i], &rng);
        for (int i = 0; i < N_CONFIGS; i++)
            if (clips[i].samples * 10 < longs[i].received || clips[i].clips < 3)
                clip_stream_run(&clips[i], &rng, 0);
    }
    const long allocations = counts.n_calls - calls_after_warmup;
    const long rss_growth = resident_kib() - rss_after_warmup;

    double audio_seconds = 0.0;
    long checked = 0, clip_count = 0, clip_frames = 0, frames = 0;
    for (int i = 0; i < N_CONFIGS; i++) {
        audio_seconds += (double)(longs[i].received + clips[i].samples) / SAMPLE_RATE;
        checked += longs[i].checked;
        frames += (long)longs[i].frames;
        clip_count += clips[i].clips;
        clip_frames += clips[i].frames;
    }
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("soak: %.2f audio-hours through %d long-lived and %d clip streams (%.2f h each long "
           "stream); %ld long-stream frames, %ld of them checked against execute; %ld clips "
           "(%ld frames) equal to execute; %ld allocations after warm-up (%zu bytes held by the "
           "plans); resident memory grew %ld KiB; peak resident %ld KiB\n",
           audio_seconds / 3600.0, N_CONFIGS, N_CONFIGS,
           (double)longs[0].received / SAMPLE_RATE / 3600.0, frames, checked, clip_count,
           clip_frames, allocations, counts.live_bytes, rss_growth, (long)usage.ru_maxrss);

    for (int i = 0; i < N_CONFIGS; i++) {
        long_stream_close(&longs[i]);
        clip_stream_close(&clips[i]);
    }
    assert_int_equal(allocations, 0);                 /* pushes, flushes, resets: none */
    assert_int_equal(counts.n_live, 0);               /* every block given back */
    assert_true(live_after_warmup > 0);               /* the hook did see the plans */
    assert_true(rss_growth < 256);                    /* flat: under 256 KiB of drift */
    assert_true(checked > 100 && clip_count >= N_CONFIGS * 3);
    assert_int_equal(counts.bad_frees, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_soak)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
