/*
 * Constant-Q transform: librosa.cqt and librosa.vqt goldens (tests/fixtures/cqt, made by
 * generate_cqt_fixtures.py), the CPU backend with libsoxr (1e-5 of the peak) and with the FIR
 * measured from libsoxr that the GPU backend applies (1e-4), frame counts, layouts, batches,
 * config errors, and the design's building blocks. Errors are compare.h's: complex values by
 * normalized error, dB values in dB with the top_db clamp (fixture_error).
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <soxr.h>

#include "cpu/cpu_backend.h"
#include "cqt_decimator.h"
#include "dsp/cqt.h"
#include "melspec.h"
#include "test_support.h"

#define GOLDEN_TOLERANCE 1e-5 /* libsoxr: librosa's own resampler */
#define FIR_TOLERANCE 1e-4    /* the GPU's measured-FIR decimation */

/* ---- fixtures -------------------------------------------------------------------------------- */

typedef struct cqt_fixture {
    char name[128];
    char output[32];
    melspec_cqt_config config;
    int64_t n_samples, n_frames;
    float *input;    /* n_samples */
    float *expected; /* n_bins x n_frames (x 2 for complex) */
    size_t n_expected;
} cqt_fixture;

static int parse_norm(const char *v)
{
    if (strcmp(v, "l1") == 0) return MELSPEC_CQT_NORM_L1;
    if (strcmp(v, "l2") == 0) return MELSPEC_CQT_NORM_L2;
    if (strcmp(v, "max") == 0) return MELSPEC_CQT_NORM_MAX;
    return MELSPEC_CQT_NORM_NONE;
}

static int parse_pad(const char *v)
{
    if (strcmp(v, "reflect") == 0) return MELSPEC_PAD_REFLECT;
    if (strcmp(v, "edge") == 0) return MELSPEC_PAD_EDGE;
    return MELSPEC_PAD_CONSTANT;
}

static int parse_window(const char *v)
{
    if (strcmp(v, "hamming") == 0) return MELSPEC_WINDOW_HAMMING;
    if (strcmp(v, "boxcar") == 0 || strcmp(v, "ones") == 0) return MELSPEC_WINDOW_RECTANGULAR;
    return MELSPEC_WINDOW_HANN;
}

/* librosa's res_type names (issue 15) */
static int32_t parse_res_type(const char *v)
{
    static const char *names[] = {"soxr_hq", "soxr_vhq", "soxr_mq", "soxr_lq", "soxr_qq",
                                  "polyphase"};
    for (int32_t i = 0; i < (int32_t)(sizeof names / sizeof names[0]); i++)
        if (strcmp(v, names[i]) == 0) return i;
    fail_msg("unknown res_type %s", v);
    return 0;
}

static void set_field(cqt_fixture *f, const char *key, const char *v)
{
    melspec_cqt_config *c = &f->config;
    if (strcmp(key, "name") == 0) snprintf(f->name, sizeof f->name, "%s", v);
    else if (strcmp(key, "output") == 0) snprintf(f->output, sizeof f->output, "%s", v);
    else if (strcmp(key, "sample_rate") == 0) c->sample_rate = atof(v);
    else if (strcmp(key, "hop_length") == 0) c->hop_length = atoll(v);
    else if (strcmp(key, "fmin") == 0) c->fmin = atof(v);
    else if (strcmp(key, "n_bins") == 0) c->n_bins = atoll(v);
    else if (strcmp(key, "bins_per_octave") == 0) c->bins_per_octave = atoll(v);
    else if (strcmp(key, "tuning") == 0) c->tuning = atof(v);
    else if (strcmp(key, "filter_scale") == 0) c->filter_scale = atof(v);
    else if (strcmp(key, "gamma") == 0 && strcmp(v, "erb") == 0)
        c->gamma_mode = MELSPEC_VQT_GAMMA_ERB;
    else if (strcmp(key, "gamma") == 0) c->gamma = atof(v);
    else if (strcmp(key, "norm") == 0) c->norm = parse_norm(v);
    else if (strcmp(key, "sparsity") == 0) c->sparsity = atof(v);
    else if (strcmp(key, "window") == 0) c->window = parse_window(v);
    else if (strcmp(key, "scale") == 0) c->scale = atoi(v);
    else if (strcmp(key, "pad_mode") == 0) c->pad_mode = parse_pad(v);
    else if (strcmp(key, "n_samples") == 0) f->n_samples = atoll(v);
    else if (strcmp(key, "n_frames") == 0) f->n_frames = atoll(v);
    else if (strcmp(key, "res_type") == 0) c->res_type = parse_res_type(v);
}

/* Reads one fixture: "key value" lines up to "end", then int16 input and float32 output. */
static int load_cqt_fixture(const char *path, cqt_fixture *f)
{
    memset(f, 0, sizeof *f);
    melspec_cqt_config_init(&f->config);
    f->config.backend = MELSPEC_BACKEND_CPU;
    FILE *file = fopen(path, "rb");
    if (file == NULL) return -1;
    char line[512];
    int ended = 0;
    while (!ended && fgets(line, sizeof line, file) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, "end") == 0) {
            ended = 1;
            break;
        }
        char *space = strchr(line, ' ');
        if (space == NULL) continue;
        *space = '\0';
        set_field(f, line, space + 1);
    }
    const int complex_out = strcmp(f->output, "complex") == 0;
    f->n_expected = (size_t)(f->config.n_bins * f->n_frames * (complex_out ? 2 : 1));
    f->input = malloc((size_t)f->n_samples * sizeof *f->input);
    f->expected = malloc(f->n_expected * sizeof *f->expected);
    int16_t *pcm = malloc((size_t)f->n_samples * sizeof *pcm);
    int status = -1;
    if (ended && f->input && f->expected && pcm &&
        fread(pcm, sizeof *pcm, (size_t)f->n_samples, file) == (size_t)f->n_samples &&
        fread(f->expected, sizeof *f->expected, f->n_expected, file) == f->n_expected) {
        for (int64_t i = 0; i < f->n_samples; i++) f->input[i] = (float)pcm[i] / 32768.0f;
        if (!complex_out) {
            f->config.output = MELSPEC_CQT_OUTPUT_MAGNITUDE;
            f->config.scaling = MELSPEC_SCALING_AMPLITUDE_TO_DB;
            f->config.ref_mode = MELSPEC_REF_MAX;
        }
        f->config.max_samples = f->n_samples;
        status = 0;
    }
    free(pcm);
    fclose(file);
    return status;
}

static void free_cqt_fixture(cqt_fixture *f)
{
    free(f->input);
    free(f->expected);
}

/* dB: the rounding of the dB values themselves (a float near 80 has an ulp of 7.6e-6; our peak
 * lands up to 7e-7 dB off librosa's 0, and the floor 80 dB under it). Kept this small, the
 * element-wise test near the peak is as tight as the linear 1e-5 it stands for (8.7e-5 dB). */
#define DB_TOLERANCE 2e-5

/*
 * The plan's output against the fixture's, as an error to hold to tolerance: complex values by
 * compare.h's normalized error with the modulus; dB values (amplitude_to_db, ref max, top_db)
 * in dB with the clamp (compare_decibels), element-wise within what the tolerance allows in
 * amplitude at each value's depth below the peak, and the peaks and floors the same. The error
 * of a dB output is the worst fraction of its allowance times the tolerance (so that it reads
 * like the complex ones), or infinity when a peak, the clamp or a non-finite value disagrees.
 */
static double fixture_error(const cqt_fixture *f, const melspec_cqt_config *resolved,
                            const float *out, double tolerance)
{
    if (f->config.output == MELSPEC_CQT_OUTPUT_COMPLEX) {
        /* infinite when a NaN or Inf mismatches */
        return compare_complex_floats(out, f->expected, f->n_expected / 2).normalized_error;
    }
    const compare_db_result r = compare_decibels(out, f->expected, f->n_expected, 1, 20.0,
                                                 resolved->top_db, tolerance, DB_TOLERANCE);
    const double error = compare_decibels_error(&r, tolerance);
    if (isinf(error)) {
        char text[256];
        print_message("  %s: dB: %s\n", f->name, compare_decibels_describe(&r, text, sizeof text));
    }
    return error;
}

/* The ways the CPU backend can compute: the default, its portable kernel product (what CPUs
 * without AVX2 run), and the measured FIR instead of libsoxr (what the GPU computes). */
typedef enum variant { VARIANT_DEFAULT, VARIANT_PORTABLE, VARIANT_FIR } variant;

static double run_fixture(const cqt_fixture *f, variant how, double tolerance)
{
    melspec_plan *plan = NULL;
    char why[512];
    melspec_status status = melspec_cqt_plan_create(&plan, &f->config, why, sizeof why);
    if (status != MELSPEC_OK) fail_msg("%s: %s", f->name, why);
    if (how == VARIANT_PORTABLE)
        assert_int_equal(melspec_cpu_cqt_use_portable_product(plan), MELSPEC_OK);
    if (how == VARIANT_FIR) assert_int_equal(melspec_cpu_cqt_use_fir(plan, 1), MELSPEC_OK);
    int64_t n_bins = 0, n_frames = 0;
    assert_int_equal(melspec_plan_output_shape(plan, f->n_samples, &n_bins, &n_frames),
                     MELSPEC_OK);
    assert_int_equal(n_bins, f->config.n_bins);
    assert_int_equal(n_frames, f->n_frames);
    size_t bytes = 0;
    assert_int_equal(melspec_plan_output_bytes(plan, 1, f->n_samples, &bytes), MELSPEC_OK);
    assert_int_equal(bytes, f->n_expected * sizeof(float));
    float *out = malloc(bytes);
    assert_non_null(out);
    status = melspec_execute(plan, f->input, 1, f->n_samples, out, bytes);
    if (status != MELSPEC_OK) fail_msg("%s: %s", f->name, melspec_plan_last_error(plan));
    melspec_cqt_config resolved;
    assert_int_equal(melspec_cqt_plan_config(plan, &resolved), MELSPEC_OK);
    const double error = fixture_error(f, &resolved, out, tolerance);
    free(out);
    melspec_plan_destroy(plan);
    return error;
}

static void test_golden_fixtures(void **state)
{
    (void)state;
    const char *dir_path = MELSPEC_FIXTURE_DIR "/cqt";
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    int count = 0;
    double worst_soxr = 0.0, worst_portable = 0.0, worst_fir = 0.0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        const size_t length = strlen(entry->d_name);
        if (length < 5 || strcmp(entry->d_name + length - 4, ".cqt") != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir_path, entry->d_name);
        cqt_fixture f;
        assert_int_equal(load_cqt_fixture(path, &f), 0);
        const double e_soxr = run_fixture(&f, VARIANT_DEFAULT, GOLDEN_TOLERANCE);
        const double e_portable = run_fixture(&f, VARIANT_PORTABLE, GOLDEN_TOLERANCE);
        const double e_fir = run_fixture(&f, VARIANT_FIR, FIR_TOLERANCE);
        print_message("  %-28s libsoxr %.2e  portable %.2e  FIR %.2e\n", f.name, e_soxr,
                      e_portable, e_fir);
        if (e_soxr > GOLDEN_TOLERANCE || e_portable > GOLDEN_TOLERANCE)
            fail_msg("%s: %.3g, portable %.3g > %g (libsoxr)", f.name, e_soxr, e_portable,
                     GOLDEN_TOLERANCE);
        if (e_fir > FIR_TOLERANCE) fail_msg("%s: %.3g > %g (FIR)", f.name, e_fir, FIR_TOLERANCE);
        worst_soxr = e_soxr > worst_soxr ? e_soxr : worst_soxr;
        worst_portable = e_portable > worst_portable ? e_portable : worst_portable;
        worst_fir = e_fir > worst_fir ? e_fir : worst_fir;
        free_cqt_fixture(&f);
        count++;
    }
    closedir(dir);
    print_message("  %d fixtures, worst libsoxr %.2e, portable %.2e, FIR %.2e\n", count,
                  worst_soxr, worst_portable, worst_fir);
    assert_true(count >= 23);
}

/* ---- helpers for the API tests --------------------------------------------------------------- */

static float *test_signal(int64_t n, double sample_rate, unsigned seed)
{
    float *x = malloc((size_t)n * sizeof *x);
    assert_non_null(x);
    srand(seed);
    for (int64_t i = 0; i < n; i++) {
        const double t = (double)i / sample_rate;
        x[i] = (float)(0.3 * sin(2.0 * 3.141592653589793 * 220.0 * t) +
                       0.1 * ((double)rand() / RAND_MAX - 0.5));
    }
    return x;
}

static melspec_plan *make_plan(const melspec_cqt_config *config)
{
    melspec_plan *plan = NULL;
    char why[512];
    if (melspec_cqt_plan_create(&plan, config, why, sizeof why) != MELSPEC_OK)
        fail_msg("plan: %s", why);
    return plan;
}

static float *execute(melspec_plan *plan, const float *x, int64_t n_signals, int64_t n,
                      size_t *n_floats)
{
    size_t bytes = 0;
    assert_int_equal(melspec_plan_output_bytes(plan, n_signals, n, &bytes), MELSPEC_OK);
    float *out = malloc(bytes);
    assert_non_null(out);
    if (melspec_execute(plan, x, n_signals, n, out, bytes) != MELSPEC_OK)
        fail_msg("execute: %s", melspec_plan_last_error(plan));
    *n_floats = bytes / sizeof(float);
    return out;
}

static void cpu_config(melspec_cqt_config *c)
{
    melspec_cqt_config_init(c);
    c->backend = MELSPEC_BACKEND_CPU;
}

/* ---- frame counts, layouts, batches ---------------------------------------------------------- */

static void test_frame_counts(void **state)
{
    (void)state;
    /* librosa.cqt(...).shape[-1] for these configs and lengths (-1: librosa raises, the input is
     * shorter than the early downsampling factor). With early downsampling by f the count is
     * 1 + ceil(n/f) / (hop/f), which can exceed 1 + n/hop. */
    static const int64_t lengths[] = {16, 1000, 1001, 1023, 4097, 22050, 22051};
    static const struct {
        double sample_rate;
        int64_t hop, n_bins;
        int64_t frames[7];
    } cases[] = {
        {22050, 512, 84, {1, 2, 2, 2, 9, 44, 44}},
        {22050, 100, 84, {1, 11, 11, 11, 41, 221, 221}},
        {22050, 99, 84, {1, 11, 11, 11, 42, 223, 223}},
        {16000, 160, 72, {1, 7, 7, 7, 26, 138, 138}},
        {44100, 4096, 36, {-1, 1, 1, 1, 2, 6, 6}},
        {8000, 1, 12, {17, 1001, 1002, 1024, 4098, 22051, 22052}},
        {44100, 1024, 36, {-1, 2, 2, 2, 5, 22, 22}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        melspec_cqt_config config;
        cpu_config(&config);
        config.sample_rate = cases[c].sample_rate;
        config.hop_length = cases[c].hop;
        config.n_bins = cases[c].n_bins;
        melspec_plan *plan = make_plan(&config);
        for (size_t l = 0; l < sizeof lengths / sizeof *lengths; l++) {
            int64_t n_bins = 0, n_frames = 0;
            const melspec_status status =
                melspec_plan_output_shape(plan, lengths[l], &n_bins, &n_frames);
            if (cases[c].frames[l] < 0) {
                assert_int_equal(status, MELSPEC_ERROR_INPUT_TOO_SHORT);
                continue;
            }
            assert_int_equal(status, MELSPEC_OK);
            assert_int_equal(n_bins, cases[c].n_bins);
            if (n_frames != cases[c].frames[l])
                fail_msg("case %zu, %lld samples: %lld frames, librosa %lld", c,
                         (long long)lengths[l], (long long)n_frames,
                         (long long)cases[c].frames[l]);
        }
        melspec_plan_destroy(plan);
    }
}

static void test_layout_batch_and_magnitude(void **state)
{
    (void)state;
    const int64_t n = 11025;
    float *x = malloc((size_t)(2 * n) * sizeof *x);
    float *a = test_signal(n, 22050, 1), *b = test_signal(n, 22050, 2);
    memcpy(x, a, (size_t)n * sizeof *x);
    memcpy(x + n, b, (size_t)n * sizeof *x);

    melspec_cqt_config config;
    cpu_config(&config);
    melspec_plan *bins_major = make_plan(&config);
    config.layout = MELSPEC_LAYOUT_FRAMES_MAJOR;
    melspec_plan *frames_major = make_plan(&config);
    config.layout = MELSPEC_LAYOUT_BINS_MAJOR;
    config.output = MELSPEC_CQT_OUTPUT_MAGNITUDE;
    melspec_plan *magnitude = make_plan(&config);

    int64_t n_bins = 0, n_frames = 0;
    assert_int_equal(melspec_plan_output_shape(bins_major, n, &n_bins, &n_frames), MELSPEC_OK);
    size_t n_batch = 0, n_one = 0, n_fm = 0, n_mag = 0;
    float *batch = execute(bins_major, x, 2, n, &n_batch);
    float *second = execute(bins_major, b, 1, n, &n_one);
    float *fm = execute(frames_major, a, 1, n, &n_fm);
    float *mag = execute(magnitude, a, 1, n, &n_mag);
    assert_int_equal(n_batch, 2 * n_one);
    /* a batch gives each signal's own numbers, bit for bit */
    assert_memory_equal(batch + n_one, second, n_one * sizeof(float));
    for (int64_t k = 0; k < n_bins; k++)
        for (int64_t t = 0; t < n_frames; t++) {
            const float *v = batch + 2 * (k * n_frames + t);
            const float *w = fm + 2 * (t * n_bins + k);
            assert_true(v[0] == w[0] && v[1] == w[1]);
            assert_close(mag[k * n_frames + t], sqrtf(v[0] * v[0] + v[1] * v[1]), 1e-6);
        }
    /* a 220 Hz tone peaks at A3, bin 33 from C1 */
    int64_t loudest = 0;
    for (int64_t k = 0; k < n_bins; k++)
        if (mag[k * n_frames + n_frames / 2] > mag[loudest * n_frames + n_frames / 2]) loudest = k;
    assert_int_equal(loudest, 33);

    free(batch);
    free(second);
    free(fm);
    free(mag);
    melspec_plan_destroy(bins_major);
    melspec_plan_destroy(frames_major);
    melspec_plan_destroy(magnitude);
    free(x);
    free(a);
    free(b);
}

/* ---- the API around the plan ----------------------------------------------------------------- */

static void test_plan_queries(void **state)
{
    (void)state;
    melspec_cqt_config config;
    cpu_config(&config);
    config.fmin = 0.0;       /* C1 */
    config.hop_length = 0;   /* 512 */
    config.n_bins = 0;       /* 84 */
    config.bins_per_octave = 0;
    config.filter_scale = 0; /* 1 */
    config.output = MELSPEC_CQT_OUTPUT_MAGNITUDE;
    config.scaling = MELSPEC_SCALING_AMPLITUDE_TO_DB;
    melspec_plan *plan = make_plan(&config);
    melspec_cqt_config resolved;
    assert_int_equal(melspec_cqt_plan_config(plan, &resolved), MELSPEC_OK);
    assert_close(resolved.fmin, MELSPEC_CQT_DEFAULT_FMIN, 0.0);
    assert_int_equal(resolved.hop_length, 512);
    assert_int_equal(resolved.n_bins, 84);
    assert_int_equal(resolved.bins_per_octave, 12);
    assert_close(resolved.filter_scale, 1.0, 0.0);
    assert_close(resolved.amin, 1e-5, 0.0); /* amplitude_to_db's */
    assert_int_equal(resolved.max_samples, 60 * 22050);
    assert_int_equal(resolved.backend, MELSPEC_BACKEND_CPU);
    assert_int_equal(melspec_plan_backend(plan), MELSPEC_BACKEND_CPU);

    double frequencies[84];
    assert_int_equal(melspec_cqt_plan_frequencies(plan, frequencies, 84 * sizeof(double)), MELSPEC_OK);
    assert_close(frequencies[0], 32.70319566257483, 1e-12);
    assert_close(frequencies[45], 440.0, 1e-9);         /* A4 */
    assert_close(frequencies[83], 3951.066410048992, 1e-9); /* B7 */
    assert_int_equal(melspec_cqt_plan_frequencies(plan, frequencies, 84 * sizeof(double) - 1),
                     MELSPEC_ERROR_BUFFER_TOO_SMALL);

    melspec_config mel;
    float window[4];
    assert_int_equal(melspec_plan_config(plan, &mel), MELSPEC_ERROR_UNSUPPORTED);
    assert_int_equal(melspec_plan_window(plan, window, 4), MELSPEC_ERROR_UNSUPPORTED);
    assert_int_equal(melspec_plan_mel_filterbank(plan, window, 4), MELSPEC_ERROR_UNSUPPORTED);

    /* a mel plan is not a CQT plan */
    melspec_config mel_config;
    melspec_config_init(&mel_config);
    mel_config.backend = MELSPEC_BACKEND_CPU;
    melspec_plan *mel_plan = NULL;
    assert_int_equal(melspec_plan_create(&mel_plan, &mel_config, NULL, 0), MELSPEC_OK);
    assert_int_equal(melspec_cqt_plan_config(mel_plan, &resolved), MELSPEC_ERROR_UNSUPPORTED);
    melspec_plan_destroy(mel_plan);
    melspec_plan_destroy(plan);
    melspec_plan_destroy(NULL);
}

static void test_execute_errors(void **state)
{
    (void)state;
    melspec_cqt_config config;
    cpu_config(&config);
    config.max_samples = 4096;
    config.fixed_memory = 1; /* past max_samples is refused, not grown (test_contract grows) */
    melspec_plan *plan = make_plan(&config);
    float *x = test_signal(8192, 22050, 3);
    static float out[84 * 16 * 2];
    int64_t n_bins, n_frames;
    assert_int_equal(melspec_plan_output_shape(plan, 1, &n_bins, &n_frames), MELSPEC_OK);
    assert_int_equal(n_frames, 1);
    assert_int_equal(melspec_plan_output_shape(plan, 0, &n_bins, &n_frames),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(melspec_execute(plan, x, 1, 8192, out, sizeof out),
                     MELSPEC_ERROR_BUFFER_TOO_SMALL);
    static float big[84 * 17 * 2 * 2];
    assert_int_equal(melspec_execute(plan, x, 1, 8192, big, sizeof big),
                     MELSPEC_ERROR_EXCEEDS_PLAN);
    assert_non_null(strstr(melspec_plan_last_error(plan), "melspec_plan_reserve"));
    assert_int_equal(melspec_plan_reserve(plan, 1, 8192), MELSPEC_OK);
    assert_int_equal(melspec_execute(plan, x, 1, 8192, big, sizeof big), MELSPEC_OK);
    x[100] = NAN;
    assert_int_equal(melspec_execute(plan, x, 1, 8192, big, sizeof big),
                     MELSPEC_ERROR_NON_FINITE_INPUT);
    free(x);
    melspec_plan_destroy(plan);
}

typedef void (*config_edit)(melspec_cqt_config *c);
static void bad_fmin(melspec_cqt_config *c) { c->fmin = -1.0; }
static void bad_nyquist(melspec_cqt_config *c) { c->n_bins = 120; }
static void bad_nyquist_low_rate(melspec_cqt_config *c) { c->sample_rate = 4000; }
static void bad_filter_scale(melspec_cqt_config *c) { c->filter_scale = -0.5; }
static void bad_sparsity(melspec_cqt_config *c) { c->sparsity = 1.0; }
static void bad_hop(melspec_cqt_config *c) { c->hop_length = -512; }
static void huge_hop(melspec_cqt_config *c) { c->hop_length = (int64_t)1 << 61; }
static void bad_bins(melspec_cqt_config *c) { c->n_bins = -3; }
static void bad_bpo(melspec_cqt_config *c) { c->bins_per_octave = -12; }
static void bad_norm(melspec_cqt_config *c) { c->norm = 7; }
static void bad_sample_rate(melspec_cqt_config *c) { c->sample_rate = 0.0; }
static void bad_tuning(melspec_cqt_config *c) { c->tuning = NAN; }
static void bad_scale(melspec_cqt_config *c) { c->scale = 2; }
static void bad_scaling(melspec_cqt_config *c) { c->scaling = MELSPEC_SCALING_POWER_TO_DB; }
static void bad_ref(melspec_cqt_config *c)
{
    c->output = MELSPEC_CQT_OUTPUT_MAGNITUDE;
    c->scaling = MELSPEC_SCALING_AMPLITUDE_TO_DB;
    c->ref = -1.0;
}
static void bad_layout(melspec_cqt_config *c) { c->layout = 5; }
static void bad_fixed_memory(melspec_cqt_config *c) { c->fixed_memory = -1; }
static void bad_gamma(melspec_cqt_config *c) { c->gamma = -1.0; }
static void bad_gamma_mode(melspec_cqt_config *c) { c->gamma_mode = 2; }
/* fuzz_cqt (issue 17): bins that round to one frequency have no bandwidth (a NaN length, once
 * an out-of-memory status); the ERB gamma kept the lowest bin's length finite */
static void no_bandwidth(melspec_cqt_config *c)
{
    c->fmin = 7.90505033345994e-323;
    c->n_bins = 4;
    c->bins_per_octave = 15;
    c->gamma_mode = MELSPEC_VQT_GAMMA_ERB;
}

static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        config_edit edit;
        melspec_status status;
        const char *mentions;
    } cases[] = {
        {bad_fmin, MELSPEC_ERROR_INVALID_ARGUMENT, "fmin"},
        {bad_nyquist, MELSPEC_ERROR_INVALID_ARGUMENT, "Nyquist"},
        {bad_nyquist_low_rate, MELSPEC_ERROR_INVALID_ARGUMENT, "Nyquist"},
        {bad_filter_scale, MELSPEC_ERROR_INVALID_ARGUMENT, "filter_scale"},
        {bad_sparsity, MELSPEC_ERROR_INVALID_ARGUMENT, "sparsity"},
        {bad_hop, MELSPEC_ERROR_INVALID_ARGUMENT, "hop_length"},
        {huge_hop, MELSPEC_ERROR_SIZE_OVERFLOW, "hop_length"},
        {bad_bins, MELSPEC_ERROR_INVALID_ARGUMENT, "n_bins"},
        {bad_bpo, MELSPEC_ERROR_INVALID_ARGUMENT, "bins_per_octave"},
        {bad_norm, MELSPEC_ERROR_INVALID_ARGUMENT, "norm"},
        {bad_sample_rate, MELSPEC_ERROR_INVALID_ARGUMENT, "sample_rate"},
        {bad_tuning, MELSPEC_ERROR_INVALID_ARGUMENT, "tuning"},
        {bad_scale, MELSPEC_ERROR_INVALID_ARGUMENT, "scale"},
        {bad_scaling, MELSPEC_ERROR_INVALID_ARGUMENT, "MAGNITUDE"},
        {bad_ref, MELSPEC_ERROR_INVALID_ARGUMENT, "ref"},
        {bad_layout, MELSPEC_ERROR_INVALID_ARGUMENT, "layout"},
        {bad_fixed_memory, MELSPEC_ERROR_INVALID_ARGUMENT, "fixed_memory"},
        {bad_gamma, MELSPEC_ERROR_INVALID_ARGUMENT, "gamma"},
        {bad_gamma_mode, MELSPEC_ERROR_INVALID_ARGUMENT, "gamma_mode"},
        {no_bandwidth, MELSPEC_ERROR_INVALID_ARGUMENT, "no bandwidth"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        melspec_cqt_config config;
        cpu_config(&config);
        cases[i].edit(&config);
        melspec_plan *plan = (melspec_plan *)&config; /* must become NULL */
        char why[512] = "untouched";
        assert_int_equal(melspec_cqt_plan_create(&plan, &config, why, sizeof why),
                         cases[i].status);
        assert_null(plan);
        if (strstr(why, cases[i].mentions) == NULL)
            fail_msg("case %zu: '%s' does not mention %s", i, why, cases[i].mentions);
    }

    melspec_cqt_config config;
    cpu_config(&config);
    melspec_plan *plan = NULL;
    assert_int_equal(melspec_cqt_plan_create(NULL, &config, NULL, 0), MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_cqt_plan_create(&plan, NULL, NULL, 0), MELSPEC_ERROR_NULL_POINTER);
    config.struct_size = 4;
    assert_int_equal(melspec_cqt_plan_create(&plan, &config, NULL, 0), MELSPEC_ERROR_STRUCT_SIZE);
    /* an older caller's shorter struct: the fields it lacks are zero, meaning the defaults */
    cpu_config(&config);
    config.struct_size = (uint32_t)offsetof(melspec_cqt_config, max_samples);
    assert_int_equal(melspec_cqt_plan_create(&plan, &config, NULL, 0), MELSPEC_OK);
    melspec_plan_destroy(plan);
    /* a newer caller's longer struct is fine with a zero tail, refused otherwise */
    unsigned char bigger[sizeof(melspec_cqt_config) + 16] = {0};
    cpu_config(&config);
    memcpy(bigger, &config, sizeof config);
    ((melspec_cqt_config *)bigger)->struct_size = (uint32_t)sizeof bigger;
    assert_int_equal(melspec_cqt_plan_create(&plan, (melspec_cqt_config *)bigger, NULL, 0),
                     MELSPEC_OK);
    melspec_plan_destroy(plan);
    bigger[sizeof bigger - 1] = 1;
    assert_int_equal(melspec_cqt_plan_create(&plan, (melspec_cqt_config *)bigger, NULL, 0),
                     MELSPEC_ERROR_STRUCT_SIZE);
    assert_int_equal(melspec_cqt_config_size(), sizeof(melspec_cqt_config));
}

/* ---- building blocks: the FFT, the design, the measured FIR ---------------------------------- */

static void test_fft_matches_dft(void **state)
{
    (void)state;
    const int64_t n = 64;
    double data[2 * 64], direct[2 * 64];
    for (int64_t i = 0; i < n; i++) {
        data[2 * i] = sin(0.3 * (double)i) + 0.1 * (double)(i % 5);
        data[2 * i + 1] = cos(1.1 * (double)i);
    }
    for (int64_t k = 0; k < n; k++) {
        long double re = 0, im = 0;
        for (int64_t i = 0; i < n; i++) {
            const long double a = -2.0L * 3.14159265358979323846264338327950288L *
                                  (long double)((k * i) % n) / (long double)n;
            re += data[2 * i] * cosl(a) - data[2 * i + 1] * sinl(a);
            im += data[2 * i] * sinl(a) + data[2 * i + 1] * cosl(a);
        }
        direct[2 * k] = (double)re;
        direct[2 * k + 1] = (double)im;
    }
    assert_int_equal(melspec_dsp_fft_pow2(NULL, data, n, -1), 0);
    for (int64_t i = 0; i < 2 * n; i++) assert_close(data[i], direct[i], 1e-12);
    assert_int_equal(melspec_dsp_fft_pow2(NULL, data, 48, -1), -1);
}

static void test_design_octaves(void **state)
{
    (void)state;
    /* a cutoff near the smallest double: the hop bounds the count, no inf-to-integer cast */
    assert_int_equal(melspec_dsp_cqt_early_downsample_count(11025.0, 4.9e-324, 512, 1), 9);
    assert_int_equal(melspec_dsp_cqt_early_downsample_count(11025.0, NAN, 512, 1), 0);
    melspec_cqt_config config;
    cpu_config(&config);
    melspec_plan *plan = make_plan(&config);
    melspec_cqt_config resolved;
    assert_int_equal(melspec_cqt_plan_config(plan, &resolved), MELSPEC_OK);
    melspec_cqt_design *d = melspec_dsp_cqt_design_create(&resolved, NULL);
    assert_non_null(d);
    /* librosa for the defaults: no early downsampling (the top filter reaches 4122 Hz), then 7
     * octaves of 12 from the top (C7..B7 at 22050 Hz) with frames of 256, each a halving down */
    assert_int_equal(d->early_factor, 1);
    assert_close(d->filter_cutoff, 4122.06407890525, 1e-8);
    assert_int_equal(d->hop_length, 512);
    assert_int_equal(d->n_octaves, 7);
    for (int64_t i = 0; i < 7; i++) {
        assert_int_equal(d->octaves[i].n_fft, 256);
        assert_int_equal(d->octaves[i].halvings, i);
        assert_int_equal(d->octaves[i].first_bin, 72 - 12 * i);
        assert_int_equal(d->octaves[i].hop_length, 512 >> i);
        assert_close(d->octaves[i].sample_rate, 22050.0 / (double)(1 << i), 0.0);
        assert_true(d->octaves[i].nnz > 12 && d->octaves[i].nnz < 12 * 129);
    }
    /* Q = 1 / alpha, alpha = (2^(2/12) - 1) / (2^(2/12) + 1) for bins inside the range */
    const double r = pow(2.0, 2.0 / 12.0);
    assert_close(d->alpha[40], (r - 1.0) / (r + 1.0), 1e-12);
    assert_close(d->lengths[45], 22050.0 * (r + 1.0) / (r - 1.0) / 440.0, 1e-6);
    melspec_dsp_cqt_design_destroy(d);
    melspec_plan_destroy(plan);
}

/* libsoxr through the same calls librosa's soxr package makes, for a reference. */
static int64_t soxr_reference(int64_t factor, const float *x, int64_t n, float *y)
{
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
    size_t done = 0;
    assert_null(soxr_oneshot((double)factor, 1.0, 1, x, (size_t)n, NULL, y,
                             (size_t)(n / factor + 2), &done, &io, &quality, NULL));
    return (int64_t)done;
}

static void test_measured_fir_matches_soxr(void **state)
{
    (void)state;
    static const int64_t factors[] = {2, 4, 8, 16};
    static const int64_t lengths[] = {1, 2, 3, 7, 64, 333, 1000, 4099, 20000};
    float *x = test_signal(20000, 8000, 4);
    float *y = malloc(20000 * sizeof *y);
    double *model = malloc(20000 * sizeof *model);
    for (size_t f = 0; f < sizeof factors / sizeof *factors; f++) {
        melspec_decimator_fir fir;
        assert_int_equal(
            melspec_decimator_fir_measure(factors[f], MELSPEC_CQT_RES_SOXR_HQ, NULL, &fir), 0);
        assert_true(fir.n_taps > 100 * factors[f]);
        if (factors[f] == 2) assert_int_equal(fir.correction_rows, 0);
        double worst = 0.0;
        for (size_t l = 0; l < sizeof lengths / sizeof *lengths; l++) {
            const int64_t n = lengths[l], length = (n + factors[f] - 1) / factors[f];
            const int64_t produced = soxr_reference(factors[f], x, n, y);
            assert_int_equal(produced, (2 * n + factors[f]) / (2 * factors[f]));
            for (int64_t m = produced; m < length; m++) y[m] = 0.0f; /* librosa's fix_length */
            melspec_decimator_fir_apply(&fir, x, n, model);
            double peak = 1e-30, difference = 0.0;
            for (int64_t m = 0; m < length; m++) {
                peak = fabs(y[m]) > peak ? fabs(y[m]) : peak;
                const double d = fabs(model[m] - y[m]);
                difference = d > difference ? d : difference;
            }
            worst = difference / peak > worst ? difference / peak : worst;
        }
        print_message("  1/%lld: %lld taps, start correction %lld x %lld, worst %.2e\n",
                      (long long)factors[f], (long long)fir.n_taps,
                      (long long)fir.correction_rows, (long long)fir.correction_columns, worst);
        assert_true(worst < 2e-6);
        melspec_decimator_fir_free(&fir);
    }
    free(x);
    free(y);
    free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_fixtures),
        cmocka_unit_test(test_frame_counts),
        cmocka_unit_test(test_layout_batch_and_magnitude),
        cmocka_unit_test(test_plan_queries),
        cmocka_unit_test(test_execute_errors),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_fft_matches_dft),
        cmocka_unit_test(test_design_octaves),
        cmocka_unit_test(test_measured_fir_matches_soxr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
