/* src/dsp in double: windows against librosa, Hz<->mel round trips and reference points,
 * the filterbank's design rules. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dsp/mel.h"
#include "dsp/window.h"
#include "test_support.h"

static void test_windows_match_librosa(void **state)
{
    (void)state;
    char names[32][128];
    const int n = fixture_list("window_", names, 32);
    assert_true(n >= 6);
    for (int i = 0; i < n; i++) {
        fixture *f = fixture_load(names[i]);
        const int64_t n_fft = (int64_t)fixture_param(f, "n_fft");
        const int64_t win_length = (int64_t)fixture_param(f, "win_length");
        double *w = malloc((size_t)n_fft * sizeof *w);
        assert_non_null(w);
        assert_int_equal(melspec_dsp_window((melspec_window)fixture_param(f, "window"), win_length,
                                            n_fft, w),
                         0);
        const fixture_array *expected = fixture_get(f, "window");
        assert_int_equal(expected->n_values, n_fft);
        for (int64_t k = 0; k < n_fft; k++)
            if (fabs(w[k] - expected->values[k]) > 1e-15)
                fail_msg("%s: w[%lld] = %.17g, librosa %.17g", names[i], (long long)k, w[k],
                         expected->values[k]);
        free(w);
        fixture_free(f);
    }
}

static void test_window_rejects_bad_sizes(void **state)
{
    (void)state;
    double w[8];
    assert_int_equal(melspec_dsp_window(MELSPEC_WINDOW_HANN, 0, 8, w), -1);
    assert_int_equal(melspec_dsp_window(MELSPEC_WINDOW_HANN, 9, 8, w), -1);
    assert_int_equal(melspec_dsp_window((melspec_window)42, 8, 8, w), -1);
    assert_int_equal(melspec_dsp_window(MELSPEC_WINDOW_HANN, 8, 8, NULL), -1);
}

/* Values from librosa.hz_to_mel / librosa.mel_to_hz (librosa 0.11). */
static void test_mel_scales(void **state)
{
    (void)state;
    assert_close(melspec_dsp_hz_to_mel(0.0, MELSPEC_MEL_SCALE_SLANEY), 0.0, 1e-12);
    assert_close(melspec_dsp_hz_to_mel(500.0, MELSPEC_MEL_SCALE_SLANEY), 7.5, 1e-12);
    assert_close(melspec_dsp_hz_to_mel(1000.0, MELSPEC_MEL_SCALE_SLANEY), 15.0, 1e-12);
    assert_close(melspec_dsp_hz_to_mel(8000.0, MELSPEC_MEL_SCALE_SLANEY),
                        15.0 + log(8.0) / (log(6.4) / 27.0), 1e-12);
    assert_close(melspec_dsp_hz_to_mel(1000.0, MELSPEC_MEL_SCALE_HTK),
                        2595.0 * log10(1.0 + 1000.0 / 700.0), 1e-9);
    for (int scale = 0; scale <= 1; scale++)
        for (double hz = 0.0; hz < 24000.0; hz += 37.3) {
            const double mel = melspec_dsp_hz_to_mel(hz, (melspec_mel_scale)scale);
            assert_close(melspec_dsp_mel_to_hz(mel, (melspec_mel_scale)scale), hz,
                                1e-9 * (1.0 + hz));
        }
}

static void test_mel_frequencies_endpoints_exact(void **state)
{
    (void)state;
    double f[130];
    melspec_dsp_mel_frequencies(130, 55.0, 7600.0, MELSPEC_MEL_SCALE_SLANEY, f);
    assert_close(f[0], 55.0, 1e-9);
    assert_close(f[129], 7600.0, 1e-9);
    for (int i = 1; i < 130; i++) assert_true(f[i] > f[i - 1]);
}

static void test_fft_bin_frequency_is_rfftfreq(void **state)
{
    (void)state;
    /* odd n_fft: the last bin is below Nyquist, unlike linspace(0, sr/2, ...) */
    assert_close(melspec_dsp_fft_bin_frequency(551, 1103, 8000.0), 551.0 * 8000.0 / 1103.0,
                        1e-9);
    assert_close(melspec_dsp_fft_bin_frequency(200, 400, 16000.0), 8000.0, 1e-9);
}

/* melspec_dsp_empty_bands on the runs of a design; fmin_rule is the fmin librosa's rule sees. */
static int64_t empty_bands(double sample_rate, int64_t n_fft, int64_t n_mels, double fmin,
                           double fmax, melspec_mel_scale scale, melspec_mel_norm norm,
                           double fmin_rule, int64_t *bands, int64_t capacity)
{
    melspec_mel_runs runs;
    assert_int_equal(melspec_dsp_mel_filterbank_runs(NULL, sample_rate, n_fft, n_mels, fmin, fmax,
                                                     scale, norm, &runs),
                     0);
    const int64_t n = melspec_dsp_empty_bands(&runs, fmin_rule, bands, capacity);
    melspec_dsp_mel_runs_free(NULL, &runs);
    return n;
}

static void test_filterbank_design_rules(void **state)
{
    (void)state;
    enum { N_MELS = 40, N_FFT = 1024, N_FREQ = 1 + N_FFT / 2 };
    double *fb = malloc(N_MELS * N_FREQ * sizeof *fb);
    assert_non_null(fb);
    assert_int_equal(melspec_dsp_mel_filterbank(NULL, 16000, N_FFT, N_MELS, 0.0, 8000.0,
                                                MELSPEC_MEL_SCALE_HTK, MELSPEC_MEL_NORM_NONE, fb),
                     0);
    for (int m = 0; m < N_MELS; m++) {
        double peak = 0.0;
        for (int k = 0; k < N_FREQ; k++) {
            assert_true(fb[m * N_FREQ + k] >= 0.0);
            peak = fmax(peak, fb[m * N_FREQ + k]);
        }
        assert_true(peak > 0.5 && peak <= 1.0); /* unnormalised triangles peak near 1 */
    }
    assert_int_equal(empty_bands(16000, N_FFT, N_MELS, 0.0, 8000.0, MELSPEC_MEL_SCALE_HTK,
                                 MELSPEC_MEL_NORM_NONE, 0.0, NULL, 0),
                     0);
    /* 256 bands over 129 bins must leave some band empty */
    double *crowded = malloc(256 * 129 * sizeof *crowded);
    assert_non_null(crowded);
    assert_int_equal(melspec_dsp_mel_filterbank(NULL, 16000, 256, 256, 0.0, 8000.0,
                                                MELSPEC_MEL_SCALE_SLANEY, MELSPEC_MEL_NORM_SLANEY,
                                                crowded),
                     0);
    int64_t first = -1;
    assert_true(empty_bands(16000, 256, 256, 0.0, 8000.0, MELSPEC_MEL_SCALE_SLANEY,
                            MELSPEC_MEL_NORM_SLANEY, 0.0, &first, 1) > 0);
    assert_true(first > 0);
    /* librosa exempts a band starting at 0 Hz: sr 48000, n_fft 400, 50 HTK bands from 0 Hz has
     * an empty first band and nothing else empty */
    double *first_empty = malloc(50 * 201 * sizeof *first_empty);
    assert_non_null(first_empty);
    assert_int_equal(melspec_dsp_mel_filterbank(NULL, 48000, 400, 50, 0.0, 24000.0,
                                                MELSPEC_MEL_SCALE_HTK, MELSPEC_MEL_NORM_SLANEY,
                                                first_empty),
                     0);
    for (int k = 0; k < 201; k++) assert_true(first_empty[k] == 0.0);
    assert_int_equal(empty_bands(48000, 400, 50, 0.0, 24000.0, MELSPEC_MEL_SCALE_HTK,
                                 MELSPEC_MEL_NORM_SLANEY, 0.0, NULL, 0),
                     0);
    assert_int_equal(empty_bands(48000, 400, 50, 0.0, 24000.0, MELSPEC_MEL_SCALE_HTK,
                                 MELSPEC_MEL_NORM_SLANEY, 1.0, &first, 1),
                     1);
    assert_int_equal(first, 0);
    free(first_empty);
    free(crowded);
    free(fb);
}

/* Every bin computed, as librosa.filters.mel does: the reference for the filterbank's shortcut
 * (each band computes only inside its edges), which must give the same bits. */
static void every_bin_filterbank(double sample_rate, int64_t n_fft, int64_t n_mels, double fmin,
                                 double fmax, melspec_mel_scale scale, melspec_mel_norm norm,
                                 double *out)
{
    const int64_t n_freq = 1 + n_fft / 2;
    double *edges = malloc((size_t)(n_mels + 2) * sizeof *edges);
    assert_non_null(edges);
    melspec_dsp_mel_frequencies(n_mels + 2, fmin, fmax, scale, edges);
    for (int64_t m = 0; m < n_mels; m++) {
        const double lower = edges[m + 1] - edges[m], upper = edges[m + 2] - edges[m + 1];
        const double gain = norm == MELSPEC_MEL_NORM_SLANEY ? 2.0 / (edges[m + 2] - edges[m]) : 1.0;
        for (int64_t k = 0; k < n_freq; k++) {
            const double f = (double)k * (1.0 / ((double)n_fft * (1.0 / sample_rate)));
            const double rising = -(edges[m] - f) / lower, falling = (edges[m + 2] - f) / upper;
            const double w = rising < falling ? rising : falling;
            out[m * n_freq + k] = (w > 0.0 ? w : 0.0) * gain;
        }
    }
    free(edges);
}

/* librosa.util.normalize(S, norm=p, axis=-1, threshold) on every column of a dense matrix. */
static void normalize_every_column(double *matrix, int64_t n_rows, int64_t n_columns, double p,
                                   double threshold)
{
    for (int64_t r = 0; r < n_rows; r++) {
        double *row = matrix + r * n_columns, length = 0.0;
        if (isinf(p)) {
            length = fabs(row[0]);
            for (int64_t k = 1; k < n_columns; k++)
                length = p > 0 ? fmax(length, fabs(row[k])) : fmin(length, fabs(row[k]));
        } else if (p == 0.0) {
            for (int64_t k = 0; k < n_columns; k++) length += fabs(row[k]) > 0.0 ? 1.0 : 0.0;
        } else {
            for (int64_t k = 0; k < n_columns; k++) length += pow(fabs(row[k]), p);
            length = pow(length, 1.0 / p);
        }
        if (length < threshold) continue;
        for (int64_t k = 0; k < n_columns; k++) row[k] /= length;
    }
}

/* The runs of a design hold exactly the every-bin matrix `every` (each run starting and ending on
 * a nonzero weight), and stay so normalized by every p librosa takes. */
static void check_runs_and_norms(double sample_rate, int64_t n_fft, int64_t n_mels, double fmin,
                                 double fmax, melspec_mel_scale scale, melspec_mel_norm norm,
                                 const double *every)
{
    static const double norms[] = {2.0, 1.0, 0.5, 3.0, 0.0, INFINITY, -INFINITY};
    const int64_t n_freq = 1 + n_fft / 2, n = n_mels * n_freq;
    double *expected = malloc((size_t)n * sizeof *expected);
    double *expanded = malloc((size_t)n * sizeof *expanded);
    assert_non_null(expected);
    assert_non_null(expanded);
    for (size_t i = 0; i <= sizeof norms / sizeof norms[0]; i++) {
        melspec_mel_runs runs;
        assert_int_equal(melspec_dsp_mel_filterbank_runs(NULL, sample_rate, n_fft, n_mels, fmin,
                                                         fmax, scale, norm, &runs),
                         0);
        memcpy(expected, every, (size_t)n * sizeof *expected);
        if (i > 0) { /* i == 0: the design itself */
            normalize_every_column(expected, n_mels, n_freq, norms[i - 1], 1e-30);
            melspec_dsp_normalize_runs(&runs, norms[i - 1], 1e-30);
        }
        for (int64_t m = 0; m < n_mels; m++) {
            if (runs.length[m] == 0) continue;
            assert_true(runs.first[m] >= 0 && runs.first[m] + runs.length[m] <= n_freq);
            assert_true(runs.weights[runs.offset[m]] != 0.0);
            assert_true(runs.weights[runs.offset[m] + runs.length[m] - 1] != 0.0);
        }
        melspec_dsp_mel_runs_expand(&runs, expanded);
        for (int64_t k = 0; k < n; k++)
            if (memcmp(&expanded[k], &expected[k], sizeof expanded[k]) != 0)
                fail_msg("norm %zu: weight %lld is %.17g, dense %.17g", i, (long long)k,
                         expanded[k], expected[k]);
        melspec_dsp_mel_runs_free(NULL, &runs);
    }
    free(expected);
    free(expanded);
}

static void test_filterbank_bands_inside_their_edges_only(void **state)
{
    (void)state;
    static const struct {
        double sample_rate;
        int64_t n_fft, n_mels;
        double fmin, fmax;
    } designs[] = {
        {16000, 2048, 128, 0, 8000},  {16000, 400, 80, 0, 8000},   {22050, 2048, 128, 0, 11025},
        {16000, 800, 80, 55, 7600},   {16000, 256, 256, 0, 8000},  {48000, 400, 50, 0, 24000},
        {44100, 4096, 200, 20, 20000}, {8000, 63, 10, 100, 3999},  {16000, 17, 3, 0, 8000},
        {22050, 1103, 96, 1000, 1001}, {16000, 1024, 1, 300, 301}, {16000, 512, 64, 0, 0.5},
    };
    for (size_t d = 0; d < sizeof designs / sizeof designs[0]; d++) {
        for (int scale = 0; scale < 2; scale++) {
            for (int norm = 0; norm < 2; norm++) {
                const int64_t n = designs[d].n_mels * (1 + designs[d].n_fft / 2);
                double *fast = malloc((size_t)n * sizeof *fast);
                double *every = malloc((size_t)n * sizeof *every);
                assert_non_null(fast);
                assert_non_null(every);
                assert_int_equal(melspec_dsp_mel_filterbank(
                                     NULL, designs[d].sample_rate, designs[d].n_fft,
                                     designs[d].n_mels, designs[d].fmin, designs[d].fmax,
                                     (melspec_mel_scale)scale, (melspec_mel_norm)norm, fast),
                                 0);
                every_bin_filterbank(designs[d].sample_rate, designs[d].n_fft, designs[d].n_mels,
                                     designs[d].fmin, designs[d].fmax, (melspec_mel_scale)scale,
                                     (melspec_mel_norm)norm, every);
                int64_t nonzero = 0;
                for (int64_t i = 0; i < n; i++) {
                    if (memcmp(&fast[i], &every[i], sizeof fast[i]) != 0)
                        fail_msg("design %zu scale %d norm %d: weight %lld is %.17g, every-bin "
                                 "%.17g", d, scale, norm, (long long)i, fast[i], every[i]);
                    nonzero += every[i] != 0.0;
                }
                if (designs[d].fmax - designs[d].fmin > 100.0) assert_true(nonzero > 0);
                check_runs_and_norms(designs[d].sample_rate, designs[d].n_fft, designs[d].n_mels,
                                     designs[d].fmin, designs[d].fmax, (melspec_mel_scale)scale,
                                     (melspec_mel_norm)norm, every);
                free(fast);
                free(every);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_match_librosa),
        cmocka_unit_test(test_window_rejects_bad_sizes),
        cmocka_unit_test(test_mel_scales),
        cmocka_unit_test(test_mel_frequencies_endpoints_exact),
        cmocka_unit_test(test_fft_bin_frequency_is_rfftfreq),
        cmocka_unit_test(test_filterbank_design_rules),
        cmocka_unit_test(test_filterbank_bands_inside_their_edges_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
