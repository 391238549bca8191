/* The CPU FFT path against a float64 direct DFT, for every size class users reach (even, odd,
 * large prime factors), and the CPU backend's framing against a direct float64 STFT. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
               melspec_rfft_path(fft), error);
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

/* ---- many frames at once (melspec_rfft_execute_frames; the lane FFT of the default build) ---- */

enum { MANY_FRAMES = 9 }; /* one more than a batch: every remainder 1 .. 9 */

/* Above this size frames repeat 3 signals: the float64 oracle is O(n^2) per signal, and the
 * whole test also runs under valgrind (scripts/check-memory.sh). */
#define DISTINCT_FRAMES_UP_TO 2310

/* Every size class of the lane FFT (radices 4, 2, 3, 5, generic odd ones up to 61, odd n as a
 * complex transform, n % 8 tails) and of the paths it leaves to KissFFT/Bluestein (a prime
 * factor above 61: 1103, 134 = 2 x 67, 4099, 8193 = 3 x 2731), on both lane kernels: every
 * frame of every batch size 1 .. 9 against the float64 direct DFT, and bit for bit against the
 * same frame transformed alone (a frame's result may not depend on its lane or its batch). */
/* The interleaved spectra of MANY_FRAMES frames of n samples, each transformed alone (lane 0). */
static void spectra_one_by_one(melspec_rfft *fft, const float *frames, int64_t n,
                               const float *window, float *out)
{
    const int64_t n_bins = n / 2 + 1;
    for (int64_t f = 0; f < MANY_FRAMES; f++) {
        const float *one[1] = {frames + f * n};
        const float *lanes = melspec_rfft_execute_frames(fft, one, 1, window);
        for (int64_t v = 0; v < 2 * n_bins; v++)
            out[f * 2 * n_bins + v] = lanes[v * MELSPEC_RFFT_BATCH];
    }
}

/* Path 0: what this CPU gets (melspec_rfft_create); 1: the portable lane kernels where they take
 * n; 2: the build's library alone (KissFFT/Bluestein or FFTW) at every size. */
enum { N_PATHS = 3 };
static melspec_rfft *create_on_path(int64_t n, int path)
{
    if (path == 2) return melspec_rfft_create_library(n, NULL);
    return melspec_rfft_create_kernel(n, path == 0 ? MELSPEC_LANES_AUTO : MELSPEC_LANES_PORTABLE,
                                      NULL);
}

static void check_frames(int64_t n)
{
    const int64_t n_bins = n / 2 + 1;
    const int64_t distinct = n <= DISTINCT_FRAMES_UP_TO ? MANY_FRAMES : 3;
    float *frames = malloc((size_t)(MANY_FRAMES * n) * sizeof *frames);
    float *window = malloc((size_t)n * sizeof *window);
    double *expected = malloc((size_t)(distinct * 2 * n_bins) * sizeof *expected);
    float *alone = malloc((size_t)(MANY_FRAMES * 2 * n_bins) * sizeof *alone);
    float *got = malloc((size_t)(2 * n_bins) * sizeof *got);
    double *windowed = malloc((size_t)n * sizeof *windowed);
    assert_true(frames && window && expected && alone && got && windowed);
    make_test_signal(window, n, 1000.0, 7 + (uint64_t)n);
    for (int64_t i = 0; i < n; i++) window[i] = 0.75f + 0.25f * window[i]; /* never zero */
    for (int64_t f = 0; f < MANY_FRAMES; f++) {
        float *x = frames + f * n;
        if (f >= distinct) {
            memcpy(x, frames + (f % distinct) * n, (size_t)n * sizeof *x);
            continue;
        }
        make_test_signal(x, n, 16000.0, (uint64_t)(n * 31 + f));
        x[f % n] += 0.5f; /* an impulse at a different place in each frame */
        for (int64_t i = 0; i < n; i++) windowed[i] = (double)(x[i] * window[i]);
        assert_int_equal(reference_rdft(windowed, n, expected + f * 2 * n_bins), 0);
    }
    for (int path = 0; path < N_PATHS; path++) {
        melspec_rfft *fft = create_on_path(n, path);
        assert_non_null(fft);
        spectra_one_by_one(fft, frames, n, window, alone);
        double worst = 0.0;
        for (int64_t count = 1; count <= MANY_FRAMES; count++) {
            for (int64_t first = 0; first < count; first += MELSPEC_RFFT_BATCH) {
                const int64_t in_call = count - first < MELSPEC_RFFT_BATCH ? count - first
                                                                           : MELSPEC_RFFT_BATCH;
                const float *pointers[MELSPEC_RFFT_BATCH];
                /* the frames in reverse order, so that each lands in another lane than alone */
                for (int64_t f = 0; f < in_call; f++)
                    pointers[f] = frames + (first + in_call - 1 - f) * n;
                const float *lanes = melspec_rfft_execute_frames(fft, pointers, in_call, window);
                for (int64_t f = 0; f < in_call; f++) {
                    const int64_t frame = first + in_call - 1 - f;
                    for (int64_t k = 0; k < 2 * n_bins; k++)
                        got[k] = lanes[k * MELSPEC_RFFT_BATCH + f];
                    const double error =
                        error_against(got, expected + (frame % distinct) * 2 * n_bins, 2 * n_bins);
                    worst = error > worst ? error : worst;
                    if (!(error <= FFT_TOLERANCE))
                        fail_msg("n = %lld (%s), %lld frames, frame %lld: error %.3g",
                                 (long long)n, melspec_rfft_path(fft), (long long)count,
                                 (long long)frame, error);
                    for (int64_t k = 0; k < 2 * n_bins; k++)
                        if (memcmp(&got[k], &alone[frame * 2 * n_bins + k], sizeof got[k]) != 0)
                            fail_msg("n = %lld (%s): frame %lld in lane %lld of %lld differs "
                                     "from the frame alone at value %lld", (long long)n,
                                     melspec_rfft_path(fft), (long long)frame, (long long)f,
                                     (long long)in_call, (long long)k);
                }
            }
        }
        printf("  n = %5lld (%s): frames 1..%d, normalized max error %.3g\n", (long long)n,
               melspec_rfft_path(fft), MANY_FRAMES, worst);
        melspec_rfft_destroy(fft);
    }
    free(frames);
    free(window);
    free(expected);
    free(alone);
    free(got);
    free(windowed);
}

static const int64_t frame_sizes[] = {1,    2,    3,    4,    5,    6,    7,    8,    9,   10,
                                      12,   15,   16,   25,   30,   49,   64,   122,  134,  243,
                                      400,  512,  625,  800,  1001, 1102, 1103, 1536, 2048, 2205,
                                      2310, 3375, 4096, 4099, 6000, 7938, 8192, 8193};

/* both kernels: the one this CPU gets (AVX2 + FMA on most x86) and the portable one */
static void test_frames_match_direct_dft(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof frame_sizes / sizeof frame_sizes[0]; s++)
        check_frames(frame_sizes[s]);
}

/* melspec_rfft_power_frames (issue 18: FFTW takes |X|^p from each frame's own spectrum) gives
 * melspec_power_value of execute_frames' spectrum bit for bit, in every mode, for every batch
 * size 1 .. 9 and whichever lane a frame lands in. */
static void test_power_frames_match_the_spectrum(void **state)
{
    (void)state;
    const int64_t sizes[] = {1, 7, 9, 400, 512, 800, 1103, 2048};
    const melspec_power_stage powers[] = {
        {MELSPEC_POWER_SQUARED, 1.0f}, {MELSPEC_POWER_MAGNITUDE, 0.5f}, {MELSPEC_POWER_GENERAL, 0.75f}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const int64_t n = sizes[s], n_bins = n / 2 + 1;
        float *frames = malloc((size_t)(MANY_FRAMES * n) * sizeof *frames);
        float *window = malloc((size_t)n * sizeof *window);
        float *spectra = malloc((size_t)(MANY_FRAMES * 2 * n_bins) * sizeof *spectra);
        float *power = malloc((size_t)(MELSPEC_RFFT_BATCH * n_bins) * sizeof *power);
        assert_true(frames && window && spectra && power);
        make_test_signal(window, n, 1000.0, 3 + (uint64_t)n);
        for (int64_t i = 0; i < n; i++) window[i] = 0.75f + 0.25f * window[i];
        make_test_signal(frames, MANY_FRAMES * n, 16000.0, 11 + (uint64_t)n);
        for (int path = 0; path < N_PATHS; path++) {
            melspec_rfft *fft = create_on_path(n, path);
            assert_non_null(fft);
            spectra_one_by_one(fft, frames, n, window, spectra);
            for (size_t p = 0; p < sizeof powers / sizeof powers[0]; p++)
                for (int64_t count = 1; count <= MANY_FRAMES; count++) {
                    const int64_t in_call =
                        count < MELSPEC_RFFT_BATCH ? count : MELSPEC_RFFT_BATCH;
                    const float *pointers[MELSPEC_RFFT_BATCH];
                    for (int64_t f = 0; f < in_call; f++) /* frame count - 1 - f in lane f */
                        pointers[f] = frames + (count - 1 - f) * n;
                    for (int64_t i = 0; i < MELSPEC_RFFT_BATCH * n_bins; i++) power[i] = NAN;
                    const float *got = melspec_rfft_power_frames(fft, pointers, in_call, window,
                                                                 powers[p], power);
                    assert_ptr_equal(got, power);
                    for (int64_t f = 0; f < in_call; f++) {
                        const float *x = spectra + (count - 1 - f) * 2 * n_bins;
                        for (int64_t k = 0; k < n_bins; k++) {
                            const float want =
                                melspec_power_value(x[2 * k], x[2 * k + 1], powers[p]);
                            const float have = got[k * MELSPEC_RFFT_BATCH + f];
                            if (memcmp(&want, &have, sizeof want) != 0)
                                fail_msg("n = %lld (%s), mode %d, %lld frames: lane %lld bin %lld "
                                         "is %.9g, the spectrum's power %.9g", (long long)n,
                                         melspec_rfft_path(fft), (int)powers[p].mode,
                                         (long long)in_call, (long long)f, (long long)k,
                                         (double)have, (double)want);
                        }
                    }
                }
            melspec_rfft_destroy(fft);
        }
        free(frames);
        free(window);
        free(spectra);
        free(power);
    }
}

/* The filterbank product on blocks (both kernels) against a float64 sum, each lane its own
 * column set, rows of every length from 1 on and overlapping runs (as mel triangles). */
static void test_lane_mel_product_matches_float64(void **state)
{
    (void)state;
    enum { ROWS = 41, COLUMNS = 257 }; /* the kernels take rows in fours, then the last */
    int64_t first[ROWS], length[ROWS], offset[ROWS], total = 0;
    for (int64_t r = 0; r < ROWS; r++) {
        first[r] = (r * 6) % (COLUMNS - 20);
        length[r] = 1 + (r * 7) % 19;
        offset[r] = total;
        total += length[r];
    }
    float *weights = malloc((size_t)total * sizeof *weights);
    float *x = malloc((size_t)(COLUMNS * MELSPEC_RFFT_BATCH) * sizeof *x);
    float *out = malloc((size_t)(ROWS * MELSPEC_RFFT_BATCH) * sizeof *out);
    assert_true(weights && x && out);
    make_test_signal(weights, total, 1000.0, 5);
    make_test_signal(x, COLUMNS * MELSPEC_RFFT_BATCH, 16000.0, 6);
    for (int64_t i = 0; i < COLUMNS * MELSPEC_RFFT_BATCH; i++) x[i] = x[i] * x[i]; /* powers */
    const melspec_lanes_rows rows = {ROWS, weights, offset, first, length};
    const melspec_lanes_kernel kernels[] = {MELSPEC_LANES_AUTO, MELSPEC_LANES_PORTABLE};
    for (size_t k = 0; k < 2; k++) {
        for (int64_t i = 0; i < ROWS * MELSPEC_RFFT_BATCH; i++) out[i] = NAN;
        melspec_lanes_product_for(kernels[k])(&rows, x, out);
        double worst = 0.0, peak = 0.0;
        for (int64_t r = 0; r < ROWS; r++)
            for (int64_t f = 0; f < MELSPEC_RFFT_BATCH; f++) {
                double want = 0.0;
                for (int64_t c = 0; c < length[r]; c++)
                    want += (double)weights[offset[r] + c] *
                            (double)x[(first[r] + c) * MELSPEC_RFFT_BATCH + f];
                const double error = fabs((double)out[r * MELSPEC_RFFT_BATCH + f] - want);
                worst = error > worst || error != error ? error : worst;
                peak = fabs(want) > peak ? fabs(want) : peak;
            }
        printf("  mel product (%s): normalized max error %.3g\n", k ? "portable" : "auto",
               worst / peak);
        /* the portable kernel (no contraction) is each row's float sum in row order, whatever
         * rows it is computed beside */
        for (int64_t r = 0; k == 1 && r < ROWS; r++)
            for (int64_t f = 0; f < MELSPEC_RFFT_BATCH; f++) {
                float sum = 0.0f;
                for (int64_t c = 0; c < length[r]; c++)
                    sum += weights[offset[r] + c] * x[(first[r] + c) * MELSPEC_RFFT_BATCH + f];
                if (memcmp(&sum, &out[r * MELSPEC_RFFT_BATCH + f], sizeof sum) != 0)
                    fail_msg("portable mel product, row %lld lane %lld: %.9g, in order %.9g",
                             (long long)r, (long long)f, (double)out[r * MELSPEC_RFFT_BATCH + f],
                             (double)sum);
            }
        if (!(worst <= 1e-6 * peak)) fail_msg("mel product kernel %zu: error %.3g", k, worst / peak);
    }
    free(weights);
    free(x);
    free(out);
}

static void assert_path(melspec_rfft *fft, const char *path)
{
    assert_non_null(fft);
    assert_string_equal(melspec_rfft_path(fft), path);
    melspec_rfft_destroy(fft);
}

/* Which path each size takes (fft.c): the lane FFT where it takes n, in both builds, except that
 * FFTW keeps the sizes it is faster at (above 12288, or everything on a CPU without AVX2). */
static void test_each_size_takes_its_path(void **state)
{
    (void)state;
    const int fftw = strcmp(melspec_rfft_library(), "fftw3f") == 0;
    const int avx2 = melspec_lanes_kernel_is_avx2(MELSPEC_LANES_AUTO);
    const int64_t lane_sizes[] = {1, 2, 3, 400, 800, 1102, 2048, 2205, 7938, 8192, 12000};
    for (size_t s = 0; s < sizeof lane_sizes / sizeof lane_sizes[0]; s++) {
        const int64_t n = lane_sizes[s];
        assert_path(melspec_rfft_create_kernel(n, MELSPEC_LANES_PORTABLE, NULL),
                    "lanes-portable");
        assert_path(melspec_rfft_create(n, NULL),
                    avx2 ? "lanes-avx2" : fftw ? "fftw3f" : "lanes-portable");
        assert_path(melspec_rfft_create_library(n, NULL),
                    fftw ? "fftw3f" : "kissfft");
    }
    /* a prime factor above 61 */
    assert_path(melspec_rfft_create(1103, NULL), fftw ? "fftw3f" : "bluestein");
    assert_path(melspec_rfft_create_kernel(1103, MELSPEC_LANES_PORTABLE, NULL),
                fftw ? "fftw3f" : "bluestein");
    /* FFTW is the faster above 12288 */
    assert_path(melspec_rfft_create(16384, NULL), fftw ? "fftw3f" : avx2 ? "lanes-avx2"
                                                                       : "lanes-portable");
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
        cmocka_unit_test(test_frames_match_direct_dft),
        cmocka_unit_test(test_power_frames_match_the_spectrum),
        cmocka_unit_test(test_each_size_takes_its_path),
        cmocka_unit_test(test_lane_mel_product_matches_float64),
        cmocka_unit_test(test_stft_matches_direct_float64_stft),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
