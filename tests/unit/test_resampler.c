/* The loader's row resampler (src/audio/resampler.c, compiled in): rows fed in pieces of any
 * length, with an output that must grow (a header that understated the length), give each row
 * bit for bit what libsoxr's one-shot call gives it, and what melspec_audio_resample gives it
 * (the loader's numbers are librosa's because of this: tests/python/test_load.py). Misuse is
 * refused with a status, nothing leaked (ASan/valgrind runs). */
#define _DEFAULT_SOURCE /* M_PI */
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

#include "audio/resampler.h"
#include "melspec_audio.h"

static float *make_signal(int64_t n, double rate, double tone)
{
    float *x = malloc((size_t)n * sizeof *x);
    assert_non_null(x);
    for (int64_t t = 0; t < n; t++) {
        const double s = (double)t / rate;
        x[t] = (float)(0.5 * sin(2 * M_PI * tone * s) + 0.2 * sin(2 * M_PI * 300.0 * s * s) +
                       0.05 * sin(2 * M_PI * 0.37 * rate * s));
    }
    return x;
}

/* Two rows through one resampler in pieces of `piece` frames (0: random lengths up to 20,000,
 * as decoders return them), against libsoxr's one-shot call and the library's one-shot. */
static void check_rows_at(unsigned long recipe, double from, double to, int64_t n,
                          int64_t expected_input, int64_t piece)
{
    float *rows[2] = {make_signal(n, from, 440.0), make_signal(n, from, 1234.5)};
    const int64_t n_out = melspec_audio_resampled_length(n, from, to);
    char why[256] = "";
    melspec_row_resampler resampler;
    assert_int_equal(melspec_row_resampler_open(&resampler, recipe, 2, from, to, expected_input,
                                                why, sizeof why),
                     MELSPEC_OK);
    const int64_t largest_piece = piece > 0 ? piece : 20000;
    float *staged = malloc((size_t)(2 * largest_piece) * sizeof *staged);
    assert_non_null(staged);
    unsigned random = 12345u;
    for (int64_t at = 0, length; at < n; at += length) {
        random = random * 1103515245u + 12345u;
        length = piece > 0 ? piece : 1 + (int64_t)((random >> 8) % (unsigned)largest_piece);
        if (length > n - at) length = n - at;
        for (int r = 0; r < 2; r++) /* the loader's block of rows, largest_piece apart */
            memcpy(staged + r * largest_piece, rows[r] + at, (size_t)length * sizeof *staged);
        if (melspec_row_resampler_feed(&resampler, staged, largest_piece, length, why,
                                       sizeof why) != MELSPEC_OK)
            fail_msg("feed at %lld: %s", (long long)at, why);
    }
    float *result = NULL;
    assert_int_equal(melspec_row_resampler_finish(&resampler, n_out, &result, why, sizeof why),
                     MELSPEC_OK);
    melspec_row_resampler_close(&resampler);

    float *reference = calloc((size_t)n_out + 64, sizeof *reference);
    assert_non_null(reference);
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec(recipe, 0);
    for (int r = 0; r < 2; r++) {
        size_t produced = 0;
        assert_null(soxr_oneshot(from, to, 1, rows[r], (size_t)n, NULL, reference,
                                 (size_t)n_out + 64, &produced, &io, &quality, NULL));
        assert_true(produced + 1 >= (size_t)n_out); /* fix_length pads at most a sample */
        for (int64_t t = (int64_t)produced; t < n_out; t++) reference[t] = 0.0f;
        if (memcmp(result + r * n_out, reference, (size_t)n_out * sizeof *reference) != 0)
            fail_msg("%g -> %g Hz, recipe %lu, pieces of %lld, row %d: not libsoxr's one-shot",
                     from, to, recipe, (long long)piece, r);
        double peak = 0.0;
        for (int64_t t = 0; t < n_out; t++) peak = fmax(peak, fabs((double)reference[t]));
        assert_true(peak > 0.3);
    }
    if (recipe == SOXR_HQ) {
        float *alone = malloc((size_t)n_out * sizeof *alone);
        assert_non_null(alone);
        assert_int_equal(melspec_audio_resample(rows[1], n, from, to, alone, n_out, why,
                                                sizeof why),
                         MELSPEC_OK);
        assert_memory_equal(result + n_out, alone, (size_t)n_out * sizeof *alone);
        free(alone);
    }
    free(reference);
    free(result);
    free(staged);
    free(rows[0]);
    free(rows[1]);
}

static void test_rows_fed_in_pieces_are_libsoxrs_one_shot(void **state)
{
    (void)state;
    const int64_t n = 44100 * 5 + 1234;
    check_rows_at(SOXR_HQ, 44100.0, 16000.0, n, n, 16384); /* sized right from the start */
    check_rows_at(SOXR_HQ, 44100.0, 16000.0, n, 1, 0);     /* the header said 1 frame */
    check_rows_at(SOXR_VHQ, 44100.0, 22050.0, n, 0, 0);    /* length unknown */
    check_rows_at(SOXR_QQ, 44100.0, 22050.0, n, n, 1000);
    check_rows_at(SOXR_HQ, 8000.0, 22050.0, 8000 * 9 + 7, 0, 0); /* upsampling */
    check_rows_at(SOXR_MQ, 96000.0, 11025.0, 96000 * 2 + 3, 10, 7);
}

static void test_misuse_is_refused(void **state)
{
    (void)state;
    char why[256] = "";
    melspec_row_resampler resampler;
    assert_int_equal(melspec_row_resampler_open(&resampler, SOXR_HQ, 0, 44100.0, 16000.0, 100,
                                                why, sizeof why),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(why, "rows >= 1"));
    assert_int_equal(melspec_row_resampler_open(&resampler, SOXR_HQ, 1, 44100.0, NAN, 100, why,
                                                sizeof why),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    melspec_row_resampler_close(&resampler); /* a failed open left nothing to close */

    assert_int_equal(melspec_row_resampler_open(&resampler, SOXR_HQ, 1, 44100.0, 16000.0, 100,
                                                why, sizeof why),
                     MELSPEC_OK);
    float x[4] = {1.0f, 0.5f, 0.25f, 0.125f};
    assert_int_equal(melspec_row_resampler_feed(&resampler, x, 0, 0, why, sizeof why),
                     MELSPEC_ERROR_INTERNAL);
    assert_non_null(strstr(why, "resampler fed 0 frames"));
    melspec_row_resampler_close(&resampler);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_fed_in_pieces_are_libsoxrs_one_shot),
        cmocka_unit_test(test_misuse_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
