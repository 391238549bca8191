/* The public API's contracts: every bad input gets a clear status and a message naming the
 * problem, nothing past a caller's capacity is written, inputs are not modified. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static melspec_config default_cpu_config(void)
{
    melspec_config config;
    melspec_config_init(&config);
    config.backend = MELSPEC_BACKEND_CPU;
    return config;
}

/* Creation must fail with `expected` and a message containing `needle`. */
static void expect_create_fails(const melspec_config *config, melspec_status expected,
                                const char *needle)
{
    melspec_plan *plan = (melspec_plan *)(uintptr_t)0x1; /* must be overwritten with NULL */
    char message[512];
    memset(message, 'x', sizeof message);
    const melspec_status status = melspec_plan_create(&plan, config, message, sizeof message);
    if (status != expected)
        fail_msg("expected %s, got %s (%s)", melspec_status_name(expected),
                 melspec_status_name(status), status == MELSPEC_OK ? "" : message);
    assert_null(plan);
    assert_non_null(memchr(message, '\0', sizeof message));
    if (strstr(message, needle) == NULL)
        fail_msg("message \"%s\" does not mention \"%s\"", message, needle);
}

static void test_bad_configs_are_refused_with_reasons(void **state)
{
    (void)state;
    melspec_config c;
#define BAD(field_assignment, status, needle) \
    do {                                      \
        c = default_cpu_config();             \
        field_assignment;                     \
        expect_create_fails(&c, status, needle); \
    } while (0)
    BAD(c.n_fft = 0, MELSPEC_ERROR_INVALID_ARGUMENT, "n_fft");
    BAD(c.n_fft = -4, MELSPEC_ERROR_INVALID_ARGUMENT, "n_fft");
    BAD(c.n_fft = INT64_MAX, MELSPEC_ERROR_SIZE_OVERFLOW, "n_fft");
    BAD(c.hop_length = -1, MELSPEC_ERROR_INVALID_ARGUMENT, "hop_length");
    BAD(c.hop_length = INT64_MAX, MELSPEC_ERROR_SIZE_OVERFLOW, "hop_length");
    BAD((c.n_fft = 3, c.n_mels = 1), MELSPEC_ERROR_INVALID_ARGUMENT, "hop_length");
    BAD(c.sample_rate = 0, MELSPEC_ERROR_INVALID_ARGUMENT, "sample_rate");
    BAD(c.sample_rate = -16000, MELSPEC_ERROR_INVALID_ARGUMENT, "sample_rate");
    BAD(c.sample_rate = NAN, MELSPEC_ERROR_INVALID_ARGUMENT, "sample_rate");
    BAD(c.n_mels = 0, MELSPEC_ERROR_INVALID_ARGUMENT, "n_mels");
    BAD(c.n_mels = -3, MELSPEC_ERROR_INVALID_ARGUMENT, "n_mels");
    BAD(c.n_mels = INT64_MAX / 2, MELSPEC_ERROR_SIZE_OVERFLOW, "n_mels");
    BAD(c.win_length = 4096, MELSPEC_ERROR_INVALID_ARGUMENT, "win_length");
    BAD(c.win_length = -1, MELSPEC_ERROR_INVALID_ARGUMENT, "win_length");
    BAD((c.fmin = 5000, c.fmax = 4000), MELSPEC_ERROR_INVALID_ARGUMENT, "fmin");
    BAD((c.fmin = 4000, c.fmax = 4000), MELSPEC_ERROR_INVALID_ARGUMENT, "fmin");
    BAD(c.fmin = -1, MELSPEC_ERROR_INVALID_ARGUMENT, "fmin");
    BAD(c.fmax = 11026, MELSPEC_ERROR_INVALID_ARGUMENT, "Nyquist");
    BAD(c.fmax = INFINITY, MELSPEC_ERROR_INVALID_ARGUMENT, "fmax");
    BAD(c.power = 0, MELSPEC_ERROR_INVALID_ARGUMENT, "power");
    BAD(c.power = -2, MELSPEC_ERROR_INVALID_ARGUMENT, "power");
    BAD(c.power = NAN, MELSPEC_ERROR_INVALID_ARGUMENT, "power");
    BAD(c.window = 99, MELSPEC_ERROR_INVALID_ARGUMENT, "window");
    BAD(c.pad_mode = 3, MELSPEC_ERROR_INVALID_ARGUMENT, "pad_mode");
    BAD(c.pad_mode = -1, MELSPEC_ERROR_INVALID_ARGUMENT, "pad_mode");
    BAD(c.transform = 9, MELSPEC_ERROR_INVALID_ARGUMENT, "transform");
    BAD(c.center = 2, MELSPEC_ERROR_INVALID_ARGUMENT, "center");
    BAD(c.mel_scale = 5, MELSPEC_ERROR_INVALID_ARGUMENT, "mel_scale");
    BAD(c.mel_norm = 5, MELSPEC_ERROR_INVALID_ARGUMENT, "mel_norm");
    BAD(c.scaling = 9, MELSPEC_ERROR_INVALID_ARGUMENT, "scaling");
    BAD((c.scaling = MELSPEC_SCALING_POWER_TO_DB, c.ref = 0), MELSPEC_ERROR_INVALID_ARGUMENT, "ref");
    BAD((c.scaling = MELSPEC_SCALING_POWER_TO_DB, c.amin = -1), MELSPEC_ERROR_INVALID_ARGUMENT,
        "amin");
    BAD((c.scaling = MELSPEC_SCALING_POWER_TO_DB, c.top_db = -1), MELSPEC_ERROR_INVALID_ARGUMENT,
        "top_db");
    BAD((c.scaling = MELSPEC_SCALING_LOG, c.log_offset = -1), MELSPEC_ERROR_INVALID_ARGUMENT,
        "log_offset");
    BAD((c.transform = MELSPEC_TRANSFORM_STFT, c.scaling = MELSPEC_SCALING_POWER_TO_DB),
        MELSPEC_ERROR_INVALID_ARGUMENT, "scaling");
    BAD(c.layout = 2, MELSPEC_ERROR_INVALID_ARGUMENT, "layout");
    BAD(c.backend = 3, MELSPEC_ERROR_INVALID_ARGUMENT, "backend");
    BAD(c.output_dtype = 3, MELSPEC_ERROR_INVALID_ARGUMENT, "output_dtype");
    BAD((c.transform = MELSPEC_TRANSFORM_STFT, c.output_dtype = MELSPEC_DTYPE_FLOAT16),
        MELSPEC_ERROR_INVALID_ARGUMENT, "complex64");
    BAD(c.device_ordinal = -1, MELSPEC_ERROR_INVALID_ARGUMENT, "device_ordinal");
    BAD(c.fixed_memory = 2, MELSPEC_ERROR_INVALID_ARGUMENT, "fixed_memory");
    BAD(c.max_batch = -1, MELSPEC_ERROR_INVALID_ARGUMENT, "max_batch");
    BAD(c.max_samples = -1, MELSPEC_ERROR_INVALID_ARGUMENT, "max_samples");
    /* empty mel bands are computed now (issue 15): tests/golden/test_librosa_params.c */
    BAD(c.window = 22, MELSPEC_ERROR_INVALID_ARGUMENT, "window");
    BAD(c.window_params[0] = 8.0, MELSPEC_ERROR_INVALID_ARGUMENT, "window_params[0]");
    BAD((c.window = MELSPEC_WINDOW_GAUSSIAN, c.window_params[0] = 0.0),
        MELSPEC_ERROR_INVALID_ARGUMENT, "std");
    BAD((c.window = MELSPEC_WINDOW_KAISER, c.window_params[0] = 1e6),
        MELSPEC_ERROR_INVALID_ARGUMENT, "not finite");
    /* fuzz_plan's finding (issue 17): samples double holds and float32 does not */
    BAD((c.window = MELSPEC_WINDOW_GENERAL_HAMMING, c.window_params[0] = 6.8648e156),
        MELSPEC_ERROR_INVALID_ARGUMENT, "beyond float32");
    BAD(c.window = MELSPEC_WINDOW_CUSTOM, MELSPEC_ERROR_INVALID_ARGUMENT,
        "melspec_plan_create_with_window");
    BAD((c.mel_norm = MELSPEC_MEL_NORM_P, c.mel_norm_p = -1.0), MELSPEC_ERROR_INVALID_ARGUMENT,
        "mel_norm_p");
    BAD(c.mel_norm_p = 2.0, MELSPEC_ERROR_INVALID_ARGUMENT, "mel_norm_p");
#undef BAD
}

static void test_struct_size_rules(void **state)
{
    (void)state;
    assert_int_equal(melspec_config_size(), sizeof(melspec_config));
    melspec_config c = default_cpu_config();
    c.struct_size = 2;
    expect_create_fails(&c, MELSPEC_ERROR_STRUCT_SIZE, "struct_size");

    /* a newer caller's larger struct: accepted with a zero tail, refused otherwise */
    struct {
        melspec_config config;
        uint64_t future_field;
    } larger;
    memset(&larger, 0, sizeof larger);
    melspec_config_init(&larger.config);
    larger.config.backend = MELSPEC_BACKEND_CPU;
    larger.config.struct_size = (uint32_t)sizeof larger;
    melspec_plan *plan = NULL;
    assert_int_equal(melspec_plan_create(&plan, &larger.config, NULL, 0), MELSPEC_OK);
    melspec_config resolved;
    assert_int_equal(melspec_plan_config(plan, &resolved), MELSPEC_OK);
    assert_int_equal(resolved.struct_size, sizeof(melspec_config));
    melspec_plan_destroy(plan);
    larger.future_field = 1;
    expect_create_fails(&larger.config, MELSPEC_ERROR_STRUCT_SIZE, "not zero");
}

static void test_defaults_resolve_like_librosa(void **state)
{
    (void)state;
    melspec_config c = default_cpu_config();
    melspec_plan *plan = NULL;
    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_OK);
    melspec_config r;
    assert_int_equal(melspec_plan_config(plan, &r), MELSPEC_OK);
    assert_int_equal(r.n_fft, 2048);
    assert_int_equal(r.win_length, 2048);
    assert_int_equal(r.hop_length, 512);
    assert_close(r.fmax, 11025.0, 0.0);
    assert_int_equal(r.n_mels, 128);
    assert_int_equal(r.backend, MELSPEC_BACKEND_CPU);
    assert_int_equal(melspec_plan_backend(plan), MELSPEC_BACKEND_CPU);
    melspec_plan_destroy(plan);

    c.scaling = MELSPEC_SCALING_AMPLITUDE_TO_DB;
    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_OK);
    assert_int_equal(melspec_plan_config(plan, &r), MELSPEC_OK);
    assert_close(r.amin, 1e-5, 0.0);
    melspec_plan_destroy(plan);
}

static void test_null_pointers(void **state)
{
    (void)state;
    melspec_config c = default_cpu_config();
    char message[128];
    assert_int_equal(melspec_plan_create(NULL, &c, message, sizeof message),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_non_null(strstr(message, "plan"));
    melspec_plan *plan = NULL;
    assert_int_equal(melspec_plan_create(&plan, NULL, message, sizeof message),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_null(plan);
    assert_non_null(strstr(message, "config"));
    melspec_config_init(NULL);
    melspec_plan_destroy(NULL);

    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_OK);
    float input[4096], output[16];
    make_test_signal(input, 4096, 22050, 1);
    assert_int_equal(melspec_execute(NULL, input, 1, 4096, output, sizeof output),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_execute(plan, NULL, 1, 4096, output, sizeof output),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_non_null(strstr(melspec_plan_last_error(plan), "input"));
    assert_int_equal(melspec_execute(plan, input, 1, 4096, NULL, sizeof output),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_non_null(strstr(melspec_plan_last_error(plan), "output"));
    int64_t n_bins;
    assert_int_equal(melspec_plan_output_shape(plan, 100, &n_bins, NULL),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_plan_output_shape(NULL, 100, &n_bins, &n_bins),
                     MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_plan_mel_filterbank(plan, NULL, 10), MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_plan_window(plan, NULL, 10), MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_plan_config(plan, NULL), MELSPEC_ERROR_NULL_POINTER);
    assert_string_equal(melspec_plan_last_error(NULL), "plan is NULL");
    melspec_plan_destroy(plan);
}

static void test_bad_execute_arguments(void **state)
{
    (void)state;
    melspec_config c = default_cpu_config();
    c.center = 0;
    melspec_plan *plan = NULL;
    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_OK);
    enum { N = 5000 };
    float *input = malloc(N * sizeof *input);
    assert_non_null(input);
    make_test_signal(input, N, 22050, 2);
    size_t n_bytes;
    assert_int_equal(melspec_plan_output_bytes(plan, 1, N, &n_bytes), MELSPEC_OK);
    float *output = malloc(n_bytes + 64);
    assert_non_null(output);

    /* empty input, negative sizes, short input with center off */
    assert_int_equal(melspec_execute(plan, input, 1, 0, output, n_bytes),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(melspec_plan_last_error(plan), "empty"));
    assert_int_equal(melspec_execute(plan, input, 0, N, output, n_bytes),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(melspec_execute(plan, input, -1, N, output, n_bytes),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(melspec_execute(plan, input, 1, -5, output, n_bytes),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(melspec_execute(plan, input, 1, 2047, output, n_bytes),
                     MELSPEC_ERROR_INPUT_TOO_SHORT);
    assert_non_null(strstr(melspec_plan_last_error(plan), "n_fft"));

    /* sizes whose products overflow */
    assert_int_equal(melspec_execute(plan, input, INT64_MAX / 2, N, output, n_bytes),
                     MELSPEC_ERROR_SIZE_OVERFLOW);
    assert_int_equal(melspec_execute(plan, input, 4, INT64_MAX / 2, output, n_bytes),
                     MELSPEC_ERROR_SIZE_OVERFLOW);

    /* output one byte too small: refused, and nothing written */
    memset(output, 0x7f, n_bytes + 64);
    assert_int_equal(melspec_execute(plan, input, 1, N, output, n_bytes - 1),
                     MELSPEC_ERROR_BUFFER_TOO_SMALL);
    assert_non_null(strstr(melspec_plan_last_error(plan), "bytes"));
    for (size_t i = 0; i < n_bytes + 64; i++) assert_int_equal(((unsigned char *)output)[i], 0x7f);

    /* NaN and Inf samples, anywhere in the batch */
    float *copy = malloc(2 * N * sizeof *copy);
    assert_non_null(copy);
    memcpy(copy, input, N * sizeof *copy);
    memcpy(copy + N, input, N * sizeof *copy);
    copy[N + 1234] = NAN;
    assert_int_equal(melspec_execute(plan, copy, 2, N, output, n_bytes * 2 + 64),
                     MELSPEC_ERROR_NON_FINITE_INPUT);
    assert_non_null(strstr(melspec_plan_last_error(plan), "signal 1, offset 1234"));
    copy[N + 1234] = INFINITY;
    assert_int_equal(melspec_execute(plan, copy, 2, N, output, n_bytes * 2 + 64),
                     MELSPEC_ERROR_NON_FINITE_INPUT);
    assert_non_null(strstr(melspec_plan_last_error(plan), "infinite"));
    free(copy);

    /* success clears the message and leaves the caller's input untouched */
    float *before = malloc(N * sizeof *before);
    assert_non_null(before);
    memcpy(before, input, N * sizeof *before);
    memset(output, 0x7f, n_bytes + 64);
    assert_int_equal(melspec_execute(plan, input, 1, N, output, n_bytes), MELSPEC_OK);
    assert_string_equal(melspec_plan_last_error(plan), "");
    assert_memory_equal(before, input, N * sizeof *before);
    for (size_t i = n_bytes; i < n_bytes + 64; i++)
        assert_int_equal(((unsigned char *)output)[i], 0x7f);
    free(before);

    /* filterbank and window queries respect capacities */
    assert_int_equal(melspec_plan_mel_filterbank(plan, output, 10), MELSPEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(melspec_plan_window(plan, output, 10), MELSPEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(melspec_plan_reserve(plan, 0, 10), MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(melspec_plan_reserve(plan, 8, 1 << 20), MELSPEC_OK);
    free(output);
    free(input);
    melspec_plan_destroy(plan);
}

/* ---- NaN and Inf wherever they hide (the CPU backend finds them in its passes) ---------------
 * The CPU backend does not scan the input before its work: it checks each block of frames'
 * values, and scans only the samples no frame reads (ops.execute_checks_finite). Each case
 * puts one NaN, +Inf or -Inf at a place that check could miss: the first and last samples,
 * under a window's zeros (win_length < n_fft), between frames (hop > n_fft), after the last
 * uncentred frame, in the second signal of a batch; for every transform, power and scaling
 * that could hide one (dB's floor and clamp, MFCC, PCEN, float16). Every one must be
 * NON_FINITE_INPUT naming the sample, and the same input without it must compute. */
typedef struct finite_case {
    const char *name;
    int32_t transform, center, pad_mode, scaling, feature, dtype;
    double power;
    int64_t n_fft, hop, win_length;
} finite_case;

static void expect_found(melspec_plan *plan, float *x, int64_t n_signals, int64_t n, int64_t at,
                         float bad, void *out, size_t n_bytes, const char *name)
{
    const float kept = x[at];
    x[at] = bad;
    const melspec_status status = melspec_execute(plan, x, n_signals, n, out, n_bytes);
    char want[96];
    snprintf(want, sizeof want, "signal %lld, offset %lld) is %s", (long long)(at / n),
             (long long)(at % n), isnan(bad) ? "NaN" : "infinite");
    if (status != MELSPEC_ERROR_NON_FINITE_INPUT ||
        strstr(melspec_plan_last_error(plan), want) == NULL)
        fail_msg("%s: %g at sample %lld: %s (%s), want \"%s\"", name, (double)bad,
                 (long long)at, melspec_status_name(status), melspec_plan_last_error(plan),
                 want);
    x[at] = kept;
}

static void test_non_finite_samples_are_found_wherever_they_are(void **state)
{
    (void)state;
    const finite_case cases[] = {
        /* name, transform, center, pad, scaling, feature, dtype, power, n_fft, hop, win */
        {"mel dB", MELSPEC_TRANSFORM_MEL, 1, MELSPEC_PAD_CONSTANT, MELSPEC_SCALING_POWER_TO_DB,
         MELSPEC_FEATURE_NONE, MELSPEC_DTYPE_FLOAT32, 2.0, 400, 160, 0},
        {"mel magnitude, reflect", MELSPEC_TRANSFORM_MEL, 1, MELSPEC_PAD_REFLECT,
         MELSPEC_SCALING_AMPLITUDE_TO_DB, MELSPEC_FEATURE_NONE, MELSPEC_DTYPE_FLOAT32, 1.0, 512,
         128, 0},
        {"linear power 0.5, float16", MELSPEC_TRANSFORM_LINEAR, 1, MELSPEC_PAD_EDGE,
         MELSPEC_SCALING_LOG, MELSPEC_FEATURE_NONE, MELSPEC_DTYPE_FLOAT16, 0.5, 256, 64, 0},
        {"complex STFT", MELSPEC_TRANSFORM_STFT, 1, MELSPEC_PAD_CONSTANT, MELSPEC_SCALING_NONE,
         MELSPEC_FEATURE_NONE, MELSPEC_DTYPE_FLOAT32, 2.0, 400, 100, 0},
        {"MFCC", MELSPEC_TRANSFORM_MEL, 1, MELSPEC_PAD_CONSTANT, MELSPEC_SCALING_POWER_TO_DB,
         MELSPEC_FEATURE_MFCC, MELSPEC_DTYPE_FLOAT32, 2.0, 512, 160, 0},
        {"PCEN", MELSPEC_TRANSFORM_MEL, 1, MELSPEC_PAD_CONSTANT, MELSPEC_SCALING_NONE,
         MELSPEC_FEATURE_PCEN, MELSPEC_DTYPE_FLOAT32, 2.0, 512, 160, 0},
        {"window shorter than the frame", MELSPEC_TRANSFORM_MEL, 1, MELSPEC_PAD_CONSTANT,
         MELSPEC_SCALING_NONE, MELSPEC_FEATURE_NONE, MELSPEC_DTYPE_FLOAT32, 2.0, 512, 128, 200},
        {"hop past the frame", MELSPEC_TRANSFORM_MEL, 0, MELSPEC_PAD_CONSTANT,
         MELSPEC_SCALING_POWER_TO_DB, MELSPEC_FEATURE_NONE, MELSPEC_DTYPE_FLOAT32, 2.0, 256, 700,
         0},
        {"uncentred, a tail", MELSPEC_TRANSFORM_LINEAR, 0, MELSPEC_PAD_CONSTANT,
         MELSPEC_SCALING_NONE, MELSPEC_FEATURE_NONE, MELSPEC_DTYPE_FLOAT32, 2.0, 1103, 300, 0},
    };
    enum { N = 5000 };
    const float bad_values[] = {NAN, INFINITY, -INFINITY};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const finite_case *k = &cases[c];
        melspec_config config = default_cpu_config();
        config.sample_rate = 16000.0;
        config.transform = k->transform;
        config.center = k->center;
        config.pad_mode = k->pad_mode;
        config.scaling = k->scaling;
        config.feature = k->feature;
        config.output_dtype = k->dtype;
        config.power = k->power;
        config.n_fft = k->n_fft;
        config.hop_length = k->hop;
        config.win_length = k->win_length;
        config.n_mels = 40;
        if (k->feature == MELSPEC_FEATURE_MFCC) config.n_mfcc = 13;
        printf("  %s\n", k->name);
        melspec_plan *plan = test_plan_create(&config);
        size_t n_bytes = 0;
        void *out = test_output_for(plan, 2, N, &n_bytes);
        float *x = malloc(2 * N * sizeof *x);
        assert_non_null(x);
        make_test_signal(x, 2 * N, 16000.0, 40 + c);
        /* the places: both ends of both signals, the middle, under the window's zeros (the
         * first samples of an uncentred frame with a short window, or of frame 1), between
         * two frames when the hop is longer, and after the last uncentred frame */
        const int64_t frame1 = k->hop - (k->center ? k->n_fft / 2 : 0);
        const int64_t last_start = k->center ? 0 : (N - k->n_fft) / k->hop * k->hop;
        const int64_t places[] = {0, N - 1, N, 2 * N - 1, N / 2, frame1, frame1 + 1,
                                  k->n_fft + 5, last_start + k->n_fft, N + frame1 + 2};
        for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
            if (places[p] < 0 || places[p] >= 2 * N) continue;
            for (size_t b = 0; b < 3; b++)
                expect_found(plan, x, 2, N, places[p], bad_values[b], out, n_bytes, k->name);
        }
        if (melspec_execute(plan, x, 2, N, out, n_bytes) != MELSPEC_OK)
            fail_msg("%s: the finite input: %s", k->name, melspec_plan_last_error(plan));
        free(out);
        free(x);
        melspec_plan_destroy(plan);
    }
}

/* Finite samples whose spectrum overflows float (|X|^2 past FLT_MAX) are not NaN or Inf input:
 * computed as before, inf where it overflows. */
static void test_overflowing_values_are_not_refused(void **state)
{
    (void)state;
    melspec_config config = default_cpu_config();
    config.sample_rate = 16000.0;
    config.n_fft = 400;
    config.hop_length = 160;
    config.n_mels = 40;
    melspec_plan *plan = test_plan_create(&config);
    enum { N = 4000 };
    size_t n_bytes = 0;
    float *out = test_output_for(plan, 1, N, &n_bytes);
    float *x = malloc(N * sizeof *x);
    assert_non_null(x);
    make_test_signal(x, N, 16000.0, 3);
    for (int64_t i = 0; i < N; i++) x[i] *= 1e30f; /* finite; squared past FLT_MAX */
    assert_int_equal(melspec_execute(plan, x, 1, N, out, n_bytes), MELSPEC_OK);
    int infinite = 0;
    for (size_t i = 0; i < n_bytes / sizeof *out; i++) infinite += isinf(out[i]) != 0;
    assert_true(infinite > 0);
    x[N - 7] = NAN; /* found after the overflow sent the input through the scan */
    assert_int_equal(melspec_execute(plan, x, 1, N, out, n_bytes),
                     MELSPEC_ERROR_NON_FINITE_INPUT);
    assert_non_null(strstr(melspec_plan_last_error(plan), "offset 3993) is NaN"));
    free(x);
    free(out);
    melspec_plan_destroy(plan);
}

/* A filterbank with no weight at all (every band empty: librosa warns and computes zeros) would
 * hide a NaN from the blocks' check: the input is scanned instead. */
static void test_nan_is_found_with_every_band_empty(void **state)
{
    (void)state;
    melspec_config config = default_cpu_config();
    config.sample_rate = 16000.0;
    config.n_fft = 8; /* bins every 2000 Hz */
    config.hop_length = 4;
    config.n_mels = 2;
    config.fmin = 2100.0;
    config.fmax = 2300.0; /* both triangles between two bins */
    melspec_plan *plan = test_plan_create(&config);
    int64_t bands[2], n_empty = 0;
    assert_int_equal(melspec_plan_empty_mel_bands(plan, bands, sizeof bands, &n_empty),
                     MELSPEC_OK);
    assert_int_equal(n_empty, 2);
    float x[64], out[2 * 64];
    make_test_signal(x, 64, 16000.0, 9);
    assert_int_equal(melspec_execute(plan, x, 1, 64, out, sizeof out), MELSPEC_OK);
    x[30] = NAN;
    assert_int_equal(melspec_execute(plan, x, 1, 64, out, sizeof out),
                     MELSPEC_ERROR_NON_FINITE_INPUT);
    assert_non_null(strstr(melspec_plan_last_error(plan), "offset 30) is NaN"));
    melspec_plan_destroy(plan);
}

/* The CPU constant-Q transform scans its input itself (cpu_execute): NaN and Inf are refused
 * there too, with the sample named. */
static void test_cqt_refuses_non_finite_samples(void **state)
{
    (void)state;
    melspec_cqt_config cqt;
    melspec_cqt_config_init(&cqt);
    cqt.sample_rate = 22050.0;
    cqt.hop_length = 512;
    cqt.backend = MELSPEC_BACKEND_CPU;
    melspec_plan *plan = NULL;
    char why[256];
    if (melspec_cqt_plan_create(&plan, &cqt, why, sizeof why) != MELSPEC_OK) fail_msg("%s", why);
    enum { N = 22050 };
    size_t n_bytes = 0;
    void *out = test_output_for(plan, 1, N, &n_bytes);
    float *x = malloc(N * sizeof *x);
    assert_non_null(x);
    make_test_signal(x, N, 22050.0, 12);
    x[N - 1] = -INFINITY;
    assert_int_equal(melspec_execute(plan, x, 1, N, out, n_bytes),
                     MELSPEC_ERROR_NON_FINITE_INPUT);
    assert_non_null(strstr(melspec_plan_last_error(plan), "offset 22049) is infinite"));
    x[N - 1] = 0.0f;
    assert_int_equal(melspec_execute(plan, x, 1, N, out, n_bytes), MELSPEC_OK);
    free(x);
    free(out);
    melspec_plan_destroy(plan);
}

static void test_no_filterbank_without_mel(void **state)
{
    (void)state;
    melspec_config c = default_cpu_config();
    c.transform = MELSPEC_TRANSFORM_LINEAR;
    melspec_plan *plan = NULL;
    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_OK);
    float fb[16];
    assert_int_equal(melspec_plan_mel_filterbank(plan, fb, 16), MELSPEC_ERROR_UNSUPPORTED);
    melspec_plan_destroy(plan);
}

static void test_message_buffer_is_truncated_safely(void **state)
{
    (void)state;
    melspec_config c = default_cpu_config();
    c.fmax = 1e6;
    char message[8];
    memset(message, 'x', sizeof message);
    melspec_plan *plan = NULL;
    assert_int_equal(melspec_plan_create(&plan, &c, message, sizeof message),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(strlen(message), sizeof message - 1);
    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_ERROR_INVALID_ARGUMENT);
}

static void test_cuda_without_device_is_a_status(void **state)
{
    (void)state;
    if (melspec_cuda_device_count() > 0) skip();
    melspec_config c = default_cpu_config();
    c.backend = MELSPEC_BACKEND_CUDA;
    expect_create_fails(&c, MELSPEC_ERROR_BACKEND_UNAVAILABLE, "CUDA");
    c.backend = MELSPEC_BACKEND_AUTO;
    melspec_plan *plan = NULL;
    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_OK);
    assert_int_equal(melspec_plan_backend(plan), MELSPEC_BACKEND_CPU);
    melspec_plan_destroy(plan);
}

static void test_status_strings_and_version(void **state)
{
    (void)state;
    const melspec_status all[] = {
#define MELSPEC_TEST_STATUS_(name, value, text) MELSPEC_##name,
        MELSPEC_STATUS_MAP(MELSPEC_TEST_STATUS_)
#undef MELSPEC_TEST_STATUS_
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        assert_true(all[i] <= 0);
        assert_string_not_equal(melspec_status_string(all[i]), "unknown status");
        assert_non_null(strstr(melspec_status_name(all[i]), "MELSPEC_"));
        if (i > 0) assert_int_equal(all[i], -(int)i); /* pinned: 0, -1, -2, ... */
    }
    assert_string_equal(melspec_status_string((melspec_status)-999), "unknown status");
    assert_string_equal(melspec_status_string(MELSPEC_ERROR_BUFFER_TOO_SMALL),
                        "output buffer too small");
    assert_int_equal(melspec_version_number(), MELSPEC_VERSION_NUMBER);
    assert_non_null(strstr(melspec_version_string(), "."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_configs_are_refused_with_reasons),
        cmocka_unit_test(test_struct_size_rules),
        cmocka_unit_test(test_defaults_resolve_like_librosa),
        cmocka_unit_test(test_null_pointers),
        cmocka_unit_test(test_bad_execute_arguments),
        cmocka_unit_test(test_non_finite_samples_are_found_wherever_they_are),
        cmocka_unit_test(test_overflowing_values_are_not_refused),
        cmocka_unit_test(test_nan_is_found_with_every_band_empty),
        cmocka_unit_test(test_cqt_refuses_non_finite_samples),
        cmocka_unit_test(test_no_filterbank_without_mel),
        cmocka_unit_test(test_message_buffer_is_truncated_safely),
        cmocka_unit_test(test_cuda_without_device_is_a_status),
        cmocka_unit_test(test_status_strings_and_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
