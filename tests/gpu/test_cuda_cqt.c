/*
 * Constant-Q plans on the CUDA backend against the CPU backend (the reference, within 1e-6 of
 * librosa), on random-looking audio over the parameter space; exits 77 (skipped) where no CUDA
 * device exists.
 *
 * The GPU replaces libsoxr by the FIR measured from it and sums in float32, so it is compared
 * with two CPU references: the CPU backend as it runs (libsoxr; the GPU's goal is 1e-4 of
 * librosa, the test asks 1e-5 of the CPU) and the CPU backend running the same measured FIR in
 * double (what the GPU computes, up to float32 sums: 2e-6). dB outputs are compared in dB with the
 * top_db clamp checked (output_error), log outputs as the amplitudes they stand for. Every output
 * buffer is poisoned with NaN before the call and
 * followed by a guard region that must be intact afterwards.
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
#include <cuda_runtime_api.h>

#include "cpu/cpu_backend.h"
#include "melspec.h"
#include "melspec_cuda.h"
#include "test_support.h"

#define GUARD_BYTES 256
#define GUARD_BYTE 0xA5
#define POISON_BYTE 0xFF /* all ones: NaN in float32 */
#define CPU_TOLERANCE 1e-5
#define FIR_TOLERANCE 2e-6
/* dB: the float32 rounding of the dB values themselves, which the linear-domain tolerances above
 * do not cover: an ulp of a value near 80 dB is 7.6e-6, and 20 log10f of a magnitude near 1
 * rounds by a few 1e-6 dB (CUDA's log10f is within 2 ulps) */
#define DB_TOLERANCE 2e-5

/* ---- helpers ---------------------------------------------------------------------------------- */

static melspec_plan *make_plan(melspec_cqt_config config, melspec_backend backend)
{
    config.backend = backend;
    melspec_plan *plan = NULL;
    char why[512];
    if (melspec_cqt_plan_create(&plan, &config, why, sizeof why) != MELSPEC_OK)
        fail_msg("%s plan: %s", backend == MELSPEC_BACKEND_CUDA ? "CUDA" : "CPU", why);
    assert_int_equal(melspec_plan_backend(plan), backend);
    return plan;
}

static size_t output_bytes(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    size_t bytes = 0;
    PLAN_OK(plan, melspec_plan_output_bytes(plan, n_signals, n_samples, &bytes));
    return bytes;
}

/* A host buffer of `bytes` poisoned with NaN, followed by a guard region. */
static float *poisoned(size_t bytes)
{
    unsigned char *buffer = malloc(bytes + GUARD_BYTES);
    assert_non_null(buffer);
    memset(buffer, POISON_BYTE, bytes);
    memset(buffer + bytes, GUARD_BYTE, GUARD_BYTES);
    return (float *)buffer;
}

static void assert_guard(const void *buffer, size_t bytes)
{
    const unsigned char *guard = (const unsigned char *)buffer + bytes;
    for (size_t i = 0; i < GUARD_BYTES; i++)
        if (guard[i] != GUARD_BYTE) fail_msg("output overrun: guard byte %zu changed", i);
}

static float *run_host(melspec_plan *plan, const float *input, int64_t n_signals,
                       int64_t n_samples)
{
    const size_t bytes = output_bytes(plan, n_signals, n_samples);
    float *out = poisoned(bytes);
    PLAN_OK(plan, melspec_execute(plan, input, n_signals, n_samples, out, bytes));
    assert_guard(out, bytes);
    return out;
}

static float *signals(int64_t n_signals, int64_t n_samples, double sample_rate, uint64_t seed)
{
    float *x = malloc((size_t)(n_signals * n_samples) * sizeof *x);
    assert_non_null(x);
    for (int64_t c = 0; c < n_signals; c++)
        make_test_signal(x + c * n_samples, n_samples, sample_rate, seed + (uint64_t)c);
    return x;
}

/*
 * The GPU's output against a CPU reference, as an error to hold to tolerance (compare.h's
 * definitions): complex values by normalized error with the modulus; dB outputs in dB with the
 * clamp (compare_decibels), element-wise within what the tolerance allows in the linear domain at
 * each value's depth below the clip's peak, and the peaks and floors (max - top_db) the same, the
 * error being the worst fraction of its allowance times the tolerance, or infinity when a peak,
 * the clamp or a non-finite value disagrees; log outputs as the values they stand for (exp);
 * magnitudes by normalized error. NaN anywhere makes it infinite.
 */
static double output_error(const melspec_cqt_config *c, const float *gpu, const float *cpu,
                           size_t n_floats, int64_t n_clips, double tolerance)
{
    if (c->output == MELSPEC_CQT_OUTPUT_COMPLEX)
        return compare_complex_floats(gpu, cpu, n_floats / 2).normalized_error;
    const double factor = c->scaling == MELSPEC_SCALING_POWER_TO_DB       ? 10.0
                          : c->scaling == MELSPEC_SCALING_AMPLITUDE_TO_DB ? 20.0
                                                                          : 0.0;
    if (factor > 0.0) {
        const compare_db_result r = compare_decibels(gpu, cpu, n_floats, (size_t)n_clips, factor,
                                                     c->top_db, tolerance, DB_TOLERANCE);
        const double error = compare_decibels_error(&r, tolerance);
        if (isinf(error)) {
            char text[256];
            printf("    dB: %s\n", compare_decibels_describe(&r, text, sizeof text));
        }
        return error;
    }
    if (c->scaling == MELSPEC_SCALING_LOG) return compare_logs(gpu, cpu, n_floats).normalized_error;
    return compare_floats(gpu, cpu, n_floats).normalized_error;
}

/* ---- the parameter space ---------------------------------------------------------------------- */

typedef struct cqt_case {
    const char *name;
    double sample_rate;
    int64_t hop, n_bins, bins_per_octave;
    double fmin, filter_scale;
    int norm, pad_mode, scale, output, scaling, ref_max, layout, gamma_erb;
    int64_t n_signals;
    double seconds;
    double top_db; /* 0: the default (80), but INFINITY for power dB; else a clamp that bites */
} cqt_case;

static const cqt_case cases[] = {
    {"defaults, batch of 3", 22050, 512, 84, 12, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 3, 0.7, 0},
    {"16 kHz hop 160", 16000, 160, 72, 12, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0.6, 0},
    {"early 1/16 (44.1 kHz, hop 4096)", 44100, 4096, 36, 12, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0.5,
     0},
    {"early 1/16 without scale", 44100, 4096, 36, 12, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0.5, 0},
    {"hop 100: two halvings", 22050, 100, 96, 24, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0.4, 0},
    {"odd hop: no halving", 8000, 99, 48, 12, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0.4, 0},
    {"36 per octave, filter_scale 2", 22050, 256, 144, 36, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0.4, 0},
    {"norm none, reflect", 22050, 256, 60, 12, 55.0, 0.5, MELSPEC_CQT_NORM_NONE,
     MELSPEC_PAD_REFLECT, 1, 0, 0, 0, 0, 0, 1, 0.4, 0},
    {"vqt ERB, edge, frames major", 22050, 512, 84, 12, 0, 1, 0, MELSPEC_PAD_EDGE, 1, 0, 0, 0,
     MELSPEC_LAYOUT_FRAMES_MAJOR, 1, 2, 0.5, 0},
    {"amplitude dB, ref max", 22050, 512, 84, 12, 0, 1, 0, 0, 1, MELSPEC_CQT_OUTPUT_MAGNITUDE,
     MELSPEC_SCALING_AMPLITUDE_TO_DB, 1, 0, 0, 3, 0.5, 0},
    {"power dB, fixed ref, no clamp", 16000, 256, 60, 12, 0, 1, 0, 0, 1,
     MELSPEC_CQT_OUTPUT_MAGNITUDE, MELSPEC_SCALING_POWER_TO_DB, 0, 0, 0, 2, 0.5, 0},
    /* the test signals span less than 80 dB: these floors are reached, so the clamp is checked */
    {"amplitude dB, ref max, top_db 50", 22050, 512, 84, 12, 0, 1, 0, 0, 1,
     MELSPEC_CQT_OUTPUT_MAGNITUDE, MELSPEC_SCALING_AMPLITUDE_TO_DB, 1, 0, 0, 2, 0.3, 50.0},
    {"power dB, fixed ref, top_db 30", 16000, 256, 60, 12, 0, 1, 0, 0, 1,
     MELSPEC_CQT_OUTPUT_MAGNITUDE, MELSPEC_SCALING_POWER_TO_DB, 0, MELSPEC_LAYOUT_FRAMES_MAJOR, 0,
     2, 0.3, 30.0},
    {"magnitude, log, frames major", 22050, 256, 72, 12, 0, 1, 0, 0, 1,
     MELSPEC_CQT_OUTPUT_MAGNITUDE, MELSPEC_SCALING_LOG, 0, MELSPEC_LAYOUT_FRAMES_MAJOR, 0, 1, 0.4,
     0},
};

static melspec_cqt_config config_for(const cqt_case *k)
{
    melspec_cqt_config c;
    melspec_cqt_config_init(&c);
    c.sample_rate = k->sample_rate;
    c.hop_length = k->hop;
    c.n_bins = k->n_bins;
    c.bins_per_octave = k->bins_per_octave;
    c.fmin = k->fmin;
    c.filter_scale = k->filter_scale;
    c.norm = k->norm;
    c.pad_mode = k->pad_mode;
    c.scale = k->scale;
    c.output = k->output;
    c.scaling = k->scaling;
    c.ref_mode = k->ref_max ? MELSPEC_REF_MAX : MELSPEC_REF_VALUE;
    if (k->top_db > 0.0) c.top_db = k->top_db;
    else if (k->scaling == MELSPEC_SCALING_POWER_TO_DB) c.top_db = INFINITY;
    c.layout = k->layout;
    c.gamma_mode = k->gamma_erb ? MELSPEC_VQT_GAMMA_ERB : MELSPEC_VQT_GAMMA_FIXED;
    c.max_batch = k->n_signals;
    c.max_samples = (int64_t)(k->seconds * k->sample_rate);
    return c;
}

/* Values at their clip's floor (max - top_db, within DB_TOLERANCE), over n_clips contiguous
 * clips: a case that sets top_db must reach it, or its clamp check checks nothing. */
static size_t count_at_floor(const float *values, size_t n, int64_t n_clips, double top_db)
{
    const size_t per_clip = n / (size_t)n_clips;
    size_t count = 0;
    for (size_t clip = 0; clip < (size_t)n_clips; clip++) {
        const float *v = values + clip * per_clip;
        double peak = -INFINITY;
        for (size_t i = 0; i < per_clip; i++) peak = fmax(peak, v[i]);
        for (size_t i = 0; i < per_clip; i++) count += v[i] <= peak - top_db + DB_TOLERANCE;
    }
    return count;
}

/* One case of n samples on the GPU against both CPU references (libsoxr, and the FIR the GPU
 * applies): prints the errors; returns the number of failures (a tolerance missed, or a clamp
 * that a case asking for one never reaches). */
static int check_against_cpu(const cqt_case *k, const melspec_cqt_config *c, int64_t n,
                             uint64_t seed)
{
    int failures = 0;
    float *x = signals(k->n_signals, n, k->sample_rate, seed);
    melspec_plan *gpu = make_plan(*c, MELSPEC_BACKEND_CUDA);
    melspec_plan *cpu = make_plan(*c, MELSPEC_BACKEND_CPU);
    melspec_plan *fir = make_plan(*c, MELSPEC_BACKEND_CPU);
    PLAN_OK(fir, melspec_cpu_cqt_use_fir(fir, 1));
    float *g = run_host(gpu, x, k->n_signals, n);
    float *r = run_host(cpu, x, k->n_signals, n);
    float *f = run_host(fir, x, k->n_signals, n);
    const size_t n_floats = output_bytes(gpu, k->n_signals, n) / sizeof(float);
    const double e_cpu = output_error(c, g, r, n_floats, k->n_signals, CPU_TOLERANCE);
    const double e_fir = output_error(c, g, f, n_floats, k->n_signals, FIR_TOLERANCE);
    printf("  %-40s n %-7lld vs CPU %.2e  vs CPU-FIR %.2e\n", k->name, (long long)n, e_cpu,
           e_fir);
    if (k->top_db > 0.0) {
        const size_t clamped = count_at_floor(r, n_floats, k->n_signals, k->top_db);
        printf("    %zu of %zu values at the floor\n", clamped, n_floats);
        if (clamped == 0) failures++;
    }
    if (!(e_cpu <= CPU_TOLERANCE) || !(e_fir <= FIR_TOLERANCE)) {
        printf("    ABOVE TOLERANCE (%g, %g)\n", CPU_TOLERANCE, FIR_TOLERANCE);
        failures++;
    }
    free(g);
    free(r);
    free(f);
    free(x);
    melspec_plan_destroy(gpu);
    melspec_plan_destroy(cpu);
    melspec_plan_destroy(fir);
    return failures;
}

static void test_parameter_space_matches_cpu(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const melspec_cqt_config c = config_for(&cases[i]);
        failures += check_against_cpu(&cases[i], &c, c.max_samples, 100 + i);
    }
    assert_int_equal(failures, 0);
}

/* -- librosa's parameter space (issue 15): every res_type on the GPU (the FIR measured from
 * libsoxr at that quality, or resample_poly's designed filter) against both CPU references,
 * with halvings and with early downsampling. */
static void test_res_types_match_cpu(void **state)
{
    (void)state;
    int failures = 0;
    const size_t picks[] = {2, 4}; /* early 1/16; hop 100: two halvings */
    for (int32_t res_type = MELSPEC_CQT_RES_SOXR_HQ; res_type <= MELSPEC_CQT_RES_POLYPHASE;
         res_type++) {
        for (size_t p = 0; p < sizeof picks / sizeof picks[0]; p++) {
            cqt_case k = cases[picks[p]];
            k.n_signals = 1;
            melspec_cqt_config c = config_for(&k);
            c.res_type = res_type;
            printf("  res_type %d:", (int)res_type);
            failures += check_against_cpu(&k, &c, c.max_samples, 300 + (uint64_t)res_type);
        }
    }
    assert_int_equal(failures, 0);
}

/* ---- the kernels' tiling edges ---------------------------------------------------------------- */

/* The decimator tiles 1024 outputs per block and one launch covers up to
 * MELSPEC_K_CQT_MAX_OCTAVES (16) octaves: lengths one past a tile, lengths that are no multiple
 * of anything, one octave, 18 octaves (two launches), early downsampling, batches and both
 * layouts, each against both CPU references at the parameter space's tolerances. */
typedef struct tiling_case {
    cqt_case base;     /* seconds unused: n_samples says the length */
    int64_t n_samples;
} tiling_case;

static const tiling_case tiling_cases[] = {
    {{"first halving one past a tile", 22050, 512, 84, 12, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0},
     2049},
    {{"odd length, frames major, batch 3", 22050, 256, 72, 12, 0, 1, 0, 0, 1, 0, 0, 0,
      MELSPEC_LAYOUT_FRAMES_MAJOR, 0, 3, 0, 0},
     10243},
    {{"one octave", 22050, 333, 12, 12, 440.0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0}, 3001},
    {{"one octave, magnitude, frames major", 16000, 160, 12, 12, 220.0, 1, 0, MELSPEC_PAD_REFLECT,
      1, MELSPEC_CQT_OUTPUT_MAGNITUDE, 0, 0, MELSPEC_LAYOUT_FRAMES_MAJOR, 0, 1, 0, 0},
     4099},
    {{"18 octaves: two launches", 22050, 131072, 18, 1, 0.05, 1, 0, 0, 1,
      MELSPEC_CQT_OUTPUT_MAGNITUDE, 0, 0, 0, 0, 2, 0, 0},
     270001},
    {{"18 octaves, complex, frames major", 22050, 131072, 18, 1, 0.05, 1, 0, MELSPEC_PAD_EDGE, 1,
      0, 0, 0, MELSPEC_LAYOUT_FRAMES_MAJOR, 0, 1, 0, 0},
     262145},
    {{"early downsampling, odd length, batch 2", 44100, 2048, 24, 12, 0, 1, 0, 0, 1, 0, 0, 0, 0,
      0, 2, 0, 0},
     22055},
    {{"early downsampling, dB, frames major", 44100, 4096, 36, 12, 0, 1, 0, 0, 0,
      MELSPEC_CQT_OUTPUT_MAGNITUDE, MELSPEC_SCALING_AMPLITUDE_TO_DB, 1,
      MELSPEC_LAYOUT_FRAMES_MAJOR, 0, 3, 0, 0},
     17411},
};

static void test_tiling_edges_match_cpu(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof tiling_cases / sizeof *tiling_cases; i++) {
        const int64_t n = tiling_cases[i].n_samples;
        melspec_cqt_config c = config_for(&tiling_cases[i].base);
        c.max_samples = n;
        failures += check_against_cpu(&tiling_cases[i].base, &c, n, 300 + i);
    }
    assert_int_equal(failures, 0);
}

/* ---- device pointers, graphs, capacity -------------------------------------------------------- */

static void test_device_pointers_and_replay(void **state)
{
    (void)state;
    melspec_cqt_config c;
    melspec_cqt_config_init(&c);
    c.max_batch = 2;
    c.max_samples = 11025;
    melspec_plan *plan = make_plan(c, MELSPEC_BACKEND_CUDA);
    float *x = signals(2, 11025, 22050, 7);
    float *host = run_host(plan, x, 2, 11025);
    const size_t bytes = output_bytes(plan, 2, 11025);

    float *d_input = NULL;
    unsigned char *d_output = NULL;
    CUDA_CHECK(cudaMalloc((void **)&d_input, 2 * 11025 * sizeof(float)));
    CUDA_CHECK(cudaMalloc((void **)&d_output, bytes + GUARD_BYTES));
    CUDA_CHECK(cudaMemcpy(d_input, x, 2 * 11025 * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemset(d_output, POISON_BYTE, bytes));
    CUDA_CHECK(cudaMemset(d_output + bytes, GUARD_BYTE, GUARD_BYTES));
    float *back = poisoned(bytes);
    /* twice: a capture, then a replay of the same call */
    for (int round = 0; round < 2; round++) {
        PLAN_OK(plan, melspec_execute_device(plan, d_input, 2, 11025, d_output, bytes));
        CUDA_CHECK(cudaDeviceSynchronize());
        CUDA_CHECK(cudaMemcpy(back, d_output, bytes + GUARD_BYTES, cudaMemcpyDeviceToHost));
        assert_guard(back, bytes);
        assert_memory_equal(back, host, bytes); /* the same kernels on the same input */
    }
    /* a shorter call on the same plan, then the first shape again */
    float *shorter = run_host(plan, x, 1, 5000);
    float *again = run_host(plan, x, 2, 11025);
    assert_memory_equal(again, host, bytes);
    melspec_plan *cpu = make_plan(c, MELSPEC_BACKEND_CPU);
    float *reference = run_host(cpu, x, 1, 5000);
    assert_true(output_error(&c, shorter, reference, output_bytes(cpu, 1, 5000) / sizeof(float),
                             1, CPU_TOLERANCE) <= CPU_TOLERANCE);

    /* host memory is refused as a device pointer */
    assert_int_equal(melspec_execute_device(plan, x, 2, 11025, d_output, bytes),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    free(back);
    free(host);
    free(shorter);
    free(again);
    free(reference);
    free(x);
    CUDA_CHECK(cudaFree(d_input));
    CUDA_CHECK(cudaFree(d_output));
    melspec_plan_destroy(plan);
    melspec_plan_destroy(cpu);
}

static void test_capacity_and_reserve(void **state)
{
    (void)state;
    melspec_cqt_config c;
    melspec_cqt_config_init(&c);
    c.sample_rate = 44100;
    c.hop_length = 4096;
    c.n_bins = 36; /* early downsampling by 16: level buffers of every size */
    c.max_batch = 1;
    c.max_samples = 8000;
    c.fixed_memory = 1; /* refused until reserved; the CPU reference below grows */
    melspec_plan *plan = make_plan(c, MELSPEC_BACKEND_CUDA);
    c.fixed_memory = 0;
    float *x = signals(3, 20000, 44100, 11);
    const size_t bytes = output_bytes(plan, 3, 20000);
    float *out = poisoned(bytes);
    assert_int_equal(melspec_execute(plan, x, 3, 20000, out, bytes), MELSPEC_ERROR_EXCEEDS_PLAN);
    assert_non_null(strstr(melspec_plan_last_error(plan), "melspec_plan_reserve"));
    assert_int_equal(melspec_execute(plan, x, 1, 8, out, bytes), MELSPEC_ERROR_INPUT_TOO_SHORT);
    PLAN_OK(plan, melspec_plan_reserve(plan, 3, 20000));
    PLAN_OK(plan, melspec_execute(plan, x, 3, 20000, out, bytes));
    assert_guard(out, bytes);
    melspec_plan *cpu = make_plan(c, MELSPEC_BACKEND_CPU); /* grows on demand */
    float *reference = run_host(cpu, x, 3, 20000);
    const double error = output_error(&c, out, reference, bytes / sizeof(float), 3, CPU_TOLERANCE);
    printf("  after reserve: vs CPU %.2e\n", error);
    assert_true(error <= CPU_TOLERANCE);
    free(out);
    free(reference);
    free(x);
    melspec_plan_destroy(plan);
    melspec_plan_destroy(cpu);
}

int main(void)
{
    if (melspec_cuda_device_count() == 0) {
        return gpu_test_without_device("test_cuda_cqt");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_space_matches_cpu),
        cmocka_unit_test(test_res_types_match_cpu),
        cmocka_unit_test(test_tiling_edges_match_cpu),
        cmocka_unit_test(test_device_pointers_and_replay),
        cmocka_unit_test(test_capacity_and_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
