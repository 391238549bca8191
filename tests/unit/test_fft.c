/* The CPU FFT path against a float64 direct DFT, for every size class users reach (even, odd,
 * large prime factors), and the CPU backend's framing against a direct float64 STFT. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cpu/fft.h"
#include "reference.h"
#include "test_support.h"

#define FFT_TOLERANCE 2e-6 /* normalized max error of a float32 FFT */

/* normalized max error of float32 results against the float64 direct DFT */
static double error_against(const float *actual, const double *expected, int64_t n)
{
    const compare_result r = compare_floats_to_doubles(actual, expected, (size_t)n);
    return r.n_mismatched_non_finite > 0 ? INFINITY : r.normalized_error;
}

static void test_rfft_matches_direct_dft(void **state)
{
    (void)state;
    const int64_t sizes[] = {1, 2, 3, 16, 400, 512, 800, 1102, 1103, 2048, 2205, 4096, 3 * 1103, 4099, 3 * 2731};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int64_t n = sizes[s];
        melspec_rfft *fft = melspec_rfft_create(n, NULL);
        assert_non_null(fft);
        float *x = melspec_rfft_input(fft);
        make_test_signal(x, n, 16000.0, (uint64_t)n);
        x[0] += 0.5f; /* a DC offset and an impulse */
        double *expected = malloc((size_t)(2 * (n / 2 + 1)) * sizeof *expected);
        double *x_double = malloc((size_t)n * sizeof *x_double);
        assert_true(expected && x_double);
        for (int64_t i = 0; i < n; i++) x_double[i] = x[i];
        assert_int_equal(reference_rdft(x_double, n, expected), 0);
        free(x_double);
        const float *actual = melspec_rfft_execute(fft);
        const double error = error_against(actual, expected, 2 * (n / 2 + 1));
        printf("  n = %5lld (%s): normalized max error %.3g\n", (long long)n,
               melspec_rfft_library(), error);
        if (!(error <= FFT_TOLERANCE)) fail_msg("n = %lld: error %.3g", (long long)n, error);
        /* the transform does not consume its input: running it again gives the same bits */
        const float last = actual[2 * (n / 2)];
        assert_true(melspec_rfft_execute(fft)[2 * (n / 2)] == last);
        free(expected);
        melspec_rfft_destroy(fft);
    }
}

static void test_rfft_create_rejects_bad_sizes(void **state)
{
    (void)state;
    assert_null(melspec_rfft_create(0, NULL));
    assert_null(melspec_rfft_create(-5, NULL));
    melspec_rfft_destroy(NULL);
}

/* The complete STFT path (padding, window, FFT, layout) against a float64 direct STFT. */
static void test_stft_matches_direct_float64_stft(void **state)
{
    (void)state;
    const struct {
        int64_t n_fft, hop, win_length;
        int center, pad_mode;
    } cases[] = {{400, 160, 0, 1, MELSPEC_PAD_REFLECT}, {1103, 300, 1000, 1, MELSPEC_PAD_EDGE},
                 {512, 128, 0, 0, MELSPEC_PAD_CONSTANT}, {801, 77, 640, 1, MELSPEC_PAD_CONSTANT}};
    enum { N = 2500 };
    float signal[N];
    make_test_signal(signal, N, 16000.0, 99);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        melspec_config config;
        melspec_config_init(&config);
        config.backend = MELSPEC_BACKEND_CPU;
        config.transform = MELSPEC_TRANSFORM_STFT;
        config.n_fft = cases[c].n_fft;
        config.hop_length = cases[c].hop;
        config.win_length = cases[c].win_length;
        config.center = cases[c].center;
        config.pad_mode = cases[c].pad_mode;
        melspec_plan *plan = NULL;
        assert_int_equal(melspec_plan_create(&plan, &config, NULL, 0), MELSPEC_OK);
        int64_t n_bins, n_frames;
        assert_int_equal(melspec_plan_output_shape(plan, N, &n_bins, &n_frames), MELSPEC_OK);
        size_t n_bytes;
        assert_int_equal(melspec_plan_output_bytes(plan, 1, N, &n_bytes), MELSPEC_OK);
        float *actual = malloc(n_bytes);
        float *window = malloc((size_t)config.n_fft * sizeof *window);
        double *frame = malloc((size_t)config.n_fft * sizeof *frame);
        double *spectrum = malloc((size_t)(2 * n_bins) * sizeof *spectrum);
        double *expected = malloc((size_t)(2 * n_bins * n_frames) * sizeof *expected);
        assert_true(actual && window && frame && spectrum && expected);
        assert_int_equal(melspec_execute(plan, signal, 1, N, actual, n_bytes), MELSPEC_OK);
        assert_int_equal(melspec_plan_window(plan, window, (size_t)config.n_fft * sizeof *window), MELSPEC_OK);
        const int64_t offset = config.center ? config.n_fft / 2 : 0;
        for (int64_t t = 0; t < n_frames; t++) {
            for (int64_t i = 0; i < config.n_fft; i++) {
                int64_t j = t * config.hop_length + i - offset;
                double x;
                if (j >= 0 && j < N) x = signal[j];
                else if (config.pad_mode == MELSPEC_PAD_CONSTANT) x = 0.0;
                else if (config.pad_mode == MELSPEC_PAD_EDGE) x = signal[j < 0 ? 0 : N - 1];
                else x = signal[j < 0 ? -j : 2 * (N - 1) - j]; /* single reflection suffices */
                frame[i] = x * window[i];
            }
            assert_int_equal(reference_rdft(frame, config.n_fft, spectrum), 0);
            for (int64_t k = 0; k < n_bins; k++) {
                expected[2 * (k * n_frames + t)] = spectrum[2 * k];
                expected[2 * (k * n_frames + t) + 1] = spectrum[2 * k + 1];
            }
        }
        const double error = error_against(actual, expected, 2 * n_bins * n_frames);
        printf("  STFT n_fft %lld hop %lld: normalized max error %.3g\n",
               (long long)config.n_fft, (long long)config.hop_length, error);
        assert_true(error <= FFT_TOLERANCE);
        free(actual);
        free(window);
        free(frame);
        free(spectrum);
        free(expected);
        melspec_plan_destroy(plan);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfft_matches_direct_dft),
        cmocka_unit_test(test_rfft_create_rejects_bad_sizes),
        cmocka_unit_test(test_stft_matches_direct_float64_stft),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
