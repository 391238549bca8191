/* melspec-bench: the benchmark cases of DESIGN.md on every backend this build and machine have.
 *
 * Each (case, backend) pair makes one plan, warms it up, then times many calls (CLOCK_MONOTONIC
 * on the host; CUDA events for device pointers), rotating among several input buffers so that
 * no call finds its input in the cache because the previous call read the same one. It prints
 * medians, p99 and seconds of audio per second as a table (--json: as JSON). --verify checks
 * CPU results against a float64 direct-DFT reference and GPU results against the CPU backend,
 * with the tests' comparison code (tests/support/compare.c, reference.c); the run then exits 1
 * when any check fails. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_gpu.h"
#include "compare.h"
#include "melspec.h"
#include "melspec_cuda.h"
#include "presets.h"
#include "reference.h"



#ifndef MELSPEC_BENCH_FFT
#define MELSPEC_BENCH_FFT "unknown"
#endif

/* Normalized max error allowed: the CPU against the float64 reference is a float32 FFT's error
 * (tests/unit/test_fft.c holds the FFT to 2e-6; here with the filterbank sum and |X|^power on
 * top); the CPU's own paths (batch, stream) must match exactly; the GPU computes its FFT in
 * another order (cuFFT) and is held to float32 accuracy of the largest values against the CPU,
 * with margin (tests/gpu/test_cuda.c holds it to ~1e-6). Decibels are compared in dB with the
 * clamp (compare.h), DB_TOLERANCE being the rounding of the dB values themselves. */
#define REFERENCE_TOLERANCE 1e-5
#define CPU_TOLERANCE 0.0
#define GPU_TOLERANCE 1e-4
#define DB_TOLERANCE 1e-3

/* ---- cases --------------------------------------------------------------------------------- */

typedef enum case_kind { CASE_OFFLINE, CASE_STREAM, CASE_CQT } case_kind;

typedef struct bench_case {
    const char *name;
    case_kind kind;
    double sample_rate;
    double seconds, quick_seconds;   /* per signal (stream: the signal pushed hop by hop) */
    int64_t n_signals, quick_signals;
    void (*configure)(melspec_config *config);
    const char *description;
} bench_case;

/* The DESIGN.md configurations, defined once with the command's presets. */
static void stream_config(melspec_config *c)
{
    cli_preset_realtime(c);
    c->layout = MELSPEC_LAYOUT_FRAMES_MAJOR; /* what a stream's consumer reads */
}

static void ccmusic_config(melspec_config *c)
{
    cli_cqt_options cqt;
    cli_preset_ccmusic_cqt(c, &cqt);
}

static const bench_case cases[] = {
    {"realtime", CASE_OFFLINE, 16000.0, 1.0, 0.1, 1, 1, cli_preset_realtime,
     "1 s @ 16 kHz per call; n_fft 800, hop 200, 80 mels, 55-7600 Hz, power 1"},
    {"stream", CASE_STREAM, 16000.0, 10.0, 0.1, 1, 1, stream_config,
     "one hop (200 samples) per push; realtime config, streaming API"},
    {"streams", CASE_STREAM, 16000.0, 10.0, 0.1, 1024, 16, stream_config,
     "1024 streams, one hop (200 samples) each per step (one push_many); realtime config"},
    {"whisper", CASE_OFFLINE, 16000.0, 30.0, 0.5, 1, 1, cli_preset_whisper,
     "30 s @ 16 kHz; n_fft 400, hop 160, 80 mels, reflect, power_to_db"},
    {"music", CASE_OFFLINE, 22050.0, 60.0, 1.0, 1, 1, cli_preset_librosa,
     "60 s @ 22.05 kHz; librosa defaults (n_fft 2048, hop 512, 128 mels, power 2)"},
    {"cqt", CASE_CQT, 22050.0, 30.0, 1.0, 1, 1, ccmusic_config,
     "30 s @ 22.05 kHz; hop 512, 84 bins from C1, 12 per octave, amplitude dB (ref max)"},
    {"batch", CASE_OFFLINE, 16000.0, 10.0, 0.25, 64, 4, cli_preset_realtime,
     "64 clips x 10 s @ 16 kHz per call; realtime config"},
};
#define N_CASES (sizeof cases / sizeof cases[0])

typedef enum bench_mode { MODE_CPU = 0, MODE_CUDA_HOST, MODE_CUDA_DEVICE, N_MODES } bench_mode;
static const char *const mode_names[N_MODES] = {"cpu", "cuda-host", "cuda-device"};

/* ---- settings and results ------------------------------------------------------------------ */

typedef struct bench_settings {
    int quick, verify, json;
    unsigned case_mask;  /* bit i: cases[i] */
    unsigned mode_mask;  /* bit m: bench_mode m */
    double warmup_seconds, min_seconds, max_seconds;
    int64_t min_calls, max_calls;
} bench_settings;

typedef struct bench_result {
    const bench_case *bcase;
    bench_mode mode;
    int measured;
    char note[200];
    int64_t calls;
    double first_call, median, p99, mean;
    double audio_seconds_per_call;
    int verified; /* -1 not checked, 0 failed, 1 passed */
    double verify_error;
} bench_result;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- timing -------------------------------------------------------------------------------- */

/* One timed call: iteration picks the input buffer; returns 0 and the call's seconds. */
typedef int (*timed_call)(void *context, int64_t iteration, double *seconds);

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int measure(const bench_settings *s, timed_call call, void *context, bench_result *r)
{
    double seconds;
    if (call(context, 0, &seconds) != 0) return -1;
    r->first_call = seconds; /* includes one-time work: graph capture, page faults */
    if (s->quick) {
        r->calls = 1;
        r->median = r->p99 = r->mean = seconds;
        return 0;
    }
    int64_t iteration = 1;
    const double warm_start = now_seconds();
    while (now_seconds() - warm_start < s->warmup_seconds)
        if (call(context, iteration++, &seconds) != 0) return -1;

    double *samples = malloc((size_t)s->max_calls * sizeof *samples);
    if (samples == NULL) return -1;
    int64_t n = 0;
    const double start = now_seconds();
    while (n < s->max_calls) {
        if (call(context, iteration++, &seconds) != 0) {
            free(samples);
            return -1;
        }
        samples[n++] = seconds;
        const double elapsed = now_seconds() - start;
        if (n >= s->min_calls && elapsed >= s->min_seconds) break;
        if (n >= 3 && elapsed >= s->max_seconds) break;
    }
    qsort(samples, (size_t)n, sizeof *samples, compare_doubles);
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += samples[i];
    r->calls = n;
    r->median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
    /* nearest rank: the smallest sample with at least 99% of the samples at or below it */
    int64_t rank = (int64_t)ceil(0.99 * (double)n);
    r->p99 = samples[(rank < 1 ? 1 : rank) - 1];
    r->mean = sum / (double)n;
    free(samples);
    return 0;
}

/* ---- inputs -------------------------------------------------------------------------------- */

/* Tones, a sweep and noise, different for every seed; never silent. */
static void fill_signal(float *x, int64_t n, double sample_rate, uint32_t seed)
{
    uint32_t state = 0x9E3779B9u ^ (seed * 2654435761u);
    const double pi = 3.14159265358979323846;
    for (int64_t i = 0; i < n; i++) {
        const double t = (double)(i % (int64_t)(10.0 * sample_rate)) / sample_rate;
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        const double noise = (double)state / 4294967296.0 - 0.5;
        x[i] = (float)(0.3 * sin(2 * pi * (220.0 + 10.0 * seed) * t) +
                       0.2 * sin(2 * pi * 300.0 * t * t) + 0.1 * noise);
    }
}

/* Rotation: as many buffers as fit in 128 MiB, between 2 and 8. */
static int rotation_count(size_t input_bytes)
{
    const size_t budget = (size_t)128 << 20;
    size_t k = input_bytes > 0 ? budget / input_bytes : 8;
    return (int)(k < 2 ? 2 : k > 8 ? 8 : k);
}

/* ---- offline cases ------------------------------------------------------------------------- */

typedef struct offline_context {
    melspec_plan *plan;
    bench_mode mode;
    bench_gpu *gpu;
    int n_inputs;
    float **inputs;        /* host buffers */
    float **device_inputs; /* device buffers (MODE_CUDA_DEVICE) */
    void *output;          /* host, or device for MODE_CUDA_DEVICE */
    int64_t n_signals, n_samples;
    size_t output_bytes;
} offline_context;

static int offline_call(void *context, int64_t iteration, double *seconds)
{
    offline_context *c = context;
    const int which = (int)(iteration % c->n_inputs);
    melspec_status status;
    if (c->mode == MODE_CUDA_DEVICE) {
        if (bench_gpu_timer_start(c->gpu) != 0) return -1;
        status = melspec_execute_device(c->plan, c->device_inputs[which], c->n_signals,
                                        c->n_samples, c->output, c->output_bytes);
        if (bench_gpu_timer_stop(c->gpu, seconds) != 0) return -1;
    } else {
        const double start = now_seconds();
        status = melspec_execute(c->plan, c->inputs[which], c->n_signals, c->n_samples,
                                 c->output, c->output_bytes);
        *seconds = now_seconds() - start;
    }
    if (status != MELSPEC_OK) {
        fprintf(stderr, "melspec-bench: execute: %s\n", melspec_plan_last_error(c->plan));
        return -1;
    }
    return 0;
}

static melspec_status make_plan(const bench_case *bc, melspec_backend backend, int64_t n_signals,
                                int64_t n_samples, melspec_plan **plan, char *why, size_t cap)
{
    melspec_config config;
    cli_cqt_options cqt;
    if (bc->kind == CASE_CQT) {
        cli_preset_ccmusic_cqt(&config, &cqt);
    } else {
        melspec_config_init(&config);
        bc->configure(&config);
    }
    config.backend = backend;
    config.max_batch = n_signals;
    config.max_samples = n_samples;
    if (bc->kind == CASE_CQT) return cli_cqt_plan_create(plan, &config, &cqt, why, cap);
    return melspec_plan_create(plan, &config, why, cap);
}

/* The result for inputs[0] computed by the backend under test, into host memory. */
static int offline_result(offline_context *c, float *host_output)
{
    if (c->mode == MODE_CUDA_DEVICE) {
        if (bench_gpu_upload(c->gpu, c->device_inputs[0], c->inputs[0],
                             (size_t)(c->n_signals * c->n_samples) * sizeof(float)) != 0)
            return -1;
        if (melspec_execute_device(c->plan, c->device_inputs[0], c->n_signals, c->n_samples,
                                   c->output, c->output_bytes) != MELSPEC_OK)
            return -1;
        return bench_gpu_download(c->gpu, host_output, c->output, c->output_bytes);
    }
    return melspec_execute(c->plan, c->inputs[0], c->n_signals, c->n_samples, host_output,
                           c->output_bytes) == MELSPEC_OK
               ? 0
               : -1;
}

/* MELSPEC_BENCH_PERTURB=1 moves one value of the result under test by 1e-3 of the largest
 * magnitude before it is verified: the self-test (ctest bench_quick_detects_a_wrong_value)
 * that --verify can fail and that a failure makes the exit code non-zero. */
static void perturb_for_self_test(float *values, size_t n)
{
    const char *flag = getenv("MELSPEC_BENCH_PERTURB");
    if (flag == NULL || strcmp(flag, "1") != 0 || n == 0) return;
    double peak = 0.0;
    for (size_t i = 0; i < n; i++) peak = fmax(peak, fabs((double)values[i]));
    values[n / 2] += (float)(1e-3 * peak);
}

/* The dB factor of a scaling (0: not decibels). */
static double decibel_factor(const melspec_config *config)
{
    if (config->scaling == MELSPEC_SCALING_POWER_TO_DB) return 10.0;
    if (config->scaling == MELSPEC_SCALING_AMPLITUDE_TO_DB) return 20.0;
    return 0.0;
}

/* got against want, n_clips contiguous clips: decibels in dB with the clamp (compare.h),
 * anything else by normalized error; tolerance is the normalized (linear-domain) one. */
static int agree(const melspec_config *config, const float *got, const float *want, size_t n,
                 int64_t n_clips, double tolerance, double *error)
{
    const double factor = decibel_factor(config);
    if (factor > 0.0) {
        const compare_db_result cmp = compare_decibels(got, want, n, (size_t)n_clips, factor,
                                                       config->top_db, tolerance, DB_TOLERANCE);
        *error = cmp.max_abs_error_db;
        return compare_decibels_ok(&cmp);
    }
    const compare_result cmp = compare_floats(got, want, n);
    *error = cmp.normalized_error;
    return compare_ok(&cmp, tolerance);
}

/* The float64 reference (tests/support/reference.c) for every signal of inputs[0]: the plan's
 * own window and filterbank, everything else recomputed in double. Returns 0 or -1. */
static int reference_output(melspec_plan *plan, const float *input, int64_t n_signals,
                            int64_t n_samples, double *out, size_t n_values)
{
    melspec_config c;
    if (melspec_plan_config(plan, &c) != MELSPEC_OK) return -1;
    const int64_t n_freq = 1 + c.n_fft / 2;
    float *window = malloc((size_t)c.n_fft * sizeof *window);
    float *filterbank = c.transform == MELSPEC_TRANSFORM_MEL
                            ? malloc((size_t)(c.n_mels * n_freq) * sizeof *filterbank)
                            : NULL;
    int status = -1;
    if (window == NULL || c.transform == MELSPEC_TRANSFORM_STFT ||
        (c.transform == MELSPEC_TRANSFORM_MEL && filterbank == NULL) ||
        melspec_plan_window(plan, window, (size_t)c.n_fft * sizeof *window) != MELSPEC_OK ||
        (filterbank != NULL &&
         melspec_plan_mel_filterbank(plan, filterbank, (size_t)(c.n_mels * n_freq) * sizeof *filterbank) !=
             MELSPEC_OK))
        goto done;
    const reference_params p = {
        .n_fft = c.n_fft, .hop_length = c.hop_length, .center = c.center, .pad_mode = c.pad_mode,
        .power = c.power, .window = window, .filterbank = filterbank, .n_bins = c.n_mels,
        .scaling = c.scaling, .ref_is_max = c.ref_mode == MELSPEC_REF_MAX, .ref = c.ref,
        .amin = c.amin, .top_db = c.top_db, .log_offset = c.log_offset,
        .frames_major = c.layout == MELSPEC_LAYOUT_FRAMES_MAJOR};
    const size_t per_signal = n_values / (size_t)n_signals;
    const int64_t n_bins = filterbank != NULL ? c.n_mels : n_freq;
    if ((size_t)(n_bins * reference_n_frames(&p, n_samples)) != per_signal) goto done;
    status = 0;
    for (int64_t i = 0; i < n_signals && status == 0; i++)
        status = reference_spectrogram(&p, input + i * n_samples, n_samples,
                                       out + (size_t)i * per_signal);
done:
    free(window);
    free(filterbank);
    return status;
}

/* CPU rows against the float64 reference, and a CPU batch also against its signals one by one
 * (exactly); GPU rows against a CPU plan on the same input. The constant-Q transform has no
 * float64 oracle here: its CPU rows are checked against librosa's fixtures by
 * tests/golden/test_cqt.c, and only its GPU rows are verified. */
static void verify_offline(const bench_case *bc, offline_context *c, bench_result *r)
{
    const size_t n_floats = c->output_bytes / sizeof(float);
    float *got = malloc(c->output_bytes), *want = malloc(c->output_bytes);
    double *exact = NULL;
    melspec_plan *reference = NULL;
    melspec_config config;
    char why[256];
    r->verified = 0;
    r->verify_error = INFINITY;
    if (c->mode == MODE_CPU && bc->kind == CASE_CQT) {
        r->verified = -1;
        snprintf(r->note, sizeof r->note, "CPU CQT: librosa fixtures (tests/golden/test_cqt.c)");
        goto done;
    }
    if (got == NULL || want == NULL || melspec_plan_config(c->plan, &config) != MELSPEC_OK ||
        offline_result(c, got) != 0) {
        snprintf(r->note, sizeof r->note, "verify: could not compute");
        goto done;
    }
    perturb_for_self_test(got, n_floats);
    int ok;
    double worst;
    if (c->mode == MODE_CPU) {
        exact = malloc(n_floats * sizeof *exact);
        if (exact == NULL ||
            reference_output(c->plan, c->inputs[0], c->n_signals, c->n_samples, exact,
                             n_floats) != 0) {
            snprintf(r->note, sizeof r->note, "verify: float64 reference failed");
            goto done;
        }
        for (size_t i = 0; i < n_floats; i++) want[i] = (float)exact[i];
        ok = agree(&config, got, want, n_floats, c->n_signals, REFERENCE_TOLERANCE, &worst);
    } else {
        if (make_plan(bc, MELSPEC_BACKEND_CPU, c->n_signals, c->n_samples, &reference, why,
                      sizeof why) != MELSPEC_OK ||
            melspec_execute(reference, c->inputs[0], c->n_signals, c->n_samples, want,
                            c->output_bytes) != MELSPEC_OK) {
            snprintf(r->note, sizeof r->note, "verify: could not compute");
            goto done;
        }
        ok = agree(&config, got, want, n_floats, c->n_signals, GPU_TOLERANCE, &worst);
    }
    if (ok && c->mode == MODE_CPU && c->n_signals > 1) {
        /* A batch gives the same numbers as its signals one by one. */
        const size_t per_signal = n_floats / (size_t)c->n_signals;
        for (int64_t i = 0; i < c->n_signals && ok; i++) {
            if (melspec_execute(c->plan, c->inputs[0] + i * c->n_samples, 1, c->n_samples, want,
                                per_signal * sizeof(float)) != MELSPEC_OK) {
                ok = 0;
                break;
            }
            const compare_result cmp =
                compare_floats(got + (size_t)i * per_signal, want, per_signal);
            ok = compare_ok(&cmp, 0.0);
        }
    }
    r->verified = ok;
    r->verify_error = worst;
done:
    melspec_plan_destroy(reference);
    free(got);
    free(want);
    free(exact);
}

static void run_offline(const bench_settings *s, const bench_case *bc, bench_mode mode,
                        bench_gpu *gpu, bench_result *r)
{
    const int64_t n_signals = s->quick ? bc->quick_signals : bc->n_signals;
    const int64_t n_samples =
        (int64_t)llround((s->quick ? bc->quick_seconds : bc->seconds) * bc->sample_rate);
    const size_t input_floats = (size_t)(n_signals * n_samples);
    offline_context c = {.mode = mode, .gpu = gpu, .n_signals = n_signals, .n_samples = n_samples};
    char why[512];
    r->audio_seconds_per_call = (double)input_floats / bc->sample_rate;

    const melspec_backend backend = mode == MODE_CPU ? MELSPEC_BACKEND_CPU : MELSPEC_BACKEND_CUDA;
    if (make_plan(bc, backend, n_signals, n_samples, &c.plan, why, sizeof why) != MELSPEC_OK) {
        snprintf(r->note, sizeof r->note, "plan: %.180s", why);
        return;
    }
    if (mode == MODE_CUDA_DEVICE && melspec_plan_set_cuda_stream(c.plan, bench_gpu_stream(gpu)) != MELSPEC_OK) {
        snprintf(r->note, sizeof r->note, "set_stream: %s", melspec_plan_last_error(c.plan));
        goto done;
    }
    if (melspec_plan_output_bytes(c.plan, n_signals, n_samples, &c.output_bytes) != MELSPEC_OK) {
        snprintf(r->note, sizeof r->note, "%s", melspec_plan_last_error(c.plan));
        goto done;
    }
    c.n_inputs = s->quick ? 1 : rotation_count(input_floats * sizeof(float));
    c.inputs = calloc((size_t)c.n_inputs, sizeof *c.inputs);
    c.device_inputs = calloc((size_t)c.n_inputs, sizeof *c.device_inputs);
    if (c.inputs == NULL || c.device_inputs == NULL) goto out_of_memory;
    for (int i = 0; i < c.n_inputs; i++) {
        c.inputs[i] = malloc(input_floats * sizeof(float));
        if (c.inputs[i] == NULL) goto out_of_memory;
        fill_signal(c.inputs[i], (int64_t)input_floats, bc->sample_rate, (uint32_t)i + 1);
        if (mode == MODE_CUDA_DEVICE) {
            c.device_inputs[i] = bench_gpu_malloc(gpu, input_floats * sizeof(float));
            if (c.device_inputs[i] == NULL ||
                bench_gpu_upload(gpu, c.device_inputs[i], c.inputs[i],
                                 input_floats * sizeof(float)) != 0)
                goto out_of_memory;
        }
    }
    c.output = mode == MODE_CUDA_DEVICE ? bench_gpu_malloc(gpu, c.output_bytes)
                                        : malloc(c.output_bytes);
    if (c.output == NULL) goto out_of_memory;

    if (measure(s, offline_call, &c, r) != 0) {
        snprintf(r->note, sizeof r->note, "execute failed: %s", melspec_plan_last_error(c.plan));
        goto done;
    }
    r->measured = 1;
    if (s->verify) verify_offline(bc, &c, r);
    goto done;

out_of_memory:
    snprintf(r->note, sizeof r->note, "out of %s memory",
             mode == MODE_CUDA_DEVICE ? "device or host" : "host");
done:
    for (int i = 0; c.inputs != NULL && i < c.n_inputs; i++) {
        free(c.inputs[i]);
        if (c.device_inputs != NULL) bench_gpu_free(gpu, c.device_inputs[i]);
    }
    free(c.inputs);
    free(c.device_inputs);
    if (mode == MODE_CUDA_DEVICE) {
        bench_gpu_free(gpu, c.output);
    } else {
        free(c.output);
    }
    melspec_plan_destroy(c.plan);
}

/* ---- the stream case ----------------------------------------------------------------------- */

typedef struct stream_context {
    melspec_plan *plan;
    melspec_stream *stream; /* streams[0] */
    /* the multi-stream case: n_streams streams, each pushed one hop per step in one
     * melspec_stream_push_many (stream i reads the signal from a different offset) */
    int64_t n_streams;
    melspec_stream **streams;
    const float **chunks;
    int64_t *lengths, *counts;
    void **outs;
    size_t *rooms;
    float *signal;
    int64_t n_samples, hop, position;
    float *frames;
    int64_t frame_capacity; /* frames */
    size_t frame_bytes;     /* bytes of one frame */
} stream_context;

static int stream_call(void *context, int64_t iteration, double *seconds)
{
    (void)iteration;
    stream_context *c = context;
    int64_t n_frames = 0;
    if (c->position + c->hop + c->n_streams > c->n_samples) {
        /* End of the signal: finish it and start again, outside the timed part. */
        for (int64_t i = 0; i < c->n_streams; i++)
            if (melspec_stream_flush(c->streams[i], c->frames, (size_t)c->frame_capacity * c->frame_bytes, &n_frames) !=
                    MELSPEC_OK ||
                melspec_stream_reset(c->streams[i]) != MELSPEC_OK)
                return -1;
        c->position = 0;
    }
    melspec_status status;
    double start;
    if (c->n_streams > 1) {
        for (int64_t i = 0; i < c->n_streams; i++) c->chunks[i] = c->signal + c->position + i;
        start = now_seconds();
        status = melspec_stream_push_many(c->streams, c->n_streams, c->chunks, c->lengths,
                                          c->outs, c->rooms, c->counts);
    } else {
        start = now_seconds();
        status = melspec_stream_push(c->stream, c->signal + c->position, c->hop, c->frames,
                                     (size_t)c->frame_capacity * c->frame_bytes, &n_frames);
    }
    *seconds = now_seconds() - start;
    c->position += c->hop;
    return status == MELSPEC_OK ? 0 : -1;
}

/* The frames of the whole signal pushed hop by hop against the float64 reference
 * (tests/support/reference.c), as the offline CPU rows are, to the reference tolerance on the
 * CPU and the GPU's on the GPU; on the CPU also bit for bit against melspec_execute of the same
 * plan, which streams promise there. */
static void verify_stream(stream_context *c, bench_mode mode, bench_result *r)
{
    melspec_config config;
    int64_t n_bins = 0, n_frames = 0;
    float *want = NULL, *got = NULL;
    double *exact = NULL;
    r->verified = 0;
    r->verify_error = INFINITY;
    if (melspec_plan_config(c->plan, &config) != MELSPEC_OK ||
        melspec_plan_output_shape(c->plan, c->n_samples, &n_bins, &n_frames) != MELSPEC_OK)
        goto done;
    const size_t n_values = (size_t)(n_bins * n_frames);
    want = malloc(n_values * sizeof *want);
    got = malloc((size_t)(n_bins * (n_frames + c->frame_capacity)) * sizeof *got);
    exact = malloc(n_values * sizeof *exact);
    if (want == NULL || got == NULL || exact == NULL ||
        melspec_stream_reset(c->stream) != MELSPEC_OK)
        goto done;
    int64_t emitted = 0, n = 0;
    for (int64_t at = 0; at < c->n_samples; at += c->hop) {
        const int64_t length = c->n_samples - at < c->hop ? c->n_samples - at : c->hop;
        if (emitted + c->frame_capacity > n_frames + c->frame_capacity ||
            melspec_stream_push(c->stream, c->signal + at, length, got + emitted * n_bins,
                                (size_t)c->frame_capacity * c->frame_bytes, &n) != MELSPEC_OK)
            goto done;
        emitted += n;
    }
    for (;;) {
        if (melspec_stream_flush(c->stream, got + emitted * n_bins,
                                 (size_t)c->frame_capacity * c->frame_bytes, &n) != MELSPEC_OK)
            goto done;
        emitted += n;
        if (n < c->frame_capacity) break;
    }
    if (emitted != n_frames) {
        snprintf(r->note, sizeof r->note, "verify: stream emitted %lld frames, offline %lld",
                 (long long)emitted, (long long)n_frames);
        goto done;
    }
    perturb_for_self_test(got, n_values);
    if (reference_output(c->plan, c->signal, 1, c->n_samples, exact, n_values) != 0) {
        snprintf(r->note, sizeof r->note, "verify: float64 reference failed");
        goto done;
    }
    for (size_t i = 0; i < n_values; i++) want[i] = (float)exact[i];
    double worst;
    int ok = agree(&config, got, want, n_values, 1,
                   mode == MODE_CPU ? REFERENCE_TOLERANCE : GPU_TOLERANCE, &worst);
    if (ok && mode == MODE_CPU) {
        if (melspec_execute(c->plan, c->signal, 1, c->n_samples, want,
                            n_values * sizeof *want) != MELSPEC_OK) {
            snprintf(r->note, sizeof r->note, "verify: could not compute");
            ok = 0;
        } else {
            const compare_result cmp = compare_floats(got, want, n_values);
            ok = compare_ok(&cmp, CPU_TOLERANCE);
            if (!ok) snprintf(r->note, sizeof r->note, "verify: stream differs from execute");
        }
    }
    r->verified = ok;
    r->verify_error = worst;
done:
    free(want);
    free(got);
    free(exact);
}

static void run_stream(const bench_settings *s, const bench_case *bc, bench_mode mode,
                       bench_result *r)
{
    if (mode == MODE_CUDA_DEVICE) {
        snprintf(r->note, sizeof r->note, "streams take host samples");
        return;
    }
    stream_context c;
    memset(&c, 0, sizeof c);
    char why[512];
    c.n_samples = (int64_t)llround((s->quick ? bc->quick_seconds : bc->seconds) * bc->sample_rate);
    const melspec_backend backend = mode == MODE_CPU ? MELSPEC_BACKEND_CPU : MELSPEC_BACKEND_CUDA;
    if (make_plan(bc, backend, 1, c.n_samples, &c.plan, why, sizeof why) != MELSPEC_OK) {
        snprintf(r->note, sizeof r->note, "plan: %.180s", why);
        return;
    }
    melspec_config config;
    melspec_plan_config(c.plan, &config);
    c.hop = config.hop_length;
    r->audio_seconds_per_call = (double)c.hop / bc->sample_rate;
    c.n_streams = s->quick ? bc->quick_signals : bc->n_signals;
    c.streams = calloc((size_t)c.n_streams, sizeof *c.streams);
    c.chunks = calloc((size_t)c.n_streams, sizeof *c.chunks);
    c.lengths = calloc((size_t)c.n_streams, sizeof *c.lengths);
    c.counts = calloc((size_t)c.n_streams, sizeof *c.counts);
    c.outs = calloc((size_t)c.n_streams, sizeof *c.outs);
    c.rooms = calloc((size_t)c.n_streams, sizeof *c.rooms);
    melspec_status status = c.streams != NULL && c.chunks != NULL && c.lengths != NULL &&
                                    c.counts != NULL && c.outs != NULL && c.rooms != NULL
                                ? MELSPEC_OK
                                : MELSPEC_ERROR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < c.n_streams && status == MELSPEC_OK; i++)
        status = melspec_stream_create(&c.streams[i], c.plan);
    if (status != MELSPEC_OK) {
        snprintf(r->note, sizeof r->note, "stream: %s", melspec_plan_last_error(c.plan));
        goto cleanup;
    }
    c.stream = c.streams[0];
    /* the multi-stream case reports one step (all streams) per call; --verify checks streams[0]
     * alone (one push per hop), not the many-stream step (tests/gpu/test_cuda_stream.c does) */
    r->audio_seconds_per_call = (double)(c.n_streams * c.hop) / bc->sample_rate;
    int64_t n_bins, n_frames;
    melspec_plan_output_shape(c.plan, c.n_samples, &n_bins, &n_frames);
    c.frame_capacity = 8 + c.hop / config.hop_length + config.n_fft / config.hop_length;
    melspec_stream_frame_bytes(c.stream, &c.frame_bytes);
    c.signal = malloc((size_t)(c.n_samples + c.n_streams) * sizeof *c.signal);
    c.frames = malloc((size_t)(c.frame_capacity * n_bins * c.n_streams) * sizeof *c.frames);
    if (c.signal != NULL && c.frames != NULL)
        for (int64_t i = 0; i < c.n_streams; i++) {
            c.lengths[i] = c.hop;
            c.outs[i] = c.frames + i * c.frame_capacity * n_bins;
            c.rooms[i] = (size_t)c.frame_capacity * c.frame_bytes;
        }
    if (c.signal == NULL || c.frames == NULL) {
        snprintf(r->note, sizeof r->note, "out of memory");
    } else {
        fill_signal(c.signal, c.n_samples + c.n_streams, bc->sample_rate, 7);
        if (measure(s, stream_call, &c, r) != 0) {
            snprintf(r->note, sizeof r->note, "push failed: %s", melspec_plan_last_error(c.plan));
        } else {
            r->measured = 1;
            if (s->verify) verify_stream(&c, mode, r);
        }
    }
    free(c.signal);
    free(c.frames);
cleanup:
    for (int64_t i = 0; c.streams != NULL && i < c.n_streams; i++)
        melspec_stream_destroy(c.streams[i]);
    free(c.streams);
    free(c.chunks);
    free(c.lengths);
    free(c.counts);
    free(c.outs);
    free(c.rooms);
    melspec_plan_destroy(c.plan);
}

/* ---- output -------------------------------------------------------------------------------- */

static void format_time(double seconds, char *text, size_t capacity)
{
    if (seconds < 1e-3) {
        snprintf(text, capacity, "%.1f us", seconds * 1e6);
    } else if (seconds < 1.0) {
        snprintf(text, capacity, "%.3f ms", seconds * 1e3);
    } else {
        snprintf(text, capacity, "%.3f s", seconds);
    }
}

static void machine_description(char *cpu, size_t capacity)
{
    snprintf(cpu, capacity, "unknown CPU");
    FILE *file = fopen("/proc/cpuinfo", "r");
    if (file == NULL) return;
    char line[512];
    while (fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *colon = strchr(line, ':');
        if (colon == NULL) continue;
        colon++;
        while (*colon == ' ') colon++;
        snprintf(cpu, capacity, "%s", colon);
        cpu[strcspn(cpu, "\n")] = '\0';
        break;
    }
    fclose(file);
}

static void print_table(const bench_result *results, size_t n, const char *cpu, const char *gpu,
                        int verify)
{
    printf("melspec-bench %s (FFT %s), CPU: %s (%ld online), GPU: %s\n\n",
           melspec_version_string(), MELSPEC_BENCH_FFT, cpu, sysconf(_SC_NPROCESSORS_ONLN),
           gpu[0] ? gpu : "none");
    printf("| case | backend | calls | median | p99 | first call | audio s/s |%s note |\n",
           verify ? " verify |" : "");
    printf("|---|---|--:|--:|--:|--:|--:|%s---|\n", verify ? "---|" : "");
    for (size_t i = 0; i < n; i++) {
        const bench_result *r = &results[i];
        printf("| %s | %s |", r->bcase->name, mode_names[r->mode]);
        if (r->measured) {
            char median[32], p99[32], first[32];
            format_time(r->median, median, sizeof median);
            format_time(r->p99, p99, sizeof p99);
            format_time(r->first_call, first, sizeof first);
            printf(" %lld | %s | %s | %s | %.0f |", (long long)r->calls, median, p99, first,
                   r->audio_seconds_per_call / r->median);
        } else {
            printf(" - | - | - | - | - |");
        }
        if (verify && r->verified < 0) printf(" - |");
        if (verify && r->verified >= 0)
            printf(" %s (%.2g) |", r->verified ? "ok" : "FAIL", r->verify_error);
        printf(" %s |\n", r->note);
    }
    printf("\nCases:\n");
    for (size_t i = 0; i < N_CASES; i++) printf("  %-9s %s\n", cases[i].name, cases[i].description);
}

static void print_json_string(const char *text)
{
    putchar('"');
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            printf("\\%c", *p);
        } else if ((unsigned char)*p < 0x20) {
            printf("\\u%04x", (unsigned)(unsigned char)*p);
        } else {
            putchar(*p);
        }
    }
    putchar('"');
}

static void print_json(const bench_result *results, size_t n, const char *cpu, const char *gpu,
                       const bench_settings *s)
{
    printf("{\n  \"melspec_version\": ");
    print_json_string(melspec_version_string());
    printf(",\n  \"fft\": ");
    print_json_string(MELSPEC_BENCH_FFT);
    printf(",\n  \"cpu\": ");
    print_json_string(cpu);
    printf(",\n  \"gpu\": ");
    print_json_string(gpu);
    printf(",\n  \"quick\": %s,\n  \"results\": [\n", s->quick ? "true" : "false");
    for (size_t i = 0; i < n; i++) {
        const bench_result *r = &results[i];
        printf("    {\"case\": \"%s\", \"backend\": \"%s\", \"measured\": %s", r->bcase->name,
               mode_names[r->mode], r->measured ? "true" : "false");
        if (r->measured) {
            printf(", \"calls\": %lld, \"median_s\": %.9g, \"p99_s\": %.9g, \"mean_s\": %.9g, "
                   "\"first_call_s\": %.9g, \"audio_seconds_per_call\": %.9g, "
                   "\"audio_seconds_per_second\": %.9g",
                   (long long)r->calls, r->median, r->p99, r->mean, r->first_call,
                   r->audio_seconds_per_call, r->audio_seconds_per_call / r->median);
        }
        if (r->verified >= 0)
            printf(", \"verified\": %s, \"verify_error\": %.9g", r->verified ? "true" : "false",
                   isfinite(r->verify_error) ? r->verify_error : -1.0);
        printf(", \"note\": ");
        print_json_string(r->note);
        printf("}%s\n", i + 1 < n ? "," : "");
    }
    printf("  ]\n}\n");
}

/* ---- the command --------------------------------------------------------------------------- */

static void usage(FILE *to)
{
    fprintf(to,
            "Usage: melspec-bench [OPTIONS]\n"
            "\n"
            "Times the benchmark cases of DESIGN.md on the CPU and, when a CUDA device is\n"
            "present, on the GPU (host pointers, device pointers with graph replay).\n"
            "\n"
            "  --case LIST       cases to run, comma-separated (default all):\n"
            "                    realtime, stream, streams, whisper, music, cqt, batch\n"
            "  --backend LIST    cpu, cuda-host, cuda-device, cuda (both), all (default)\n"
            "  --quick           each case once at tiny sizes (CI smoke test, no timing)\n"
            "  --verify          check CPU results against a float64 reference, GPU results\n"
            "                    against the CPU backend (tests/support); exit 1 on a failure\n"
            "  --json            JSON instead of a table\n"
            "  --min-time S      measure each case for at least S seconds (default 1)\n"
            "  --max-time S      stop a case after S seconds once it has 3 calls (default 10)\n"
            "  --min-calls N     at least N timed calls per case (default 20)\n"
            "  --max-calls N     at most N timed calls per case (default 100000)\n"
            "  --warmup S        untimed calls for S seconds first (default 0.2)\n"
            "  -h, --help        this help\n");
}

static int parse_list(const char *text, const char *const *names, size_t n_names,
                      unsigned *mask)
{
    char buffer[256];
    snprintf(buffer, sizeof buffer, "%s", text);
    *mask = 0;
    for (char *item = strtok(buffer, ","); item != NULL; item = strtok(NULL, ",")) {
        size_t i = 0;
        while (i < n_names && strcmp(item, names[i]) != 0) i++;
        if (i == n_names) {
            fprintf(stderr, "melspec-bench: unknown name '%s'\n", item);
            return -1;
        }
        *mask |= 1u << i;
    }
    return 0;
}

static int parse_arguments(int argc, char **argv, bench_settings *s)
{
    const char *case_names[N_CASES];
    for (size_t i = 0; i < N_CASES; i++) case_names[i] = cases[i].name;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(arg, "--quick") == 0) {
            s->quick = 1;
        } else if (strcmp(arg, "--verify") == 0) {
            s->verify = 1;
        } else if (strcmp(arg, "--json") == 0) {
            s->json = 1;
        } else if (value == NULL) {
            fprintf(stderr, "melspec-bench: %s: unknown option or missing value\n", arg);
            return -1;
        } else if (strcmp(arg, "--case") == 0) {
            if (parse_list(value, case_names, N_CASES, &s->case_mask) != 0) return -1;
            i++;
        } else if (strcmp(arg, "--backend") == 0) {
            if (strcmp(value, "all") == 0) {
                s->mode_mask = (1u << N_MODES) - 1;
            } else if (strcmp(value, "cuda") == 0) {
                s->mode_mask = 1u << MODE_CUDA_HOST | 1u << MODE_CUDA_DEVICE;
            } else if (parse_list(value, mode_names, N_MODES, &s->mode_mask) != 0) {
                return -1;
            }
            i++;
        } else if (strcmp(arg, "--min-time") == 0) {
            s->min_seconds = atof(value);
            i++;
        } else if (strcmp(arg, "--max-time") == 0) {
            s->max_seconds = atof(value);
            i++;
        } else if (strcmp(arg, "--warmup") == 0) {
            s->warmup_seconds = atof(value);
            i++;
        } else if (strcmp(arg, "--min-calls") == 0) {
            s->min_calls = atoll(value);
            i++;
        } else if (strcmp(arg, "--max-calls") == 0) {
            s->max_calls = atoll(value);
            i++;
        } else {
            fprintf(stderr, "melspec-bench: unknown option %s\n", arg);
            return -1;
        }
    }
    if (s->min_calls < 1 || s->max_calls < s->min_calls || !(s->min_seconds >= 0.0) ||
        !(s->max_seconds > 0.0) || !(s->warmup_seconds >= 0.0)) {
        fprintf(stderr, "melspec-bench: bad timing limits\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_settings s = {
        .case_mask = (1u << N_CASES) - 1,
        .mode_mask = (1u << N_MODES) - 1,
        .warmup_seconds = 0.2,
        .min_seconds = 1.0,
        .max_seconds = 10.0,
        .min_calls = 20,
        .max_calls = 100000,
    };
    if (parse_arguments(argc, argv, &s) != 0) {
        usage(stderr);
        return 2;
    }
    char cpu[256], gpu_name[256];
    machine_description(cpu, sizeof cpu);
    bench_gpu_device_name(gpu_name, sizeof gpu_name);
    const int have_gpu = melspec_cuda_compiled() && melspec_cuda_device_count() > 0 &&
                         bench_gpu_device_count() > 0;
    bench_gpu *gpu = NULL;
    char why[256] = "";
    if (have_gpu && (s.mode_mask & (1u << MODE_CUDA_DEVICE)) &&
        bench_gpu_open(&gpu, why, sizeof why) != 0)
        fprintf(stderr, "melspec-bench: %s\n", why);

    bench_result results[N_CASES * N_MODES];
    size_t n_results = 0;
    int failures = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        if (!(s.case_mask & (1u << i))) continue;
        for (int m = 0; m < N_MODES; m++) {
            if (!(s.mode_mask & (1u << m))) continue;
            if (m != MODE_CPU && !have_gpu) continue; /* no GPU: CPU rows only */
            bench_result *r = &results[n_results++];
            memset(r, 0, sizeof *r);
            r->bcase = &cases[i];
            r->mode = (bench_mode)m;
            r->verified = -1;
            if (!s.json) {
                fprintf(stderr, "melspec-bench: %s on %s...\n", cases[i].name, mode_names[m]);
            }
            if (m == MODE_CUDA_DEVICE && gpu == NULL) {
                snprintf(r->note, sizeof r->note, "no CUDA stream: %s", why);
            } else if (cases[i].kind == CASE_STREAM) {
                run_stream(&s, &cases[i], (bench_mode)m, r);
            } else {
                run_offline(&s, &cases[i], (bench_mode)m, gpu, r);
            }
            /* A case that should run and did not, or a wrong result, fails the run. */
            if (r->verified == 0) failures++;
            if (!r->measured && m == MODE_CPU && cases[i].kind != CASE_STREAM) failures++;
        }
    }
    bench_gpu_close(gpu);
    if (s.json) {
        print_json(results, n_results, cpu, gpu_name, &s);
    } else {
        print_table(results, n_results, cpu, gpu_name, s.verify);
    }
    return failures > 0 ? 1 : 0;
}
