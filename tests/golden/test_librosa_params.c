/* librosa's parameter space (issue 15) against committed fixtures
 * (fixtures/generate_librosa_params.py): every designed window against scipy.signal.get_window
 * in double, filterbanks with numeric norms and empty bands against librosa.filters.mel(...,
 * dtype=float64) through the float64 query, the empty-band query against librosa's warning
 * rule, spectrograms through those windows and norms end to end, and the caller's-window API. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsp/window.h"
#include "test_support.h"

#define WINDOW_TOLERANCE 1e-12     /* double against double: scipy's formulas, re-evaluated */
#define FILTERBANK_TOLERANCE 2e-6  /* the goal for filterbanks */
#define SPECTROGRAM_TOLERANCE 2e-6 /* normalized max error */

static double normalized_error(const double *actual, const double *expected, int64_t n)
{
    double peak = 0.0, worst = 0.0;
    for (int64_t i = 0; i < n; i++) peak = fmax(peak, fabs(expected[i]));
    for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs(actual[i] - expected[i]));
    return peak > 0.0 ? worst / peak : worst;
}

static void params_from_fixture(const fixture *f, double params[3])
{
    params[0] = fixture_param(f, "p0");
    params[1] = fixture_param(f, "p1");
    params[2] = fixture_param(f, "p2");
}

static void test_windows_match_scipy(void **state)
{
    (void)state;
    static char names[64][128];
    const int n = fixture_list("lp_window_", names, 64);
    assert_true(n >= 24);
    double worst = 0.0;
    int checked = 0;
    for (int i = 0; i < n; i++) {
        fixture *f = fixture_load(names[i]);
        double params[3];
        params_from_fixture(f, params);
        for (int j = 0; j < (int)fixture_param(f, "n_lengths"); j++) {
            char key[32];
            snprintf(key, sizeof key, "window_%d", j);
            const fixture_array *expected = fixture_get(f, key);
            snprintf(key, sizeof key, "n_fft_%d", j);
            const int64_t n_fft = (int64_t)fixture_param(f, key);
            snprintf(key, sizeof key, "win_length_%d", j);
            const int64_t win_length = (int64_t)fixture_param(f, key);
            assert_int_equal(expected->n_values, n_fft);
            double *w = malloc((size_t)n_fft * sizeof *w);
            assert_non_null(w);
            assert_int_equal(melspec_dsp_window_with_params(
                                 (melspec_window)fixture_param(f, "window"), params, win_length,
                                 n_fft, w),
                             0);
            const double error = normalized_error(w, expected->values, n_fft);
            worst = fmax(worst, error);
            if (!(error <= WINDOW_TOLERANCE))
                fail_msg("%s (%s, %lld of %lld): window error %.3g", names[i],
                         fixture_param_string(f, "spec"), (long long)win_length,
                         (long long)n_fft, error);
            free(w);
            checked++;
        }
        fixture_free(f);
    }
    printf("  %d windows: worst normalized error against scipy %.3g\n", checked, worst);
}

static melspec_plan *filterbank_plan(const fixture *f)
{
    melspec_config c;
    melspec_config_init(&c);
    c.backend = MELSPEC_BACKEND_CPU;
    c.sample_rate = fixture_param(f, "sample_rate");
    c.n_fft = (int64_t)fixture_param(f, "n_fft");
    c.hop_length = 1;
    c.n_mels = (int64_t)fixture_param(f, "n_mels");
    c.fmin = fixture_param(f, "fmin");
    c.fmax = fixture_param(f, "fmax");
    c.mel_scale = (int32_t)fixture_param(f, "mel_scale");
    c.mel_norm = (int32_t)fixture_param(f, "mel_norm");
    c.mel_norm_p = fixture_param(f, "mel_norm_p");
    melspec_plan *plan = NULL;
    char message[512];
    if (melspec_plan_create(&plan, &c, message, sizeof message) != MELSPEC_OK)
        fail_msg("%s: %s", f->path, message);
    return plan;
}

static void test_filterbanks_with_numeric_norms_and_empty_bands(void **state)
{
    (void)state;
    static char names[32][128];
    const int n = fixture_list("lp_melfb_", names, 32);
    assert_true(n >= 8);
    int with_empty = 0;
    for (int i = 0; i < n; i++) {
        fixture *f = fixture_load(names[i]);
        melspec_plan *plan = filterbank_plan(f);
        const fixture_array *expected = fixture_get(f, "filterbank");
        double *bank = malloc((size_t)expected->n_values * sizeof *bank);
        float *bank32 = malloc((size_t)expected->n_values * sizeof *bank32);
        assert_non_null(bank);
        assert_non_null(bank32);
        /* one value short is refused, the exact size is filled */
        assert_int_equal(melspec_plan_mel_filterbank_f64(
                             plan, bank, (size_t)(expected->n_values - 1) * sizeof *bank),
                         MELSPEC_ERROR_BUFFER_TOO_SMALL);
        assert_int_equal(melspec_plan_mel_filterbank_f64(
                             plan, bank, (size_t)expected->n_values * sizeof *bank),
                         MELSPEC_OK);
        assert_int_equal(melspec_plan_mel_filterbank(
                             plan, bank32, (size_t)expected->n_values * sizeof *bank32),
                         MELSPEC_OK);
        const double error = normalized_error(bank, expected->values, expected->n_values);
        const compare_result r =
            compare_floats_to_doubles(bank32, expected->values, (size_t)expected->n_values);
        printf("  %-18s norm %d p %g: float64 error %.3g, float32 error %.3g\n", names[i],
               (int)fixture_param(f, "mel_norm"), fixture_param(f, "mel_norm_p"), error,
               r.normalized_error);
        if (!(error <= 1e-12)) fail_msg("%s: float64 filterbank error %.3g", names[i], error);
        if (!compare_ok(&r, FILTERBANK_TOLERANCE))
            fail_msg("%s: float32 filterbank error %.3g", names[i], r.normalized_error);

        int64_t n_empty = -1, first = -1;
        assert_int_equal(melspec_plan_empty_mel_bands(plan, NULL, 0, &n_empty), MELSPEC_OK);
        assert_int_equal(n_empty, (int64_t)fixture_param(f, "n_empty"));
        if (n_empty > 0) {
            with_empty++;
            assert_int_equal(melspec_plan_empty_mel_bands(plan, &first, sizeof first, &n_empty),
                             MELSPEC_OK);
            assert_int_equal(first, (int64_t)fixture_param(f, "first_empty"));
        }
        free(bank);
        free(bank32);
        melspec_plan_destroy(plan);
        fixture_free(f);
    }
    assert_true(with_empty >= 2); /* the fixtures hold cases with empty bands */
}

static void test_spectrograms_through_windows_and_norms(void **state)
{
    (void)state;
    static char names[16][128];
    const int n = fixture_list("lp_spec_", names, 16);
    assert_true(n >= 3);
    for (int i = 0; i < n; i++) {
        fixture *f = fixture_load(names[i]);
        melspec_config c;
        melspec_config_init(&c);
        c.backend = MELSPEC_BACKEND_CPU;
        c.sample_rate = fixture_param(f, "sample_rate");
        c.n_fft = (int64_t)fixture_param(f, "n_fft");
        c.hop_length = (int64_t)fixture_param(f, "hop_length");
        c.n_mels = (int64_t)fixture_param(f, "n_mels");
        c.window = (int32_t)fixture_param(f, "window");
        params_from_fixture(f, c.window_params);
        c.mel_norm = (int32_t)fixture_param(f, "mel_norm");
        c.mel_norm_p = fixture_param(f, "mel_norm_p");
        melspec_plan *plan = NULL;
        char message[512];
        if (melspec_plan_create(&plan, &c, message, sizeof message) != MELSPEC_OK)
            fail_msg("%s: %s", names[i], message);
        const fixture_array *input = fixture_get(f, "input");
        const fixture_array *expected = fixture_get(f, "mel");
        float *samples = malloc((size_t)input->n_values * sizeof *samples);
        float *out = malloc((size_t)expected->n_values * sizeof *out);
        assert_non_null(samples);
        assert_non_null(out);
        for (int64_t k = 0; k < input->n_values; k++) samples[k] = (float)input->values[k];
        assert_int_equal(melspec_execute(plan, samples, 1, input->n_values, out,
                                         (size_t)expected->n_values * sizeof *out),
                         MELSPEC_OK);
        const compare_result r =
            compare_floats_to_doubles(out, expected->values, (size_t)expected->n_values);
        printf("  %-12s %-22s mel normalized max error %.3g\n", names[i],
               fixture_param_string(f, "spec"), r.normalized_error);
        if (!compare_ok(&r, SPECTROGRAM_TOLERANCE))
            fail_msg("%s: mel error %.3g", names[i], r.normalized_error);
        free(samples);
        free(out);
        melspec_plan_destroy(plan);
        fixture_free(f);
    }
}

/* A caller's window equals the designed one, is copied (the caller's buffer may change after
 * create), and is checked: length, finiteness, the kind it needs. */
static void test_caller_window(void **state)
{
    (void)state;
    enum { N_FFT = 64, WIN = 48 };
    melspec_config c;
    melspec_config_init(&c);
    c.backend = MELSPEC_BACKEND_CPU;
    c.sample_rate = 16000;
    c.n_fft = N_FFT;
    c.win_length = WIN;
    c.n_mels = 8;
    c.window = MELSPEC_WINDOW_KAISER;
    c.window_params[0] = 6.0;
    double samples[N_FFT];
    assert_int_equal(melspec_dsp_window_with_params(MELSPEC_WINDOW_KAISER, c.window_params, WIN,
                                                    WIN, samples),
                     0);
    melspec_plan *designed = NULL, *given = NULL;
    char message[256];
    assert_int_equal(melspec_plan_create(&designed, &c, message, sizeof message), MELSPEC_OK);
    c.window = MELSPEC_WINDOW_CUSTOM;
    c.window_params[0] = 0.0;
    assert_int_equal(melspec_plan_create_with_window(&given, &c, samples, WIN, message,
                                                     sizeof message),
                     MELSPEC_OK);
    samples[3] = 1e9; /* the plan holds its own copy */
    float a[N_FFT], b[N_FFT];
    assert_int_equal(melspec_plan_window(designed, a, sizeof a), MELSPEC_OK);
    assert_int_equal(melspec_plan_window(given, b, sizeof b), MELSPEC_OK);
    assert_memory_equal(a, b, sizeof a);
    float y[2000], out_a[8 * 200], out_b[8 * 200];
    make_test_signal(y, 2000, 16000, 7);
    size_t n_bytes = 0;
    assert_int_equal(melspec_plan_output_bytes(given, 1, 2000, &n_bytes), MELSPEC_OK);
    assert_true(n_bytes <= sizeof out_a);
    assert_int_equal(melspec_execute(designed, y, 1, 2000, out_a, n_bytes), MELSPEC_OK);
    assert_int_equal(melspec_execute(given, y, 1, 2000, out_b, n_bytes), MELSPEC_OK);
    assert_memory_equal(out_a, out_b, n_bytes);
    melspec_plan_destroy(designed);
    melspec_plan_destroy(given);

    melspec_plan *plan = (melspec_plan *)(uintptr_t)0x1;
    assert_int_equal(melspec_plan_create_with_window(&plan, &c, samples, WIN - 1, message,
                                                     sizeof message),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_null(plan);
    assert_non_null(strstr(message, "window size mismatch"));
    samples[5] = NAN;
    assert_int_equal(melspec_plan_create_with_window(&plan, &c, samples, WIN, message,
                                                     sizeof message),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(message, "finite"));
    samples[5] = 0.5;
    assert_int_equal(melspec_plan_create_with_window(&plan, &c, NULL, WIN, message,
                                                     sizeof message),
                     MELSPEC_ERROR_NULL_POINTER);
    c.window = MELSPEC_WINDOW_HANN;
    assert_int_equal(melspec_plan_create_with_window(&plan, &c, samples, WIN, message,
                                                     sizeof message),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(message, "MELSPEC_WINDOW_CUSTOM"));
}

/* An empty band is a zero row in the output too, and the query is UNSUPPORTED without a
 * filterbank. */
static void test_empty_bands_are_computed(void **state)
{
    (void)state;
    melspec_config c;
    melspec_config_init(&c);
    c.backend = MELSPEC_BACKEND_CPU;
    c.sample_rate = 44100;
    c.n_fft = 256;
    c.n_mels = 128;
    melspec_plan *plan = NULL;
    char message[256];
    assert_int_equal(melspec_plan_create(&plan, &c, message, sizeof message), MELSPEC_OK);
    int64_t bands[64], n_empty = 0;
    assert_int_equal(melspec_plan_empty_mel_bands(plan, bands, sizeof bands, &n_empty),
                     MELSPEC_OK);
    assert_true(n_empty > 0 && n_empty <= 64);
    float y[4096];
    make_test_signal(y, 4096, 44100, 3);
    size_t n_bytes = 0;
    int64_t n_bins = 0, n_frames = 0;
    assert_int_equal(melspec_plan_output_shape(plan, 4096, &n_bins, &n_frames), MELSPEC_OK);
    assert_int_equal(melspec_plan_output_bytes(plan, 1, 4096, &n_bytes), MELSPEC_OK);
    float *out = malloc(n_bytes);
    assert_non_null(out);
    assert_int_equal(melspec_execute(plan, y, 1, 4096, out, n_bytes), MELSPEC_OK);
    for (int64_t t = 0; t < n_frames; t++) assert_true(out[bands[0] * n_frames + t] == 0.0f);
    double total = 0.0;
    for (int64_t i = 0; i < n_bins * n_frames; i++) total += out[i];
    assert_true(total > 0.0);
    free(out);
    assert_int_equal(melspec_plan_empty_mel_bands(plan, NULL, 8, &n_empty),
                     MELSPEC_ERROR_NULL_POINTER);
    melspec_plan_destroy(plan);

    c.transform = MELSPEC_TRANSFORM_LINEAR;
    assert_int_equal(melspec_plan_create(&plan, &c, message, sizeof message), MELSPEC_OK);
    assert_int_equal(melspec_plan_empty_mel_bands(plan, NULL, 0, &n_empty),
                     MELSPEC_ERROR_UNSUPPORTED);
    double fb[4];
    assert_int_equal(melspec_plan_mel_filterbank_f64(plan, fb, sizeof fb),
                     MELSPEC_ERROR_UNSUPPORTED);
    melspec_plan_destroy(plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_match_scipy),
        cmocka_unit_test(test_filterbanks_with_numeric_norms_and_empty_bands),
        cmocka_unit_test(test_spectrograms_through_windows_and_norms),
        cmocka_unit_test(test_caller_window),
        cmocka_unit_test(test_empty_bands_are_computed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
