/*
 * The feature stage (issue 15) on the CUDA backend: MFCC and PCEN plans against the same plans on
 * the CPU backend (the reference) offline, and the CUDA backend's streams against its own
 * offline output; exits 77 (skipped) where no CUDA device exists.
 *
 * Accuracy: normalized max error (max |gpu - cpu| / max |cpu|) within 1e-5: the two backends'
 * FFTs differ within float32 rounding (1e-6 of the peak, tests/gpu/test_cuda.c), and the dB
 * stage under MFCC and the per-bin normalization of PCEN carry that without amplifying it past a
 * factor of ten on these signals. Streams: the CUDA backend computes each stream frame's scaled
 * values, src/stream.c applies the feature stage on the host with each stream's state. MFCC's
 * stage is exact double arithmetic on both sides (bit for bit); PCEN's uses exp/log1p/expm1,
 * whose CUDA versions may differ from the host's in the last bit of a double: bit for bit on the
 * emulation (host libm on both sides), within one float32 ulp on a GPU.
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

#include "melspec.h"
#include "melspec_cuda.h"
#include "test_support.h"

#define SAMPLE_RATE 16000.0
#define N_SAMPLES 12000
#define N_SIGNALS 3
#define TOLERANCE 1e-5

typedef struct feature_case {
    const char *name;
    int32_t transform, feature, scaling, layout, dtype, mel_product;
    double top_db;
    int64_t n_fft, hop, n_mels, n_mfcc, max_size;
    int32_t dct_type, dct_norm;
    double lifter;
} feature_case;

static const feature_case cases[] = {
    {"mfcc librosa (top_db 80 per clip)", MELSPEC_TRANSFORM_MEL, MELSPEC_FEATURE_MFCC,
     MELSPEC_SCALING_POWER_TO_DB, MELSPEC_LAYOUT_BINS_MAJOR, MELSPEC_DTYPE_FLOAT32,
     MELSPEC_MEL_PRODUCT_SPARSE, 80.0, 512, 160, 40, 20, 1, 2, MELSPEC_DCT_NORM_ORTHO, 0.0},
    {"mfcc dct1 lifter frames-major gemm", MELSPEC_TRANSFORM_MEL, MELSPEC_FEATURE_MFCC,
     MELSPEC_SCALING_POWER_TO_DB, MELSPEC_LAYOUT_FRAMES_MAJOR, MELSPEC_DTYPE_FLOAT32,
     MELSPEC_MEL_PRODUCT_GEMM, INFINITY, 400, 160, 40, 13, 1, 1, MELSPEC_DCT_NORM_NONE, 22.0},
    {"mfcc dct3 float16 gemm top_db", MELSPEC_TRANSFORM_MEL, MELSPEC_FEATURE_MFCC,
     MELSPEC_SCALING_POWER_TO_DB, MELSPEC_LAYOUT_BINS_MAJOR, MELSPEC_DTYPE_FLOAT16,
     MELSPEC_MEL_PRODUCT_GEMM, 80.0, 512, 128, 64, 30, 1, 3, MELSPEC_DCT_NORM_ORTHO, 0.0},
    {"mfcc of log, fixed ref", MELSPEC_TRANSFORM_MEL, MELSPEC_FEATURE_MFCC, MELSPEC_SCALING_LOG,
     MELSPEC_LAYOUT_FRAMES_MAJOR, MELSPEC_DTYPE_FLOAT32, MELSPEC_MEL_PRODUCT_SPARSE, INFINITY,
     300, 77, 30, 30, 1, 2, MELSPEC_DCT_NORM_ORTHO, 3.5},
    {"pcen mel", MELSPEC_TRANSFORM_MEL, MELSPEC_FEATURE_PCEN, MELSPEC_SCALING_NONE,
     MELSPEC_LAYOUT_BINS_MAJOR, MELSPEC_DTYPE_FLOAT32, MELSPEC_MEL_PRODUCT_SPARSE, INFINITY, 512,
     160, 64, 20, 1, 2, MELSPEC_DCT_NORM_ORTHO, 0.0},
    {"pcen mel gemm max 4 frames-major", MELSPEC_TRANSFORM_MEL, MELSPEC_FEATURE_PCEN,
     MELSPEC_SCALING_NONE, MELSPEC_LAYOUT_FRAMES_MAJOR, MELSPEC_DTYPE_FLOAT32,
     MELSPEC_MEL_PRODUCT_GEMM, INFINITY, 400, 100, 40, 20, 4, 2, MELSPEC_DCT_NORM_ORTHO, 0.0},
    {"pcen linear max 3 bfloat16", MELSPEC_TRANSFORM_LINEAR, MELSPEC_FEATURE_PCEN,
     MELSPEC_SCALING_NONE, MELSPEC_LAYOUT_BINS_MAJOR, MELSPEC_DTYPE_BFLOAT16,
     MELSPEC_MEL_PRODUCT_AUTO, INFINITY, 256, 64, 0, 20, 3, 2, MELSPEC_DCT_NORM_ORTHO, 0.0},
};

static melspec_config case_config(const feature_case *c, melspec_backend backend, int layout)
{
    melspec_config config;
    melspec_config_init(&config);
    config.backend = backend;
    config.sample_rate = SAMPLE_RATE;
    config.transform = c->transform;
    config.n_fft = c->n_fft;
    config.hop_length = c->hop;
    if (c->n_mels > 0) config.n_mels = c->n_mels;
    config.scaling = c->scaling;
    config.top_db = c->top_db;
    config.layout = layout;
    config.output_dtype = c->dtype;
    config.mel_product = c->mel_product;
    config.feature = c->feature;
    config.n_mfcc = c->n_mfcc;
    config.mfcc_dct_type = c->dct_type;
    config.mfcc_norm = c->dct_norm;
    config.mfcc_lifter = c->lifter;
    config.pcen_max_size = c->max_size;
    config.pcen_time_constant = 0.06;
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

static unsigned char *run(melspec_plan *plan, const float *x, int64_t n_signals, size_t *n_bytes)
{
    PLAN_OK(plan, melspec_plan_output_bytes(plan, n_signals, N_SAMPLES, n_bytes));
    unsigned char *out = malloc(*n_bytes);
    assert_non_null(out);
    PLAN_OK(plan, melspec_execute(plan, x, n_signals, N_SAMPLES, out, *n_bytes));
    return out;
}

static float value_at(const unsigned char *bytes, int32_t dtype, size_t i)
{
    if (dtype == MELSPEC_DTYPE_FLOAT32) return ((const float *)bytes)[i];
    uint16_t h;
    memcpy(&h, bytes + 2 * i, 2);
    if (dtype == MELSPEC_DTYPE_BFLOAT16) {
        const uint32_t bits = (uint32_t)h << 16;
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    /* IEEE half */
    const uint32_t sign = (uint32_t)(h >> 15), exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    const float magnitude = exponent == 0 ? ldexpf((float)mantissa, -24)
                            : exponent == 31 ? (mantissa ? NAN : INFINITY)
                                             : ldexpf((float)(mantissa | 0x400), (int)exponent - 25);
    return sign ? -magnitude : magnitude;
}

static double normalized_difference(const unsigned char *a, const unsigned char *b,
                                    int32_t dtype, size_t n)
{
    double worst = 0.0, peak = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double x = value_at(a, dtype, i), y = value_at(b, dtype, i);
        if (!isfinite(x) || !isfinite(y)) return INFINITY;
        worst = fmax(worst, fabs(x - y));
        peak = fmax(peak, fabs(y));
    }
    return worst / peak;
}

static int on_emulation(void)
{
    struct cudaDeviceProp properties;
    return cudaGetDeviceProperties(&properties, 0) == cudaSuccess &&
           strstr(properties.name, "emulation") != NULL;
}

static void test_gpu_matches_cpu(void **state)
{
    (void)state;
    float *x = malloc(N_SIGNALS * N_SAMPLES * sizeof *x);
    assert_non_null(x);
    for (int b = 0; b < N_SIGNALS; b++)
        make_test_signal(x + b * N_SAMPLES, N_SAMPLES, SAMPLE_RATE, 40 + (uint64_t)b);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const feature_case *c = &cases[i];
        melspec_config gpu_config = case_config(c, MELSPEC_BACKEND_CUDA, c->layout);
        melspec_config cpu_config = case_config(c, MELSPEC_BACKEND_CPU, c->layout);
        /* the reference in float32: compare before the 16-bit rounding */
        cpu_config.output_dtype = MELSPEC_DTYPE_FLOAT32;
        gpu_config.output_dtype = MELSPEC_DTYPE_FLOAT32;
        melspec_plan *gpu = plan_for(&gpu_config), *cpu = plan_for(&cpu_config);
        assert_int_equal(melspec_plan_backend(gpu), MELSPEC_BACKEND_CUDA);
        size_t gpu_bytes = 0, cpu_bytes = 0;
        unsigned char *got = run(gpu, x, N_SIGNALS, &gpu_bytes);
        unsigned char *want = run(cpu, x, N_SIGNALS, &cpu_bytes);
        assert_int_equal(gpu_bytes, cpu_bytes);
        const double error =
            normalized_difference(got, want, MELSPEC_DTYPE_FLOAT32, gpu_bytes / sizeof(float));
        printf("  %-38s gpu vs cpu normalized max error %.3g\n", c->name, error);
        if (!(error <= TOLERANCE)) fail_msg("%s: %.3g > %g", c->name, error, TOLERANCE);
        /* a second call replays the captured graph: the same bits */
        unsigned char *again = run(gpu, x, N_SIGNALS, &gpu_bytes);
        assert_memory_equal(again, got, gpu_bytes);
        free(again);
        free(got);
        free(want);
        melspec_plan_destroy(gpu);
        melspec_plan_destroy(cpu);
    }
    free(x);
}

/* The CUDA backend's streams (frames-major, chunks of varying size) against its own offline
 * output of the same plan. */
static void test_gpu_stream_equals_gpu_offline(void **state)
{
    (void)state;
    const int emulated = on_emulation();
    float *x = malloc(N_SAMPLES * sizeof *x);
    assert_non_null(x);
    make_test_signal(x, N_SAMPLES, SAMPLE_RATE, 77);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const feature_case *c = &cases[i];
        melspec_config config = case_config(c, MELSPEC_BACKEND_CUDA, MELSPEC_LAYOUT_FRAMES_MAJOR);
        config.top_db = INFINITY; /* streams cannot clamp against the clip's maximum */
        melspec_plan *plan = plan_for(&config);
        size_t want_bytes = 0;
        unsigned char *want = run(plan, x, 1, &want_bytes);
        melspec_stream *stream = NULL;
        PLAN_OK(plan, melspec_stream_create(&stream, plan));
        size_t frame_bytes = 0;
        PLAN_OK(plan, melspec_stream_frame_bytes(stream, &frame_bytes));
        const size_t capacity = want_bytes + 16 * frame_bytes;
        unsigned char *got = malloc(capacity);
        assert_non_null(got);
        size_t used = 0;
        uint64_t rng = 5 + i;
        for (int64_t at = 0; at < N_SAMPLES;) {
            int64_t chunk = (int64_t)(test_rand_next(&rng) % 900);
            if (chunk > N_SAMPLES - at) chunk = N_SAMPLES - at;
            int64_t n_frames = 0;
            PLAN_OK(plan, melspec_stream_push(stream, x + at, chunk, got + used, capacity - used,
                                              &n_frames));
            used += (size_t)n_frames * frame_bytes;
            at += chunk;
        }
        int64_t n_frames = 0;
        PLAN_OK(plan, melspec_stream_flush(stream, got + used, capacity - used, &n_frames));
        used += (size_t)n_frames * frame_bytes;
        assert_int_equal(used, want_bytes);
        const size_t n_values = want_bytes / (c->dtype == MELSPEC_DTYPE_FLOAT32 ? 4 : 2);
        if (c->feature == MELSPEC_FEATURE_MFCC || emulated) {
            if (memcmp(got, want, want_bytes) != 0)
                fail_msg("%s: the CUDA stream's frames differ from its offline output",
                         c->name);
            printf("  %-38s stream = offline, bit for bit\n", c->name);
        } else {
            const double error = normalized_difference(got, want, c->dtype, n_values);
            printf("  %-38s stream vs offline %.3g\n", c->name, error);
            if (!(error <= 1.2e-7)) fail_msg("%s: stream vs offline %.3g", c->name, error);
        }
        free(got);
        free(want);
        melspec_stream_destroy(stream);
        melspec_plan_destroy(plan);
    }
    free(x);
}

int main(void)
{
    if (melspec_cuda_device_count() < 1) return gpu_test_without_device("test_cuda_features");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpu_matches_cpu),
        cmocka_unit_test(test_gpu_stream_equals_gpu_offline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
