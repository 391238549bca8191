/* End-to-end against librosa: spectrograms, STFT, dB and filterbanks from the committed fixtures
 * (float64 librosa on the same float32 samples). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

#define SPECTROGRAM_TOLERANCE 2e-6 /* normalized max error, the parity goal */
#define FILTERBANK_TOLERANCE 1e-6
#define DB_TOLERANCE 0.01 /* dB, on bins within 80 dB of the peak */

/* Runs a CPU plan on the fixture's input; returns a malloc'd output of *n_values floats. */
static float *run_plan(const melspec_config *config, const fixture_array *input, int64_t *n_values)
{
    melspec_plan *plan = NULL;
    char message[512];
    melspec_status status = melspec_plan_create(&plan, config, message, sizeof message);
    if (status != MELSPEC_OK) fail_msg("plan_create: %s", message);
    const int64_t n = input->n_values;
    float *samples = malloc((size_t)n * sizeof *samples);
    assert_non_null(samples);
    for (int64_t i = 0; i < n; i++) samples[i] = (float)input->values[i];
    size_t n_bytes = 0;
    assert_int_equal(melspec_plan_output_bytes(plan, 1, n, &n_bytes), MELSPEC_OK);
    float *out = malloc(n_bytes);
    assert_non_null(out);
    status = melspec_execute(plan, samples, 1, n, out, n_bytes);
    if (status != MELSPEC_OK) fail_msg("execute: %s", melspec_plan_last_error(plan));
    *n_values = (int64_t)(n_bytes / sizeof(float));
    free(samples);
    melspec_plan_destroy(plan);
    return out;
}

static void check_close(const char *what, const fixture *f, const float *actual,
                        const fixture_array *expected, int64_t n_values, double tolerance)
{
    assert_int_equal(n_values, expected->n_values);
    const compare_result r = compare_floats_to_doubles(actual, expected->values, (size_t)n_values);
    const double error = compare_ok(&r, tolerance) ? r.normalized_error : INFINITY;
    printf("  %-28s %-22s normalized max error %.3g\n", f->path + strlen(MELSPEC_FIXTURE_DIR) + 1,
           what, error);
    if (!(error <= tolerance))
        fail_msg("%s: %s normalized error %.3g > %.3g", f->path, what, error, tolerance);
}

static void check_decibels(const char *what, const fixture *f, const float *actual,
                           const fixture_array *expected, int64_t n_values)
{
    assert_int_equal(n_values, expected->n_values);
    double peak = -INFINITY, worst = 0.0;
    for (int64_t i = 0; i < n_values; i++) peak = fmax(peak, expected->values[i]);
    for (int64_t i = 0; i < n_values; i++)
        if (expected->values[i] >= peak - 80.0)
            worst = fmax(worst, fabs((double)actual[i] - expected->values[i]));
    printf("  %-28s %-22s max |dB error| %.3g\n", f->path + strlen(MELSPEC_FIXTURE_DIR) + 1, what,
           worst);
    if (!(worst <= DB_TOLERANCE)) fail_msg("%s: %s off by %.4g dB", f->path, what, worst);
}

static void test_spectrograms_match_librosa(void **state)
{
    (void)state;
    char names[64][128];
    const int n = fixture_list("spec_", names, 64);
    assert_true(n >= 8);
    for (int i = 0; i < n; i++) {
        fixture *f = fixture_load(names[i]);
        const fixture_array *input = fixture_get(f, "input");
        melspec_config config;
        int64_t n_values;
        float *out;

        config_from_fixture(f, &config);
        out = run_plan(&config, input, &n_values);
        check_close("mel", f, out, fixture_get(f, "mel"), n_values, SPECTROGRAM_TOLERANCE);
        free(out);

        config.transform = MELSPEC_TRANSFORM_LINEAR;
        out = run_plan(&config, input, &n_values);
        check_close("linear |STFT|^power", f, out, fixture_get(f, "linear"), n_values,
                    SPECTROGRAM_TOLERANCE);
        free(out);

        config.transform = MELSPEC_TRANSFORM_STFT;
        out = run_plan(&config, input, &n_values);
        check_close("complex STFT", f, out, fixture_get(f, "stft"), n_values,
                    SPECTROGRAM_TOLERANCE);
        free(out);

        if (fixture_has_param(f, "mel_db_scaling")) {
            config_from_fixture(f, &config);
            config.scaling = (int32_t)fixture_param(f, "mel_db_scaling");
            out = run_plan(&config, input, &n_values);
            check_decibels("mel dB ref 1", f, out, fixture_get(f, "mel_db"), n_values);
            free(out);

            config.ref_mode = MELSPEC_REF_MAX;
            config.top_db = INFINITY;
            out = run_plan(&config, input, &n_values);
            check_decibels("mel dB ref max", f, out, fixture_get(f, "mel_db_refmax"), n_values);
            free(out);
        }

        config_from_fixture(f, &config);
        config.transform = MELSPEC_TRANSFORM_LINEAR;
        config.power = 1.0;
        config.scaling = MELSPEC_SCALING_AMPLITUDE_TO_DB;
        config.ref_mode = MELSPEC_REF_MAX;
        out = run_plan(&config, input, &n_values);
        check_decibels("|STFT| amplitude_to_db", f, out, fixture_get(f, "magnitude_db_refmax"),
                       n_values);
        free(out);
        fixture_free(f);
    }
}

static void test_filterbanks_match_librosa(void **state)
{
    (void)state;
    char names[32][128];
    const int n = fixture_list("melfb_", names, 32);
    assert_true(n >= 6);
    for (int i = 0; i < n; i++) {
        fixture *f = fixture_load(names[i]);
        melspec_config config;
        melspec_config_init(&config);
        config.backend = MELSPEC_BACKEND_CPU;
        config.sample_rate = fixture_param(f, "sample_rate");
        config.n_fft = (int64_t)fixture_param(f, "n_fft");
        config.n_mels = (int64_t)fixture_param(f, "n_mels");
        config.fmin = fixture_param(f, "fmin");
        config.fmax = fixture_param(f, "fmax");
        config.mel_scale = (int32_t)fixture_param(f, "mel_scale");
        config.mel_norm = (int32_t)fixture_param(f, "mel_norm");
        melspec_plan *plan = NULL;
        char message[512];
        if (melspec_plan_create(&plan, &config, message, sizeof message) != MELSPEC_OK)
            fail_msg("%s: %s", names[i], message);
        const fixture_array *expected = fixture_get(f, "filterbank");
        float *actual = malloc((size_t)expected->n_values * sizeof *actual);
        assert_non_null(actual);
        assert_int_equal(melspec_plan_mel_filterbank(plan, actual, (size_t)expected->n_values * sizeof *actual),
                         MELSPEC_OK);
        check_close("filterbank", f, actual, expected, expected->n_values, FILTERBANK_TOLERANCE);
        free(actual);
        melspec_plan_destroy(plan);
        fixture_free(f);
    }
}

/* A batch gives the same numbers as its signals one by one, including per-clip dB. */
static void test_batch_equals_clips_one_by_one(void **state)
{
    (void)state;
    melspec_config config;
    melspec_config_init(&config);
    config.backend = MELSPEC_BACKEND_CPU;
    config.sample_rate = 16000;
    config.n_fft = 512;
    config.hop_length = 160;
    config.n_mels = 40;
    config.scaling = MELSPEC_SCALING_POWER_TO_DB;
    config.ref_mode = MELSPEC_REF_MAX;
    config.top_db = 60.0;
    enum { N_SIGNALS = 3, N_SAMPLES = 4321 };
    float *input = malloc(N_SIGNALS * N_SAMPLES * sizeof *input);
    assert_non_null(input);
    for (int b = 0; b < N_SIGNALS; b++) {
        make_test_signal(input + b * N_SAMPLES, N_SAMPLES, config.sample_rate, 11u + (unsigned)b);
        for (int i = 0; i < N_SAMPLES; i++) input[b * N_SAMPLES + i] *= (float)(1 + 10 * b);
    }
    for (int layout = 0; layout <= 1; layout++) {
        config.layout = layout;
        melspec_plan *plan = NULL;
        assert_int_equal(melspec_plan_create(&plan, &config, NULL, 0), MELSPEC_OK);
        size_t batch_bytes, clip_bytes;
        assert_int_equal(melspec_plan_output_bytes(plan, N_SIGNALS, N_SAMPLES, &batch_bytes),
                         MELSPEC_OK);
        assert_int_equal(melspec_plan_output_bytes(plan, 1, N_SAMPLES, &clip_bytes), MELSPEC_OK);
        assert_int_equal(batch_bytes, N_SIGNALS * clip_bytes);
        float *batch = malloc(batch_bytes), *clip = malloc(clip_bytes);
        assert_non_null(batch);
        assert_non_null(clip);
        assert_int_equal(melspec_execute(plan, input, N_SIGNALS, N_SAMPLES, batch, batch_bytes),
                         MELSPEC_OK);
        for (int b = 0; b < N_SIGNALS; b++) {
            assert_int_equal(
                melspec_execute(plan, input + b * N_SAMPLES, 1, N_SAMPLES, clip, clip_bytes),
                MELSPEC_OK);
            assert_memory_equal(batch + b * (clip_bytes / sizeof(float)), clip, clip_bytes);
        }
        free(batch);
        free(clip);
        melspec_plan_destroy(plan);
    }
    free(input);
}

/* FRAMES_MAJOR is the transpose of BINS_MAJOR, value for value. */
static void test_frames_major_is_transpose(void **state)
{
    (void)state;
    enum { N = 3000 };
    float input[N];
    make_test_signal(input, N, 22050, 5);
    for (int transform = MELSPEC_TRANSFORM_MEL; transform <= MELSPEC_TRANSFORM_STFT; transform++) {
        melspec_config config;
        melspec_config_init(&config);
        config.backend = MELSPEC_BACKEND_CPU;
        config.transform = transform;
        config.n_fft = 256;
        config.n_mels = 20;
        float *out[2];
        int64_t n_bins = 0, n_frames = 0;
        for (int layout = 0; layout <= 1; layout++) {
            config.layout = layout;
            melspec_plan *plan = NULL;
            assert_int_equal(melspec_plan_create(&plan, &config, NULL, 0), MELSPEC_OK);
            assert_int_equal(melspec_plan_output_shape(plan, N, &n_bins, &n_frames), MELSPEC_OK);
            size_t n_bytes;
            assert_int_equal(melspec_plan_output_bytes(plan, 1, N, &n_bytes), MELSPEC_OK);
            out[layout] = malloc(n_bytes);
            assert_non_null(out[layout]);
            assert_int_equal(melspec_execute(plan, input, 1, N, out[layout], n_bytes), MELSPEC_OK);
            melspec_plan_destroy(plan);
        }
        const int width = transform == MELSPEC_TRANSFORM_STFT ? 2 : 1;
        for (int64_t b = 0; b < n_bins; b++)
            for (int64_t t = 0; t < n_frames; t++)
                for (int k = 0; k < width; k++)
                    assert_true(out[0][(b * n_frames + t) * width + k] ==
                                out[1][(t * n_bins + b) * width + k]);
        free(out[0]);
        free(out[1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spectrograms_match_librosa),
        cmocka_unit_test(test_filterbanks_match_librosa),
        cmocka_unit_test(test_batch_equals_clips_one_by_one),
        cmocka_unit_test(test_frames_major_is_transpose),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
