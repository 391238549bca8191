/*
 * The CUDA backend against the CPU backend (the reference), on random inputs, over the parameter
 * space; exits 77 (skipped) where no CUDA device exists.
 *
 * Accuracy (normalized max error = max |gpu - cpu| / max |cpu| over one call's output):
 *   - linear outputs (MEL, LINEAR, STFT): 1e-6, times the power for power > 1 (|X|^p carries p
 *     times the FFT's relative error).
 *   - dB and log outputs are compared after mapping both back to the linear domain (10^(v/10),
 *     10^(v/20), exp(v)), where the FFT's accuracy is defined: a float32 FFT's error is relative
 *     to the largest bin, so a bin 80 dB down has an error of percents in dB on any float32 FFT.
 *     The tolerance is the linear one plus the float32 rounding inside the scaling (log10f of
 *     the value, and the stored dB value), which the CPU has as much as the GPU.
 *   - the scaling stage alone (GPU unscaled values, scaled on the host by the CPU backend's own
 *     function, against the GPU's scaled output) must agree to 1e-6: only log10f/logf differ.
 *   - float16 / bfloat16 outputs are within half an ulp of the GPU's float32 output.
 * Every output buffer (host and device) is poisoned with NaN before the call and followed by a
 * guard region that must be intact afterwards. An error above its tolerance is reported and the
 * test goes on to the end before failing, so that one run shows every case's error.
 *
 * MELSPEC_CUDA_TEST_QUICK=1 runs a subset (for compute-sanitizer runs); MELSPEC_GPU_REQUIRED=1
 * turns the skip without a device into a failure (scripts/gpu-run.sh).
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
#include <time.h>

#include <cmocka.h>
#include <cuda_runtime_api.h>

#include "cpu/cpu_backend.h"
#include "melspec.h"
#include "melspec_cuda.h"
#include "test_support.h"

#define GUARD_BYTES 256
#define GUARD_BYTE 0xA5
#define POISON_BYTE 0xFF /* all-ones is NaN in float32, float16 and bfloat16 */

static int quick;

/* ---- the parameter space --------------------------------------------------------------------- */

enum { S_NONE = MELSPEC_SCALING_NONE, S_P2DB = MELSPEC_SCALING_POWER_TO_DB,
       S_A2DB = MELSPEC_SCALING_AMPLITUDE_TO_DB, S_LOG = MELSPEC_SCALING_LOG };

typedef struct gpu_case {
    int64_t n_fft;
    int transform, layout, center, pad_mode;
    double power;
    int mel_scale, scaling, ref_mode, top_db_80;
} gpu_case;

#define T_MEL MELSPEC_TRANSFORM_MEL
#define T_LINEAR MELSPEC_TRANSFORM_LINEAR
#define T_STFT MELSPEC_TRANSFORM_STFT
#define L_BINS MELSPEC_LAYOUT_BINS_MAJOR
#define L_FRAMES MELSPEC_LAYOUT_FRAMES_MAJOR
#define PAD_CONSTANT MELSPEC_PAD_CONSTANT
#define PAD_REFLECT MELSPEC_PAD_REFLECT
#define PAD_EDGE MELSPEC_PAD_EDGE
#define SLANEY MELSPEC_MEL_SCALE_SLANEY
#define HTK MELSPEC_MEL_SCALE_HTK
#define R_VALUE MELSPEC_REF_VALUE
#define R_MAX MELSPEC_REF_MAX

/* Every n_fft x transform x layout, the other parameters chosen so that every pair of (transform,
 * pad mode with centring), (transform, power), (transform, scaling), (dB, ref mode, top_db),
 * (n_fft, centring), (n_fft, mel scale) ... occurs. STFT rows ignore power and scaling. */
static const gpu_case cases[] = {
    {400, T_MEL, L_BINS, 1, PAD_CONSTANT, 2.0, SLANEY, S_A2DB, R_MAX, 1},
    {400, T_MEL, L_FRAMES, 0, PAD_REFLECT, 1.5, HTK, S_NONE, R_VALUE, 0},
    {400, T_LINEAR, L_BINS, 1, PAD_EDGE, 1.5, SLANEY, S_P2DB, R_VALUE, 1},
    {400, T_LINEAR, L_FRAMES, 1, PAD_CONSTANT, 1.0, SLANEY, S_A2DB, R_MAX, 0},
    {400, T_STFT, L_BINS, 1, PAD_REFLECT, 1.0, HTK, S_NONE, R_VALUE, 0},
    {400, T_STFT, L_FRAMES, 1, PAD_EDGE, 1.5, SLANEY, S_NONE, R_MAX, 1},
    {800, T_MEL, L_BINS, 1, PAD_CONSTANT, 1.0, HTK, S_P2DB, R_MAX, 1},
    {800, T_MEL, L_FRAMES, 1, PAD_EDGE, 1.0, SLANEY, S_A2DB, R_VALUE, 1},
    {800, T_LINEAR, L_BINS, 1, PAD_EDGE, 1.0, SLANEY, S_NONE, R_VALUE, 0},
    {800, T_LINEAR, L_FRAMES, 1, PAD_CONSTANT, 2.0, SLANEY, S_P2DB, R_VALUE, 1},
    {800, T_STFT, L_BINS, 0, PAD_EDGE, 1.0, HTK, S_NONE, R_VALUE, 0},
    {800, T_STFT, L_FRAMES, 1, PAD_REFLECT, 1.5, SLANEY, S_NONE, R_VALUE, 0},
    {1102, T_MEL, L_BINS, 1, PAD_CONSTANT, 1.5, SLANEY, S_P2DB, R_MAX, 1},
    {1102, T_MEL, L_FRAMES, 1, PAD_CONSTANT, 1.0, HTK, S_P2DB, R_MAX, 1},
    {1102, T_LINEAR, L_BINS, 1, PAD_CONSTANT, 2.0, HTK, S_P2DB, R_MAX, 1},
    {1102, T_LINEAR, L_FRAMES, 0, PAD_CONSTANT, 2.0, SLANEY, S_A2DB, R_MAX, 1},
    {1102, T_STFT, L_BINS, 1, PAD_EDGE, 2.0, HTK, S_NONE, R_MAX, 0},
    {1102, T_STFT, L_FRAMES, 1, PAD_REFLECT, 2.0, HTK, S_NONE, R_VALUE, 0},
    {1103, T_MEL, L_BINS, 1, PAD_CONSTANT, 2.0, SLANEY, S_LOG, R_MAX, 1},
    {1103, T_MEL, L_FRAMES, 1, PAD_REFLECT, 2.0, HTK, S_NONE, R_MAX, 1},
    {1103, T_LINEAR, L_BINS, 1, PAD_REFLECT, 2.0, HTK, S_LOG, R_MAX, 1},
    {1103, T_LINEAR, L_FRAMES, 1, PAD_CONSTANT, 2.0, HTK, S_NONE, R_VALUE, 0},
    {1103, T_STFT, L_BINS, 1, PAD_EDGE, 1.0, HTK, S_NONE, R_VALUE, 0},
    {1103, T_STFT, L_FRAMES, 0, PAD_REFLECT, 1.5, HTK, S_NONE, R_VALUE, 0},
    {2205, T_MEL, L_BINS, 1, PAD_REFLECT, 1.0, HTK, S_LOG, R_MAX, 1},
    {2205, T_MEL, L_FRAMES, 1, PAD_EDGE, 1.5, SLANEY, S_LOG, R_MAX, 1},
    {2205, T_LINEAR, L_BINS, 0, PAD_EDGE, 1.5, SLANEY, S_A2DB, R_VALUE, 0},
    {2205, T_LINEAR, L_FRAMES, 1, PAD_EDGE, 2.0, HTK, S_NONE, R_VALUE, 1},
    {2205, T_STFT, L_BINS, 1, PAD_CONSTANT, 2.0, HTK, S_NONE, R_MAX, 1},
    {2205, T_STFT, L_FRAMES, 1, PAD_CONSTANT, 1.5, SLANEY, S_NONE, R_VALUE, 0},
    {2048, T_MEL, L_BINS, 0, PAD_EDGE, 2.0, SLANEY, S_P2DB, R_MAX, 0},
    {2048, T_MEL, L_FRAMES, 1, PAD_CONSTANT, 1.5, HTK, S_A2DB, R_MAX, 0},
    {2048, T_LINEAR, L_BINS, 0, PAD_EDGE, 1.0, HTK, S_P2DB, R_VALUE, 0},
    {2048, T_LINEAR, L_FRAMES, 1, PAD_EDGE, 1.5, HTK, S_NONE, R_VALUE, 1},
    {2048, T_STFT, L_BINS, 1, PAD_REFLECT, 1.5, SLANEY, S_NONE, R_VALUE, 1},
    {2048, T_STFT, L_FRAMES, 1, PAD_EDGE, 2.0, HTK, S_NONE, R_VALUE, 0},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

enum { MAX_BATCH = 3, MAX_SAMPLES = 12000 };

static melspec_config config_of(const gpu_case *k, melspec_backend backend)
{
    melspec_config c;
    melspec_config_init(&c);
    c.backend = backend;
    c.transform = k->transform;
    c.n_fft = k->n_fft;
    c.sample_rate = k->n_fft <= 800 ? 16000.0 : 22050.0;
    /* every other case a hop that divides nothing */
    c.hop_length = (k->n_fft % 2 == 0) ? k->n_fft / 4 : k->n_fft / 3 + 1;
    c.center = k->center;
    c.pad_mode = k->pad_mode;
    c.layout = k->layout;
    if (k->transform != T_STFT) {
        c.power = k->power;
        c.scaling = k->scaling;
        c.ref_mode = k->ref_mode;
        c.ref = 0.7;
        c.top_db = k->top_db_80 ? 80.0 : INFINITY;
    }
    c.mel_scale = k->mel_scale;
    c.n_mels = k->n_fft <= 800 ? 40 : k->n_fft <= 1103 ? 64 : 128;
    c.max_batch = MAX_BATCH;
    c.max_samples = MAX_SAMPLES;
    return c;
}

static void describe(const melspec_config *c, char *text, size_t capacity)
{
    static const char *transforms[] = {"mel", "linear", "stft"};
    static const char *pads[] = {"constant", "reflect", "edge"};
    static const char *scalings[] = {"none", "power_to_db", "amplitude_to_db", "log"};
    snprintf(text, capacity, "n_fft %4lld hop %3lld %-6s %s center %d %-8s power %.1f %s %-15s ref %s top_db %g",
             (long long)c->n_fft, (long long)c->hop_length, transforms[c->transform],
             c->layout == L_FRAMES ? "frames-major" : "bins-major  ", c->center,
             pads[c->pad_mode], c->power, c->mel_scale == HTK ? "htk   " : "slaney",
             scalings[c->scaling], c->ref_mode == R_MAX ? "max  " : "value", c->top_db);
}

/* ---- helpers --------------------------------------------------------------------------------- */

static uint64_t rng_state = 0x5EED1234ABCDull;

/* Noise, or tones + chirp + 1% noise: never zeros, and new values at every call. */
static void random_signals(float *x, int64_t n_signals, int64_t n_samples, double sample_rate)
{
    const int tonal = (int)(test_rand_next(&rng_state) & 1);
    for (int64_t s = 0; s < n_signals; s++) {
        float *signal = x + s * n_samples;
        if (tonal) make_test_signal(signal, n_samples, sample_rate, test_rand_next(&rng_state));
        for (int64_t i = 0; i < n_samples; i++)
            signal[i] = (tonal ? signal[i] : 0.0f) +
                        (float)((tonal ? 0.01 : 0.5) * test_rand_uniform(&rng_state));
    }
}

static size_t output_bytes(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    size_t bytes = 0;
    PLAN_OK(plan, melspec_plan_output_bytes(plan, n_signals, n_samples, &bytes));
    return bytes;
}

/* bytes of room, poisoned, followed by a guard region */
static void *guarded_host(size_t bytes)
{
    unsigned char *p = malloc(bytes + GUARD_BYTES);
    assert_non_null(p);
    memset(p, POISON_BYTE, bytes);
    memset(p + bytes, GUARD_BYTE, GUARD_BYTES);
    return p;
}

static void check_guard(const void *buffer, size_t bytes, const char *what)
{
    const unsigned char *guard = (const unsigned char *)buffer + bytes;
    for (size_t i = 0; i < GUARD_BYTES; i++)
        if (guard[i] != GUARD_BYTE)
            fail_msg("%s: guard byte %zu after the %zu bytes of output was overwritten", what, i,
                     bytes);
}

static void *guarded_device(size_t bytes)
{
    unsigned char *p = NULL;
    CUDA_CHECK(cudaMalloc((void **)&p, bytes + GUARD_BYTES));
    CUDA_CHECK(cudaMemset(p, POISON_BYTE, bytes));
    CUDA_CHECK(cudaMemset(p + bytes, GUARD_BYTE, GUARD_BYTES));
    return p;
}

/* Copies a guarded device buffer back (into a guarded host buffer) and checks its guard. */
static void *fetch_device(const void *device, size_t bytes, const char *what)
{
    unsigned char *host = malloc(bytes + GUARD_BYTES);
    assert_non_null(host);
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(host, device, bytes + GUARD_BYTES, cudaMemcpyDeviceToHost));
    check_guard(host, bytes, what);
    return host;
}

static void check_all_written_f32(const float *x, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i])) fail_msg("%s: value %zu is NaN (never written?)", what, i);
}

/* The value a log output stands for in the linear domain. */
static double to_linear(double v, int scaling)
{
    switch (scaling) {
    case S_P2DB: return pow(10.0, v / 10.0);
    case S_A2DB: return pow(10.0, v / 20.0);
    case S_LOG: return exp(v);
    default: return v;
    }
}

/* compare.h's normalized error, infinite when a NaN or Inf mismatches */
static double normalized_error(const float *a, const float *b, size_t n)
{
    const compare_result r = compare_floats(a, b, n);
    return r.n_mismatched_non_finite > 0 ? INFINITY : r.normalized_error;
}

static double linear_tolerance(const melspec_config *c)
{
    return c->transform != T_STFT && c->power > 1.0 ? 1e-6 * c->power : 1e-6;
}

static melspec_plan *make_plan(const melspec_config *c)
{
    melspec_plan *plan = NULL;
    char message[512] = "";
    const melspec_status status = melspec_plan_create(&plan, c, message, sizeof message);
    if (status != MELSPEC_OK) fail_msg("plan: %s: %s", melspec_status_name(status), message);
    return plan;
}

/* The CPU's output for the config with another scaling; *resolved (may be NULL) receives the
 * plan's config with every default resolved. */
static float *cpu_output(const melspec_config *gpu_config, int scaling, const float *input,
                         int64_t n_signals, int64_t n_samples, size_t *n_values,
                         melspec_config *resolved)
{
    melspec_config c = *gpu_config;
    c.backend = MELSPEC_BACKEND_CPU;
    c.output_dtype = MELSPEC_DTYPE_FLOAT32;
    c.scaling = scaling;
    melspec_plan *plan = make_plan(&c);
    if (resolved != NULL) PLAN_OK(plan, melspec_plan_config(plan, resolved));
    const size_t bytes = output_bytes(plan, n_signals, n_samples);
    float *out = malloc(bytes);
    assert_non_null(out);
    PLAN_OK(plan, melspec_execute(plan, input, n_signals, n_samples, out, bytes));
    melspec_plan_destroy(plan);
    *n_values = bytes / sizeof(float);
    return out;
}

static double ulp_of(double x)
{
    if (!isfinite(x)) fail_msg("ulp of %g", x);
    x = fabs(x);
    return x > 0.0 ? ldexp(1.0, (int)floor(log2(x)) - 23) : ldexp(1.0, -149);
}

/* The CPU backend's output for a call, and the tolerance of output_error() against it. */
typedef struct reference {
    float *values;
    size_t n;
    double tolerance;
    int64_t n_clips; /* the clamp to max - top_db is per clip */
} reference;

/* dB values themselves round to about 1e-5 dB (ulp of a float near 100); this is margin */
#define DB_TOLERANCE 1e-3

/*
 * The GPU's output against the CPU's, as an error to hold to expected->tolerance. dB outputs are
 * compared in dB with the clamp (compare_decibels): element-wise within what the linear
 * tolerance allows at each value's depth below the clip's max, and the maxima and floors
 * (max - top_db) the same; the error returned is then the worst fraction of its allowance times
 * the tolerance, or infinity when the maximum or the clamp disagrees. log outputs are compared
 * as the values they stand for (exp); the rest by normalized error.
 */
static double output_error(const melspec_config *c, const float *gpu, const reference *expected,
                           size_t n)
{
    if (c->scaling == S_P2DB || c->scaling == S_A2DB) {
        const compare_db_result r =
            compare_decibels(gpu, expected->values, n, (size_t)expected->n_clips,
                             c->scaling == S_P2DB ? 10.0 : 20.0, c->top_db, expected->tolerance,
                             DB_TOLERANCE);
        const double error = compare_decibels_error(&r, expected->tolerance);
        if (isinf(error)) {
            char text[256];
            printf("    dB: %s\n", compare_decibels_describe(&r, text, sizeof text));
        }
        return error;
    }
    if (c->scaling == S_LOG) return compare_logs(gpu, expected->values, n).normalized_error;
    return normalized_error(gpu, expected->values, n);
}

/*
 * Scaled outputs are compared in the linear domain (output_error), where the FFT's error is the
 * linear tolerance. On top comes the float32 rounding inside the scaling, which moves an element's
 * linear value L by a relative ln(10) (ulp(log10f S) + ulp(v) / factor) for dB (log10f of S ~ 1e4
 * is 4.x, whose ulp is larger than that of a dB value near 0), and ulp(v) for log; relative to the
 * largest L, on both sides, with a margin.
 */
static reference cpu_reference(const melspec_config *c, const float *input, int64_t n_signals,
                               int64_t n_samples)
{
    reference r;
    melspec_config resolved;
    r.values = cpu_output(c, c->scaling, input, n_signals, n_samples, &r.n, &resolved);
    r.tolerance = linear_tolerance(c);
    r.n_clips = n_signals;
    if (c->scaling == S_NONE) return r;
    size_t n_linear;
    float *linear = cpu_output(c, S_NONE, input, n_signals, n_samples, &n_linear, NULL);
    assert_int_equal(n_linear, r.n);
    const double factor = c->scaling == S_P2DB ? 10.0 : 20.0;
    double top = 0.0, worst = 0.0;
    for (size_t i = 0; i < r.n; i++) top = fmax(top, to_linear(r.values[i], c->scaling));
    for (size_t i = 0; i < r.n; i++) {
        double relative;
        if (c->scaling == S_LOG) {
            relative = ulp_of(r.values[i]);
        } else {
            const double s = fmax((double)linear[i], (double)(float)resolved.amin);
            relative = log(10.0) * (ulp_of(log10(s)) + ulp_of(r.values[i]) / factor);
        }
        worst = fmax(worst, to_linear(r.values[i], c->scaling) / top * relative);
    }
    free(linear);
    r.tolerance += 4.0 * worst;
    return r;
}

/* ---- the parameter space against the CPU ----------------------------------------------------- */

static double worst_ratio; /* largest error / tolerance seen, for the summary */
static int n_over;         /* errors above their tolerance in the current test */

static void expect_close(const char *what, const char *label, double error, double tolerance)
{
    worst_ratio = fmax(worst_ratio, error / tolerance);
    if (error <= tolerance) {
        printf("    %-28s error %.3g (tolerance %.3g)\n", what, error, tolerance);
        return;
    }
    printf("    %-28s error %.3g (tolerance %.3g) ABOVE TOLERANCE: %s\n", what, error, tolerance,
           label);
    n_over++;
}

/* Ends a test that used expect_close: fails when any error was above its tolerance. */
static void expect_no_errors_over(void)
{
    const int n = n_over;
    n_over = 0;
    if (n > 0) fail_msg("%d error(s) above tolerance (lines marked ABOVE TOLERANCE)", n);
}

/* The scaling stage alone: GPU unscaled values scaled by the CPU backend's function must give
 * the GPU's scaled output. */
static void check_scaling_stage(const melspec_config *c, const float *d_input, int64_t n_signals,
                                int64_t n_samples, const float *gpu_scaled, const char *label)
{
    melspec_config unscaled_config = *c;
    unscaled_config.scaling = S_NONE;
    melspec_plan *unscaled = make_plan(&unscaled_config);
    const size_t bytes = output_bytes(unscaled, n_signals, n_samples);
    void *d_out = guarded_device(bytes);
    PLAN_OK(unscaled, melspec_execute_device(unscaled, d_input, n_signals, n_samples, d_out, bytes));
    float *values = fetch_device(d_out, bytes, "unscaled device output");
    melspec_plan *scaled = make_plan(c);
    const size_t n = bytes / sizeof(float);
    const int64_t clip = (int64_t)n / n_signals;
    for (int64_t s = 0; s < n_signals; s++)
        melspec_cpu_scale_clip(&scaled->stages, values + s * clip, clip);
    expect_close("scaling stage vs CPU's", label, normalized_error(gpu_scaled, values, n), 1e-6);
    free(values);
    cudaFree(d_out);
    melspec_plan_destroy(scaled);
    melspec_plan_destroy(unscaled);
}

static void run_case(int index)
{
    const melspec_config c = config_of(&cases[index], MELSPEC_BACKEND_CUDA);
    char label[256];
    describe(&c, label, sizeof label);
    printf("  case %2d: %s\n", index, label);
    melspec_plan *plan = make_plan(&c);
    assert_int_equal(melspec_plan_backend(plan), MELSPEC_BACKEND_CUDA);

    const int64_t shapes[3][2] = {
        {1, 9000 + 37 * index},
        {3, c.center ? c.n_fft / 3 + 5 : c.n_fft + 3 * index}, /* shorter than the pads */
        {2, MAX_SAMPLES},
    };
    float *input = malloc(MAX_BATCH * MAX_SAMPLES * sizeof *input);
    float *d_input = NULL;
    assert_non_null(input);
    CUDA_CHECK(cudaMalloc((void **)&d_input, MAX_BATCH * MAX_SAMPLES * sizeof *d_input));
    for (int s = 0; s < 3; s++) {
        const int64_t n_signals = shapes[s][0], n_samples = shapes[s][1];
        const size_t bytes = output_bytes(plan, n_signals, n_samples);
        const size_t n = bytes / sizeof(float);
        char what[64];

        /* host pointers */
        random_signals(input, n_signals, n_samples, c.sample_rate);
        reference expected = cpu_reference(&c, input, n_signals, n_samples);
        assert_int_equal(expected.n, n);
        float *host_out = guarded_host(bytes);
        PLAN_OK(plan, melspec_execute(plan, input, n_signals, n_samples, host_out, bytes));
        check_guard(host_out, bytes, "melspec_execute output");
        check_all_written_f32(host_out, n, "melspec_execute output");
        snprintf(what, sizeof what, "%lld x %lld host", (long long)n_signals, (long long)n_samples);
        expect_close(what, label, output_error(&c, host_out, &expected, n),
                     expected.tolerance);

        /* device pointers, same input: the same bits as the host path */
        CUDA_CHECK(cudaMemcpy(d_input, input, (size_t)(n_signals * n_samples) * sizeof *input,
                              cudaMemcpyHostToDevice));
        void *d_out = guarded_device(bytes);
        PLAN_OK(plan, melspec_execute_device(plan, d_input, n_signals, n_samples, d_out, bytes));
        float *device_out = fetch_device(d_out, bytes, "melspec_execute_device output");
        if (memcmp(device_out, host_out, bytes) != 0)
            fail_msg("%s: %s: device-pointer output differs from host-pointer output", label,
                     what);
        if (c.scaling != S_NONE)
            check_scaling_stage(&c, d_input, n_signals, n_samples, device_out, label);
        free(device_out);

        /* the same call again on new input: the graph replays and sees the new samples */
        random_signals(input, n_signals, n_samples, c.sample_rate);
        free(expected.values);
        expected = cpu_reference(&c, input, n_signals, n_samples);
        CUDA_CHECK(cudaMemcpy(d_input, input, (size_t)(n_signals * n_samples) * sizeof *input,
                              cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemset(d_out, POISON_BYTE, bytes));
        PLAN_OK(plan, melspec_execute_device(plan, d_input, n_signals, n_samples, d_out, bytes));
        device_out = fetch_device(d_out, bytes, "replayed melspec_execute_device output");
        check_all_written_f32(device_out, n, "replayed device output");
        snprintf(what, sizeof what, "%lld x %lld device replay", (long long)n_signals,
                 (long long)n_samples);
        expect_close(what, label, output_error(&c, device_out, &expected, n),
                     expected.tolerance);
        free(device_out);
        free(expected.values);
        free(host_out);
        cudaFree(d_out);
    }
    cudaFree(d_input);
    free(input);
    melspec_plan_destroy(plan);
}

static void test_parameter_space_matches_cpu(void **state)
{
    (void)state;
    /* the quick subset still has every transform, layout, centred pad mode, scaling path and a
     * prime n_fft */
    static const int quick_cases[] = {0, 7, 11, 15, 20, 22, 26, 33};
    const int n_quick = (int)(sizeof quick_cases / sizeof quick_cases[0]);
    for (int i = 0; i < (quick ? n_quick : N_CASES); i++) run_case(quick ? quick_cases[i] : i);
    printf("  worst error / tolerance over the parameter space: %.3g\n", worst_ratio);
    expect_no_errors_over();
}

/* The per-clip maximum (ref_mode MAX) wherever it lies: a Nyquist tone of rising amplitude puts
 * it at the last frame's last bin, the very last value of the clip in both layouts (the end of
 * the reduction's last chunk); several clips, one to several chunks each, full or not. */
static void test_clip_maximum_at_the_end(void **state)
{
    (void)state;
    const int64_t frame_counts[] = {1, 17, 98, 100};
    for (int layout = 0; layout < 2; layout++) {
        melspec_config c;
        melspec_config_init(&c);
        c.backend = MELSPEC_BACKEND_CUDA;
        c.transform = T_LINEAR;
        c.n_fft = 512;
        c.hop_length = 128;
        c.center = 0;
        c.scaling = S_P2DB;
        c.ref_mode = R_MAX;
        c.layout = layout;
        c.max_batch = 3;
        c.max_samples = 512 + 128 * 99;
        melspec_plan *plan = make_plan(&c);
        for (size_t f = 0; f < sizeof frame_counts / sizeof frame_counts[0]; f++) {
            const int64_t n_signals = 3, n_samples = 512 + 128 * (frame_counts[f] - 1);
            float *input = malloc((size_t)(n_signals * n_samples) * sizeof *input);
            assert_non_null(input);
            for (int64_t s = 0; s < n_signals; s++)
                for (int64_t i = 0; i < n_samples; i++)
                    input[s * n_samples + i] =
                        (float)((double)(i + 1) / (double)n_samples * (i % 2 ? -0.5 : 0.5) *
                                    (1.0 + 0.1 * (double)s) +
                                0.001 * test_rand_uniform(&rng_state));
            const reference expected = cpu_reference(&c, input, n_signals, n_samples);
            /* the premise: each clip's largest value is its last one */
            const size_t clip = expected.n / (size_t)n_signals;
            for (size_t s = 0; s < (size_t)n_signals; s++)
                for (size_t i = 0; i + 1 < clip; i++)
                    assert_true(expected.values[s * clip + i] <
                                expected.values[(s + 1) * clip - 1]);
            float *out = guarded_host(expected.n * sizeof(float));
            PLAN_OK(plan, melspec_execute(plan, input, n_signals, n_samples, out,
                                          expected.n * sizeof(float)));
            check_guard(out, expected.n * sizeof(float), "clip maximum output");
            char what[64];
            snprintf(what, sizeof what, "%s, %lld frames", layout ? "frames-major" : "bins-major",
                     (long long)frame_counts[f]);
            expect_close(what, "maximum at the end", output_error(&c, out, &expected, expected.n),
                         expected.tolerance);
            free(out);
            free(expected.values);
            free(input);
        }
        melspec_plan_destroy(plan);
    }
    expect_no_errors_over();
}

/* ---- float16 and bfloat16 -------------------------------------------------------------------- */

static double half_to_double(uint16_t h)
{
    const int exponent = (h >> 10) & 31, mantissa = h & 1023;
    double v;
    if (exponent == 0) v = ldexp(mantissa, -24);
    else if (exponent == 31) v = mantissa ? NAN : INFINITY;
    else v = ldexp(mantissa + 1024, exponent - 25);
    return (h >> 15) ? -v : v;
}

static double bfloat16_to_double(uint16_t b)
{
    const uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Half an ulp of x in a format with `digits` significand bits and smallest normal exponent
 * min_exponent. */
static double half_ulp(double x, int digits, int min_exponent)
{
    int exponent = x == 0.0 ? min_exponent : (int)floor(log2(fabs(x)));
    if (exponent < min_exponent) exponent = min_exponent;
    return ldexp(1.0, exponent - digits);
}

static void check_rounded(const uint16_t *actual, const float *exact, size_t n, int dtype,
                          const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (actual[i] == 0xFFFF) fail_msg("%s: value %zu never written", what, i);
        const double v = dtype == MELSPEC_DTYPE_FLOAT16 ? half_to_double(actual[i])
                                                        : bfloat16_to_double(actual[i]);
        const double bound = dtype == MELSPEC_DTYPE_FLOAT16 ? half_ulp(exact[i], 11, -14)
                                                            : half_ulp(exact[i], 8, -126);
        if (!(fabs(v - (double)exact[i]) <= bound))
            fail_msg("%s: value %zu is %.9g, float32 %.9g: more than half an ulp apart", what, i,
                     v, (double)exact[i]);
    }
}

static void test_reduced_precision_outputs(void **state)
{
    (void)state;
    /* mel and linear, unscaled (fp16's range), dB both ways, log; both layouts */
    const int picks[] = {0, 1, 9, 13, 20, 21, 31};
    const int dtypes[] = {MELSPEC_DTYPE_FLOAT16, MELSPEC_DTYPE_BFLOAT16};
    const int64_t n_signals = 2, n_samples = 7000;
    float *input = malloc(n_signals * n_samples * sizeof *input);
    float *d_input = NULL;
    assert_non_null(input);
    CUDA_CHECK(cudaMalloc((void **)&d_input, n_signals * n_samples * sizeof *d_input));
    for (size_t p = 0; p < sizeof picks / sizeof picks[0]; p++) {
        melspec_config c = config_of(&cases[picks[p]], MELSPEC_BACKEND_CUDA);
        char label[256];
        describe(&c, label, sizeof label);
        random_signals(input, n_signals, n_samples, c.sample_rate);
        CUDA_CHECK(cudaMemcpy(d_input, input, n_signals * n_samples * sizeof *input,
                              cudaMemcpyHostToDevice));
        melspec_plan *plan32 = make_plan(&c);
        const size_t bytes32 = output_bytes(plan32, n_signals, n_samples);
        float *exact = malloc(bytes32);
        assert_non_null(exact);
        PLAN_OK(plan32, melspec_execute(plan32, input, n_signals, n_samples, exact, bytes32));
        for (size_t d = 0; d < 2; d++) {
            c.output_dtype = dtypes[d];
            melspec_plan *plan = make_plan(&c);
            const size_t bytes = output_bytes(plan, n_signals, n_samples);
            assert_int_equal(bytes, bytes32 / 2);
            printf("  %s %s\n", dtypes[d] == MELSPEC_DTYPE_FLOAT16 ? "float16 " : "bfloat16", label);
            uint16_t *host_out = guarded_host(bytes);
            PLAN_OK(plan, melspec_execute(plan, input, n_signals, n_samples, host_out, bytes));
            check_guard(host_out, bytes, "16-bit host output");
            check_rounded(host_out, exact, bytes / 2, dtypes[d], "16-bit host output");
            void *d_out = guarded_device(bytes);
            PLAN_OK(plan, melspec_execute_device(plan, d_input, n_signals, n_samples, d_out, bytes));
            uint16_t *device_out = fetch_device(d_out, bytes, "16-bit device output");
            if (memcmp(device_out, host_out, bytes) != 0)
                fail_msg("%s: 16-bit device output differs from host output", label);
            free(device_out);
            free(host_out);
            cudaFree(d_out);
            melspec_plan_destroy(plan);
        }
        free(exact);
        melspec_plan_destroy(plan32);
    }
    cudaFree(d_input);
    free(input);
}

/* librosa pads the tail segment alone once head and tail frames no longer overlap: with reflect
 * padding, a hop above n_fft/2 and a tail shorter than the pad, the last frame's reflection
 * repeats within that segment (src/dsp/padding.h). The CPU backend matches librosa there (its
 * fixtures spec_reflect_tail*); the GPU must match the CPU for every length around it. */
static void test_reflect_tail_segment_matches_cpu(void **state)
{
    (void)state;
    melspec_config c;
    melspec_config_init(&c);
    c.backend = MELSPEC_BACKEND_CUDA;
    c.transform = T_STFT;
    c.sample_rate = 16000.0;
    c.n_fft = 66;
    c.hop_length = 87;
    c.pad_mode = PAD_REFLECT;
    melspec_plan *gpu = make_plan(&c);
    float input[400];
    for (int64_t n_samples = 34; n_samples <= 400; n_samples += 7) {
        random_signals(input, 1, n_samples, c.sample_rate);
        size_t n_values;
        float *expected = cpu_output(&c, MELSPEC_SCALING_NONE, input, 1, n_samples, &n_values,
                                     NULL);
        const size_t bytes = output_bytes(gpu, 1, n_samples);
        assert_int_equal(bytes, n_values * sizeof(float));
        float *actual = guarded_host(bytes);
        PLAN_OK(gpu, melspec_execute(gpu, input, 1, n_samples, actual, bytes));
        check_guard(actual, bytes, "reflect tail output");
        const double error = normalized_error(actual, expected, n_values);
        if (!(error <= 1e-6))
            fail_msg("reflect tail, %lld samples: normalized error %.3g", (long long)n_samples,
                     error);
        free(actual);
        free(expected);
    }
    melspec_plan_destroy(gpu);
}

/* ---- one plan, many shapes; graph replay; streams ------------------------------------------- */

static melspec_config busy_config(void)
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
    c.scaling = S_P2DB;
    c.ref_mode = R_MAX;
    c.layout = L_FRAMES;
    c.max_batch = 4;
    c.max_samples = 20000;
    return c;
}

/* Runs one call through the chosen API and checks it against the CPU. */
static void call_and_check(melspec_plan *plan, const melspec_config *c, int device_api,
                           int64_t n_signals, int64_t n_samples, float *input, float *d_input,
                           void *d_output, const char *label)
{
    random_signals(input, n_signals, n_samples, c->sample_rate);
    const reference expected = cpu_reference(c, input, n_signals, n_samples);
    const size_t n = expected.n;
    const size_t bytes = n * sizeof(float);
    float *out;
    if (device_api) {
        CUDA_CHECK(cudaMemcpy(d_input, input, (size_t)(n_signals * n_samples) * sizeof *input,
                              cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemset(d_output, POISON_BYTE, bytes));
        CUDA_CHECK(cudaMemset((char *)d_output + bytes, GUARD_BYTE, GUARD_BYTES));
        PLAN_OK(plan, melspec_execute_device(plan, d_input, n_signals, n_samples, d_output, bytes));
        out = fetch_device(d_output, bytes, label);
    } else {
        out = guarded_host(bytes);
        PLAN_OK(plan, melspec_execute(plan, input, n_signals, n_samples, out, bytes));
        check_guard(out, bytes, label);
    }
    check_all_written_f32(out, n, label);
    char what[96];
    snprintf(what, sizeof what, "%s %lld x %lld", device_api ? "device" : "host",
             (long long)n_signals, (long long)n_samples);
    expect_close(what, label, output_error(c, out, &expected, n), expected.tolerance);
    free(out);
    free(expected.values);
}

static void test_many_shapes_in_a_row(void **state)
{
    (void)state;
    const melspec_config c = busy_config();
    melspec_plan *plan = make_plan(&c);
    /* more distinct shapes than the plan keeps graphs for, some repeated, both APIs */
    const int64_t shapes[][2] = {{1, 20000}, {4, 3000}, {2, 777},  {3, 12345}, {1, 500},
                                 {4, 20000}, {2, 777},  {1, 20000}, {1, 1},    {4, 3000},
                                 {3, 12345}, {1, 500}};
    const size_t max_input = 4 * 20000;
    float *input = malloc(max_input * sizeof *input);
    float *d_input = NULL;
    void *d_output = NULL;
    size_t max_output = output_bytes(plan, 4, 20000);
    assert_non_null(input);
    CUDA_CHECK(cudaMalloc((void **)&d_input, max_input * sizeof *d_input));
    CUDA_CHECK(cudaMalloc(&d_output, max_output + GUARD_BYTES));
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int api = 0; api < 2; api++)
            call_and_check(plan, &c, api, shapes[i][0], shapes[i][1], input, d_input, d_output,
                           "many shapes");

    /* an identical call replays its graph and gives identical bits */
    random_signals(input, 2, 777, c.sample_rate);
    CUDA_CHECK(cudaMemcpy(d_input, input, 2 * 777 * sizeof *input, cudaMemcpyHostToDevice));
    const size_t bytes = output_bytes(plan, 2, 777);
    PLAN_OK(plan, melspec_execute_device(plan, d_input, 2, 777, d_output, bytes));
    float *first = malloc(bytes), *again = malloc(bytes);
    assert_non_null(first);
    assert_non_null(again);
    CUDA_CHECK(cudaMemcpy(first, d_output, bytes, cudaMemcpyDeviceToHost));
    for (int r = 0; r < 5; r++)
        PLAN_OK(plan, melspec_execute_device(plan, d_input, 2, 777, d_output, bytes));
    CUDA_CHECK(cudaMemcpy(again, d_output, bytes, cudaMemcpyDeviceToHost));
    assert_memory_equal(first, again, bytes);
    free(first);
    free(again);

    /* double buffering: two outputs in turn, each call on new input */
    void *d_other = NULL;
    CUDA_CHECK(cudaMalloc(&d_other, max_output + GUARD_BYTES));
    for (int r = 0; r < 4; r++)
        call_and_check(plan, &c, 1, 2, 5000, input, d_input, r % 2 ? d_other : d_output,
                       "double buffering");
    cudaFree(d_other);
    cudaFree(d_input);
    cudaFree(d_output);
    free(input);
    melspec_plan_destroy(plan);
    expect_no_errors_over();
}

static void CUDART_CB sleep_on_stream(void *milliseconds)
{
    const struct timespec pause = {0, (long)(intptr_t)milliseconds * 1000000L};
    nanosleep(&pause, NULL);
}

static void test_callers_stream_with_work_queued(void **state)
{
    (void)state;
    const melspec_config c = busy_config();
    melspec_plan *plan = make_plan(&c);
    const int64_t n_signals = 3, n_samples = 16000;
    const size_t n_input = (size_t)(n_signals * n_samples);
    const size_t bytes = output_bytes(plan, n_signals, n_samples);
    cudaStream_t stream;
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    PLAN_OK(plan, melspec_plan_set_cuda_stream(plan, stream));
    float *d_input = NULL, *h_input = NULL, *h_output = NULL;
    CUDA_CHECK(cudaMalloc((void **)&d_input, n_input * sizeof *d_input));
    CUDA_CHECK(cudaMallocHost((void **)&h_input, n_input * sizeof *h_input));
    CUDA_CHECK(cudaMallocHost((void **)&h_output, bytes + GUARD_BYTES));
    void *d_output = guarded_device(bytes);

    for (int round = 0; round < 3; round++) {
        /* old samples in the device buffer, new ones arriving on the stream after a delay: the
         * transform must see the new ones */
        random_signals(h_input, n_signals, n_samples, c.sample_rate);
        CUDA_CHECK(cudaMemcpy(d_input, h_input, n_input * sizeof *h_input, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaDeviceSynchronize());
        random_signals(h_input, n_signals, n_samples, c.sample_rate);
        const reference expected = cpu_reference(&c, h_input, n_signals, n_samples);
        CUDA_CHECK(cudaLaunchHostFunc(stream, sleep_on_stream, (void *)(intptr_t)30));
        CUDA_CHECK(cudaMemcpyAsync(d_input, h_input, n_input * sizeof *h_input,
                                   cudaMemcpyHostToDevice, stream));
        PLAN_OK(plan, melspec_execute_device(plan, d_input, n_signals, n_samples, d_output, bytes));
        CUDA_CHECK(cudaMemcpyAsync(h_output, d_output, bytes + GUARD_BYTES,
                                   cudaMemcpyDeviceToHost, stream));
        CUDA_CHECK(cudaStreamSynchronize(stream));
        check_guard(h_output, bytes, "output on the caller's stream");
        expect_close("caller's stream", "stream",
                     output_error(&c, h_output, &expected, expected.n), expected.tolerance);
        free(expected.values);
    }

    /* the host API on the same stream, then the legacy default stream again */
    float *input = malloc(n_input * sizeof *input);
    assert_non_null(input);
    call_and_check(plan, &c, 0, n_signals, n_samples, input, d_input, d_output, "caller's stream");
    PLAN_OK(plan, melspec_plan_set_cuda_stream(plan, NULL));
    call_and_check(plan, &c, 1, n_signals, n_samples, input, d_input, d_output, "legacy stream");
    free(input);

    cudaFree(d_input);
    cudaFree(d_output);
    cudaFreeHost(h_input);
    cudaFreeHost(h_output);
    melspec_plan_destroy(plan);
    CUDA_CHECK(cudaStreamDestroy(stream));
    expect_no_errors_over();
}

/* The caller captures melspec_execute_device into a graph of their own and launches it later. */
static void test_inside_a_callers_graph(void **state)
{
    (void)state;
    const melspec_config c = busy_config();
    melspec_plan *plan = make_plan(&c);
    const int64_t n_signals = 2, n_samples = 9000;
    const size_t n_input = (size_t)(n_signals * n_samples);
    const size_t bytes = output_bytes(plan, n_signals, n_samples);
    cudaStream_t stream;
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    PLAN_OK(plan, melspec_plan_set_cuda_stream(plan, stream));
    float *d_input = NULL;
    CUDA_CHECK(cudaMalloc((void **)&d_input, n_input * sizeof *d_input));
    void *d_output = guarded_device(bytes);
    float *input = malloc(n_input * sizeof *input);
    float *host_out = guarded_host(bytes);
    assert_non_null(input);

    /* A real signal before the capture: the host call below must be refused for the capture,
     * not for NaN in uninitialised memory (the front end checks the samples first), and the
     * device buffer holds something finite should anything read it early. */
    random_signals(input, n_signals, n_samples, c.sample_rate);
    CUDA_CHECK(cudaMemcpy(d_input, input, n_input * sizeof *input, cudaMemcpyHostToDevice));

    /* No assertion between begin and end: a failing one would leave a global-mode capture open
     * on this thread, and every later CUDA call of every later test would fail with it. The
     * statuses are kept, the capture ended, then they are checked. */
    cudaGraph_t graph = NULL;
    cudaGraphExec_t exec;
    CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
    const melspec_status device_status =
        melspec_execute_device(plan, d_input, n_signals, n_samples, d_output, bytes);
    char device_message[256];
    snprintf(device_message, sizeof device_message, "%s", melspec_plan_last_error(plan));
    /* the host API cannot wait inside a capture: a status, and the capture goes on */
    const melspec_status host_status =
        melspec_execute(plan, input, n_signals, n_samples, host_out, bytes);
    const cudaError_t end_status = cudaStreamEndCapture(stream, &graph);
    if (device_status != MELSPEC_OK)
        fail_msg("melspec_execute_device inside a capture: %s: %s",
                 melspec_status_name(device_status), device_message);
    assert_int_equal(host_status, MELSPEC_ERROR_UNSUPPORTED);
    CUDA_CHECK(end_status);
    CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));

    for (int round = 0; round < 2; round++) {
        random_signals(input, n_signals, n_samples, c.sample_rate);
        const reference expected = cpu_reference(&c, input, n_signals, n_samples);
        CUDA_CHECK(cudaMemcpy(d_input, input, n_input * sizeof *input, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaDeviceSynchronize()); /* the legacy copy does not order the other stream */
        CUDA_CHECK(cudaGraphLaunch(exec, stream));
        CUDA_CHECK(cudaStreamSynchronize(stream));
        float *out = fetch_device(d_output, bytes, "output of the caller's graph");
        expect_close("caller's graph", "capture",
                     output_error(&c, out, &expected, expected.n), expected.tolerance);
        free(out);
        free(expected.values);
    }
    CUDA_CHECK(cudaGraphExecDestroy(exec));
    CUDA_CHECK(cudaGraphDestroy(graph));
    free(host_out);
    free(input);
    cudaFree(d_input);
    cudaFree(d_output);
    melspec_plan_destroy(plan);
    CUDA_CHECK(cudaStreamDestroy(stream));
    expect_no_errors_over();
}

/* ---- capacity and arguments ------------------------------------------------------------------ */

static void test_capacity_and_reserve(void **state)
{
    (void)state;
    melspec_config c = busy_config();
    c.max_batch = 1;
    c.max_samples = 4000;
    c.fixed_memory = 1;
    melspec_plan *plan = make_plan(&c);
    const int64_t n_signals = 2, n_samples = 8000;
    float *input = malloc((size_t)(n_signals * n_samples) * sizeof *input);
    assert_non_null(input);
    random_signals(input, n_signals, n_samples, c.sample_rate);
    const size_t bytes = output_bytes(plan, n_signals, n_samples);
    float *out = guarded_host(bytes);
    float *d_input = NULL;
    CUDA_CHECK(cudaMalloc((void **)&d_input, (size_t)(n_signals * n_samples) * sizeof *d_input));
    void *d_output = guarded_device(bytes);

    /* fixed memory: past what the plan holds is refused on both paths, until reserved */
    assert_int_equal(melspec_execute(plan, input, n_signals, n_samples, out, bytes),
                     MELSPEC_ERROR_EXCEEDS_PLAN);
    assert_non_null(strstr(melspec_plan_last_error(plan), "melspec_plan_reserve"));
    assert_non_null(strstr(melspec_plan_last_error(plan), "max_batch"));
    assert_int_equal(melspec_execute(plan, input, 1, n_samples, out, bytes),
                     MELSPEC_ERROR_EXCEEDS_PLAN);
    assert_int_equal(melspec_execute_device(plan, d_input, n_signals, 3000, d_output, bytes),
                     MELSPEC_ERROR_EXCEEDS_PLAN);
    PLAN_OK(plan, melspec_plan_reserve(plan, n_signals, n_samples));
    PLAN_OK(plan, melspec_plan_reserve(plan, 1, 10)); /* never shrinks: the calls below fit */

    float *scratch = malloc((size_t)(n_signals * n_samples) * sizeof *scratch);
    assert_non_null(scratch);
    c.fixed_memory = 0; /* for the CPU reference plans call_and_check makes */
    call_and_check(plan, &c, 0, n_signals, n_samples, scratch, d_input, d_output, "reserved");
    call_and_check(plan, &c, 1, n_signals, n_samples, scratch, d_input, d_output, "reserved");
    melspec_plan_destroy(plan);

    /* grow on demand (the default): the same calls grow the plan and give the same numbers */
    plan = make_plan(&c);
    call_and_check(plan, &c, 0, n_signals, n_samples, scratch, d_input, d_output, "grown");
    melspec_plan_destroy(plan);
    plan = make_plan(&c);
    call_and_check(plan, &c, 1, n_signals, n_samples, scratch, d_input, d_output, "grown");
    free(scratch);
    free(out);
    free(input);
    cudaFree(d_input);
    cudaFree(d_output);
    melspec_plan_destroy(plan);
    expect_no_errors_over();
}

static void test_device_api_arguments(void **state)
{
    (void)state;
    const melspec_config c = busy_config();
    melspec_plan *plan = make_plan(&c);
    const int64_t n_signals = 1, n_samples = 4000;
    const size_t bytes = output_bytes(plan, n_signals, n_samples);
    float *d_input = NULL;
    char *d_output = NULL;
    CUDA_CHECK(cudaMalloc((void **)&d_input, (size_t)n_samples * sizeof *d_input));
    CUDA_CHECK(cudaMalloc((void **)&d_output, bytes + 16));
    float *host_input = malloc((size_t)n_samples * sizeof *host_input);
    assert_non_null(host_input);
    random_signals(host_input, n_signals, n_samples, c.sample_rate);
    CUDA_CHECK(cudaMemcpy(d_input, host_input, (size_t)n_samples * sizeof *d_input,
                          cudaMemcpyHostToDevice));

    assert_int_equal(melspec_execute_device(plan, NULL, n_signals, n_samples, d_output, bytes),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_execute_device(plan, d_input, n_signals, n_samples, NULL, bytes),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_execute_device(plan, d_input, n_signals, n_samples, d_output, bytes - 1),
                     MELSPEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(melspec_execute_device(plan, d_input, 0, n_samples, d_output, bytes),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    /* host memory from malloc is refused before any kernel touches it */
    assert_int_equal(melspec_execute_device(plan, host_input, n_signals, n_samples, d_output, bytes),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(melspec_plan_last_error(plan), "device_input"));
    assert_int_equal(melspec_execute_device(plan, d_input, n_signals, n_samples, d_output + 1, bytes),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(melspec_plan_last_error(plan), "aligned"));

    /* after all that, a correct call works and the message is cleared */
    PLAN_OK(plan, melspec_execute_device(plan, d_input, n_signals, n_samples, d_output, bytes));
    CUDA_CHECK(cudaDeviceSynchronize());
    assert_string_equal(melspec_plan_last_error(plan), "");

    /* a stream of another device is refused (only checkable with two devices) */
    int n_devices = 0;
    CUDA_CHECK(cudaGetDeviceCount(&n_devices));
    if (n_devices > 1) {
        cudaStream_t other;
        CUDA_CHECK(cudaSetDevice(1));
        CUDA_CHECK(cudaStreamCreate(&other));
        CUDA_CHECK(cudaSetDevice(0));
        assert_int_equal(melspec_plan_set_cuda_stream(plan, other), MELSPEC_ERROR_INVALID_ARGUMENT);
        CUDA_CHECK(cudaStreamDestroy(other));
    }
    free(host_input);
    cudaFree(d_input);
    cudaFree(d_output);
    melspec_plan_destroy(plan);
}

/* ---- graph replay on changing pointers, exact cuFFT batches, the cuBLAS mel product ----------
 * (appended for issue 12: findings 2, 6 and 9) */

/* White-box counters of the CPU emulation of CUDA (tests/cuda_emulator/runtime.cpp). On a GPU
 * these symbols are absent, and the tests below check results only. */
extern void emu_graph_counters(long *captures, long *instantiations, long *exec_updates,
                               long *kernel_node_updates, long *graph_launches)
    __attribute__((weak));
extern void emu_fft_counters(long *runs, long *frames) __attribute__((weak));

typedef struct graph_counts {
    long captures, instantiations, exec_updates, node_updates, launches;
} graph_counts;

static graph_counts graph_counts_now(void)
{
    graph_counts g = {0, 0, 0, 0, 0};
    if (emu_graph_counters != NULL)
        emu_graph_counters(&g.captures, &g.instantiations, &g.exec_updates, &g.node_updates,
                           &g.launches);
    return g;
}

/* Same shape, a different input and output buffer at every call (what PyTorch's caching
 * allocator does): every result right, the previous output left alone, and no re-capture. */
static void rotate_pointers(const melspec_config *c, const char *label)
{
    melspec_plan *plan = make_plan(c);
    enum { N_BUFFERS = 5, ROUNDS = 11 };
    const int64_t n_signals = 2, n_samples = 16000;
    const size_t n_input = (size_t)(n_signals * n_samples);
    const size_t bytes = output_bytes(plan, n_signals, n_samples);
    float *input = malloc(n_input * sizeof *input);
    assert_non_null(input);
    float *d_inputs[N_BUFFERS];
    void *d_outputs[N_BUFFERS];
    for (int i = 0; i < N_BUFFERS; i++) {
        CUDA_CHECK(cudaMalloc((void **)&d_inputs[i], n_input * sizeof(float)));
        CUDA_CHECK(cudaMalloc(&d_outputs[i], bytes + GUARD_BYTES));
    }
    /* the first call captures the shape's graph */
    call_and_check(plan, c, 1, n_signals, n_samples, input, d_inputs[0], d_outputs[0], label);
    const graph_counts before = graph_counts_now();
    unsigned char *poison = malloc(bytes);
    assert_non_null(poison);
    for (int r = 1; r <= ROUNDS; r++) {
        void *previous = d_outputs[(r + 2) % N_BUFFERS];
        CUDA_CHECK(cudaMemset(previous, POISON_BYTE, bytes));
        call_and_check(plan, c, 1, n_signals, n_samples, input, d_inputs[r % N_BUFFERS],
                       d_outputs[(r + 1) % N_BUFFERS], label);
        /* a graph still pointing at an old output would have written it */
        CUDA_CHECK(cudaMemcpy(poison, previous, bytes, cudaMemcpyDeviceToHost));
        for (size_t k = 0; k < bytes; k++)
            if (poison[k] != POISON_BYTE) fail_msg("%s: an earlier output was written", label);
    }
    const graph_counts after = graph_counts_now();
    if (emu_graph_counters != NULL) {
        print_message("    %-28s %ld captures, %ld kernel-node updates, %ld replays\n", label,
                      after.captures - before.captures, after.node_updates - before.node_updates,
                      after.launches - before.launches);
        assert_int_equal(after.captures, before.captures);
        assert_int_equal(after.instantiations, before.instantiations);
        assert_int_equal(after.exec_updates, before.exec_updates);
        assert_true(after.node_updates >= before.node_updates + ROUNDS);
        assert_int_equal(after.launches, before.launches + ROUNDS);
    }
    free(poison);
    for (int i = 0; i < N_BUFFERS; i++) {
        cudaFree(d_inputs[i]);
        cudaFree(d_outputs[i]);
    }
    free(input);
    melspec_plan_destroy(plan);
}

static void test_rotating_pointers_replay_one_graph(void **state)
{
    (void)state;
    melspec_config c = busy_config(); /* frames, power to values, clip maxima, scaled store */
    rotate_pointers(&c, "rotating, dB ref max");
    c.scaling = S_NONE; /* one fused kernel writes the output */
    c.layout = L_BINS;
    rotate_pointers(&c, "rotating, fused, bins-major");
    c.transform = T_STFT; /* a copy kernel, not cuFFT, writes the output */
    c.layout = L_FRAMES;
    rotate_pointers(&c, "rotating, STFT frames-major");
    c = busy_config();
    c.mel_product = MELSPEC_MEL_PRODUCT_GEMM; /* cuBLAS between two of our kernels */
    rotate_pointers(&c, "rotating, cuBLAS mel");
    expect_no_errors_over();
}

/* The benchmark's shapes run one cuFFT execution of exactly their frames per call. */
static void one_fft_per_call(melspec_config c, int64_t n_samples, const char *label)
{
    c.backend = MELSPEC_BACKEND_CUDA;
    c.max_batch = 2;
    c.max_samples = n_samples + 1000; /* the full-capacity plan is not the call's */
    melspec_plan *plan = make_plan(&c);
    int64_t n_bins = 0, n_frames = 0;
    PLAN_OK(plan, melspec_plan_output_shape(plan, n_samples, &n_bins, &n_frames));
    float *input = malloc((size_t)n_samples * sizeof *input);
    assert_non_null(input);
    float *d_input = NULL;
    CUDA_CHECK(cudaMalloc((void **)&d_input, (size_t)n_samples * sizeof *d_input));
    void *d_output = guarded_device(output_bytes(plan, 1, n_samples));
    for (int api = 0; api < 2; api++) {
        call_and_check(plan, &c, api, 1, n_samples, input, d_input, d_output, label);
        long runs0 = 0, frames0 = 0, runs1 = 0, frames1 = 0;
        if (emu_fft_counters != NULL) emu_fft_counters(&runs0, &frames0);
        call_and_check(plan, &c, api, 1, n_samples, input, d_input, d_output, label);
        if (emu_fft_counters != NULL) {
            emu_fft_counters(&runs1, &frames1);
            print_message("    %-28s %ld cuFFT execution(s) of %ld frames (%lld frames)\n",
                          label, runs1 - runs0, frames1 - frames0, (long long)n_frames);
            assert_int_equal(runs1 - runs0, 1);
            assert_int_equal(frames1 - frames0, n_frames);
        }
    }
    cudaFree(d_input);
    cudaFree(d_output);
    free(input);
    melspec_plan_destroy(plan);
}

static void test_one_fft_execution_per_call(void **state)
{
    (void)state;
    melspec_config realtime = busy_config();
    realtime.scaling = S_NONE;
    one_fft_per_call(realtime, 16000, "realtime 1 s");
    melspec_config whisper;
    melspec_config_init(&whisper);
    whisper.sample_rate = 16000.0;
    whisper.n_fft = 400;
    whisper.hop_length = 160;
    whisper.n_mels = 80;
    whisper.pad_mode = PAD_REFLECT;
    whisper.scaling = S_LOG;
    one_fft_per_call(whisper, quick ? 16000 * 5 : 16000 * 30, "whisper");
    expect_no_errors_over();
}

/* More frame counts than the plan keeps cuFFT plans and graphs for, then the first ones again:
 * plans are made and dropped without breaking a graph that still runs one. */
static void test_many_fft_batches(void **state)
{
    (void)state;
    const melspec_config c = busy_config();
    melspec_plan *plan = make_plan(&c);
    const size_t max_input = 4 * 20000;
    float *input = malloc(max_input * sizeof *input);
    float *d_input = NULL;
    assert_non_null(input);
    CUDA_CHECK(cudaMalloc((void **)&d_input, max_input * sizeof *d_input));
    void *d_output = guarded_device(output_bytes(plan, 4, 20000));
    const int n_shapes = quick ? 12 : 20;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < n_shapes; i++)
            call_and_check(plan, &c, (i + round) % 2, 1 + i % 4, 1000 + 731 * i, input, d_input,
                           d_output, "many FFT batches");
    cudaFree(d_input);
    cudaFree(d_output);
    free(input);
    melspec_plan_destroy(plan);
    expect_no_errors_over();
}

/* config.mel_product = GEMM (cuBLAS SGEMM on the dense filterbank) against the CPU backend with
 * the sparse path's tolerance, over every MEL case of the parameter space, both APIs. */
static void test_mel_product_gemm_matches_cpu(void **state)
{
    (void)state;
    const size_t max_input = (size_t)MAX_BATCH * MAX_SAMPLES;
    float *input = malloc(max_input * sizeof *input);
    float *d_input = NULL;
    assert_non_null(input);
    CUDA_CHECK(cudaMalloc((void **)&d_input, max_input * sizeof *d_input));
    int tested = 0;
    for (int i = 0; i < N_CASES; i++) {
        if (cases[i].transform != T_MEL || (quick && i % 3 != 0)) continue;
        melspec_config c = config_of(&cases[i], MELSPEC_BACKEND_CUDA);
        c.mel_product = MELSPEC_MEL_PRODUCT_GEMM;
        melspec_plan *plan = make_plan(&c);
        void *d_output = guarded_device(output_bytes(plan, MAX_BATCH, MAX_SAMPLES));
        char label[160];
        describe(&c, label, sizeof label);
        call_and_check(plan, &c, 0, 1, MAX_SAMPLES, input, d_input, d_output, label);
        call_and_check(plan, &c, 1, MAX_BATCH, 5000, input, d_input, d_output, label);
        cudaFree(d_output);
        melspec_plan_destroy(plan);
        tested++;
    }
    assert_true(tested >= 3);
    /* a value out of the enum is refused at creation, with the field named */
    melspec_config bad = busy_config();
    bad.mel_product = 3;
    melspec_plan *plan = NULL;
    char message[256] = "";
    assert_int_equal(melspec_plan_create(&plan, &bad, message, sizeof message),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(message, "mel_product"));
    assert_null(plan);
    cudaFree(d_input);
    free(input);
    expect_no_errors_over();
}

/* -- librosa's parameter space (issue 15): the GPU uses the core's window and filterbank --
 * Designed windows with parameters, numeric mel norms, empty mel bands (zero rows of the sparse
 * filterbank) and a caller's window, against the CPU backend; the caller's window gives the
 * same bits as the kind it was copied from. */
static void test_windows_norms_and_empty_bands_match_cpu(void **state)
{
    (void)state;
    const size_t max_input = (size_t)MAX_BATCH * MAX_SAMPLES;
    float *input = malloc(max_input * sizeof *input);
    float *d_input = NULL;
    assert_non_null(input);
    CUDA_CHECK(cudaMalloc((void **)&d_input, max_input * sizeof *d_input));
    melspec_config configs[3];
    for (int i = 0; i < 3; i++) {
        melspec_config_init(&configs[i]);
        configs[i].backend = MELSPEC_BACKEND_CUDA;
        configs[i].max_batch = MAX_BATCH;
        configs[i].max_samples = MAX_SAMPLES;
    }
    configs[0].sample_rate = 16000; /* kaiser, a shorter window, the L2 norm */
    configs[0].n_fft = 512;
    configs[0].win_length = 400;
    configs[0].hop_length = 160;
    configs[0].n_mels = 64;
    configs[0].window = MELSPEC_WINDOW_KAISER;
    configs[0].window_params[0] = 8.0;
    configs[0].mel_norm = MELSPEC_MEL_NORM_P;
    configs[0].mel_norm_p = 2.0;
    configs[1].sample_rate = 44100; /* 128 mels over 129 bins: empty bands */
    configs[1].n_fft = 256;
    configs[1].hop_length = 64;
    configs[1].n_mels = 128;
    configs[1].window = MELSPEC_WINDOW_BLACKMANHARRIS;
    configs[2].sample_rate = 22050; /* tukey, max norm, magnitude, frames major */
    configs[2].n_fft = 1024;
    configs[2].hop_length = 256;
    configs[2].n_mels = 80;
    configs[2].power = 1.0;
    configs[2].window = MELSPEC_WINDOW_TUKEY;
    configs[2].window_params[0] = 0.25;
    configs[2].mel_norm = MELSPEC_MEL_NORM_P;
    configs[2].mel_norm_p = INFINITY;
    configs[2].layout = MELSPEC_LAYOUT_FRAMES_MAJOR;
    for (int i = 0; i < 3; i++) {
        melspec_plan *plan = make_plan(&configs[i]);
        void *d_output = guarded_device(output_bytes(plan, MAX_BATCH, MAX_SAMPLES));
        char label[160];
        describe(&configs[i], label, sizeof label);
        call_and_check(plan, &configs[i], 0, 1, MAX_SAMPLES, input, d_input, d_output, label);
        call_and_check(plan, &configs[i], 1, MAX_BATCH, 5000, input, d_input, d_output, label);
        cudaFree(d_output);
        melspec_plan_destroy(plan);
    }
    int64_t n_empty = 0;
    {
        melspec_plan *plan = make_plan(&configs[1]);
        assert_int_equal(melspec_plan_empty_mel_bands(plan, NULL, 0, &n_empty), MELSPEC_OK);
        melspec_plan_destroy(plan);
    }
    assert_true(n_empty > 0);

    /* the caller's copy of the kaiser window: the same bits as the designed one */
    double window[400];
    float designed_window[512];
    melspec_plan *designed = make_plan(&configs[0]);
    PLAN_OK(designed, melspec_plan_window(designed, designed_window, sizeof designed_window));
    for (int i = 0; i < 400; i++) window[i] = (double)designed_window[56 + i];
    melspec_config custom = configs[0];
    custom.window = MELSPEC_WINDOW_CUSTOM;
    custom.window_params[0] = 0.0;
    melspec_plan *given = NULL;
    char message[256];
    if (melspec_plan_create_with_window(&given, &custom, window, 400, message, sizeof message) !=
        MELSPEC_OK)
        fail_msg("melspec_plan_create_with_window: %s", message);
    random_signals(input, 2, 5000, 16000);
    const size_t bytes = output_bytes(designed, 2, 5000);
    float *a = malloc(bytes), *b = malloc(bytes);
    assert_non_null(a);
    assert_non_null(b);
    PLAN_OK(designed, melspec_execute(designed, input, 2, 5000, a, bytes));
    PLAN_OK(given, melspec_execute(given, input, 2, 5000, b, bytes));
    assert_memory_equal(a, b, bytes);
    free(a);
    free(b);
    melspec_plan_destroy(designed);
    melspec_plan_destroy(given);
    cudaFree(d_input);
    free(input);
    expect_no_errors_over();
}

int main(void)
{
    if (melspec_cuda_device_count() == 0) return gpu_test_without_device("test_cuda");
    const char *q = getenv("MELSPEC_CUDA_TEST_QUICK");
    quick = q != NULL && q[0] == '1';
    struct cudaDeviceProp properties;
    CUDA_CHECK(cudaGetDeviceProperties(&properties, 0));
    printf("test_cuda: %s (sm_%d%d)%s\n", properties.name, properties.major, properties.minor,
           quick ? ", quick subset" : "");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_space_matches_cpu),
        cmocka_unit_test(test_clip_maximum_at_the_end),
        cmocka_unit_test(test_reduced_precision_outputs),
        cmocka_unit_test(test_reflect_tail_segment_matches_cpu),
        cmocka_unit_test(test_many_shapes_in_a_row),
        cmocka_unit_test(test_callers_stream_with_work_queued),
        cmocka_unit_test(test_inside_a_callers_graph),
        cmocka_unit_test(test_capacity_and_reserve),
        cmocka_unit_test(test_device_api_arguments),
        cmocka_unit_test(test_rotating_pointers_replay_one_graph),
        cmocka_unit_test(test_one_fft_execution_per_call),
        cmocka_unit_test(test_many_fft_batches),
        cmocka_unit_test(test_mel_product_gemm_matches_cpu),
        cmocka_unit_test(test_windows_norms_and_empty_bands_match_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
