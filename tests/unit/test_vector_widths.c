/* The element-wise loops of src/widest_vectors.h built for AVX-512, AVX2 and the baseline give the
 * same bits: each build is made to run in turn on this CPU (melspec_cpu_vectors_limit), through
 * the dB stage (the clip's maximum, the dB, the clamp at top_db), |X|^power and |X| of the lane
 * FFT and of KissFFT's sizes, and the NaN/Inf scan (against isfinite on every position). A width
 * the CPU lacks is skipped, and said; the dispatcher must pick the width asked for. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu_features.h"
#include "melspec.h"
#include "plan.h"

#define N_SAMPLES 22050
#define TWO_PI 6.283185307179586

static const melspec_vector_width widths[] = {MELSPEC_VECTORS_BASELINE, MELSPEC_VECTORS_AVX2,
                                              MELSPEC_VECTORS_AVX512};
static const char *const width_names[] = {"baseline", "AVX2", "AVX-512"};

/* The widths this CPU runs, after checking that the limit picks each of them. */
static size_t runnable_widths(void)
{
    melspec_cpu_vectors_limit(MELSPEC_VECTORS_AVX512);
    const melspec_vector_width widest = melspec_cpu_vectors();
    for (size_t w = 0; w <= (size_t)widest; w++) {
        melspec_cpu_vectors_limit(widths[w]);
        assert_int_equal(melspec_cpu_vectors(), widths[w]);
    }
    melspec_cpu_vectors_limit(MELSPEC_VECTORS_AVX512);
    for (size_t w = (size_t)widest + 1; w < 3; w++)
        print_message("this CPU runs no %s: that build is not compared\n", width_names[w]);
    return (size_t)widest + 1;
}

/* tones, a chirp and noise, with quiet stretches the clamp at top_db acts on */
static void test_signal(float *x, int64_t n)
{
    uint64_t state = 0x2545f4914f6cdd1dull;
    for (int64_t i = 0; i < n; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const double noise = (double)(state >> 11) / 9007199254740992.0 - 0.5;
        const double t = (double)i / 22050.0;
        const double loud = (i / 2000) % 3 == 0 ? 1e-4 : 1.0;
        x[i] = (float)(loud * (0.4 * sin(TWO_PI * 440.0 * t) + 0.2 * sin(TWO_PI * 3000.0 * t * t) +
                               0.05 * noise));
    }
}

/* The output of config on the test signal with the loops no wider than width (malloc'ed). */
static float *run(const melspec_config *config, melspec_vector_width width, size_t *n_bytes)
{
    melspec_cpu_vectors_limit(width);
    static float signal[N_SAMPLES];
    test_signal(signal, N_SAMPLES);
    melspec_plan *plan = NULL;
    char why[256];
    assert_int_equal(melspec_plan_create(&plan, config, why, sizeof why), MELSPEC_OK);
    assert_int_equal(melspec_plan_output_bytes(plan, 1, N_SAMPLES, n_bytes), MELSPEC_OK);
    float *out = malloc(*n_bytes);
    assert_non_null(out);
    assert_int_equal(melspec_execute(plan, signal, 1, N_SAMPLES, out, *n_bytes), MELSPEC_OK);
    melspec_plan_destroy(plan);
    melspec_cpu_vectors_limit(MELSPEC_VECTORS_AVX512);
    return out;
}

static void same_bits_at_every_width(const melspec_config *config, const char *what)
{
    const size_t n_widths = runnable_widths();
    size_t n_bytes = 0, n_other = 0;
    float *baseline = run(config, MELSPEC_VECTORS_BASELINE, &n_bytes);
    for (size_t w = 1; w < n_widths; w++) {
        float *other = run(config, widths[w], &n_other);
        assert_int_equal(n_other, n_bytes);
        if (memcmp(baseline, other, n_bytes) != 0) {
            size_t i = 0;
            while (memcmp(baseline + i, other + i, sizeof *other) == 0) i++;
            fail_msg("%s: the %s build differs from the baseline at value %zu: %.9g vs %.9g",
                     what, width_names[w], i, (double)other[i], (double)baseline[i]);
        }
        free(other);
    }
    free(baseline);
}

static melspec_config base_config(void)
{
    melspec_config config;
    melspec_config_init(&config);
    config.backend = MELSPEC_BACKEND_CPU;
    config.sample_rate = 22050.0;
    return config;
}

/* librosa.power_to_db(melspectrogram(...), ref=np.max, top_db=80): the lane FFT's |X|^2, the clip
 * maximum, the dB and the clamp */
static void mel_power_db(void **state)
{
    (void)state;
    melspec_config config = base_config();
    config.scaling = MELSPEC_SCALING_POWER_TO_DB;
    config.ref_mode = MELSPEC_REF_MAX;
    config.top_db = 80.0;
    same_bits_at_every_width(&config, "mel, power_to_db(ref=max, top_db=80)");
}

/* amplitude_to_db of |STFT| with a fixed ref (the dB loop's double path) */
static void linear_magnitude_db(void **state)
{
    (void)state;
    melspec_config config = base_config();
    config.transform = MELSPEC_TRANSFORM_LINEAR;
    config.power = 1.0;
    config.scaling = MELSPEC_SCALING_AMPLITUDE_TO_DB;
    config.ref = 0.5;
    config.top_db = 60.0;
    same_bits_at_every_width(&config, "linear |X|, amplitude_to_db(ref=0.5, top_db=60)");
}

/* n_fft 2 * 67: a prime factor the lane FFT does not take, so KissFFT's spectra go through the
 * power loop of the CPU backend */
static void kissfft_sizes(void **state)
{
    (void)state;
    melspec_config config = base_config();
    config.transform = MELSPEC_TRANSFORM_LINEAR;
    config.n_fft = 134;
    config.hop_length = 33;
    config.power = 1.5;
    same_bits_at_every_width(&config, "linear |X|^1.5 at n_fft 134");
}

/* The NaN/Inf scan against isfinite: lengths 0 to 99, a NaN, +Inf or -Inf at each position (and
 * none, with the largest finite floats, which share all but one exponent bit with infinity) */
static void non_finite_scan(void **state)
{
    (void)state;
    const size_t n_widths = runnable_widths();
    const float specials[] = {NAN, -NAN, INFINITY, -INFINITY};
    float x[100];
    for (size_t w = 0; w < n_widths; w++) {
        melspec_cpu_vectors_limit(widths[w]);
        for (int64_t n = 0; n <= 99; n++) {
            for (int64_t i = 0; i < n; i++) x[i] = i % 2 ? -3.4028235e38f : 3.4028235e38f;
            assert_int_equal(melspec_any_non_finite(x, n), 0);
            for (int64_t at = 0; at < n; at++)
                for (size_t s = 0; s < sizeof specials / sizeof specials[0]; s++) {
                    const float kept = x[at];
                    x[at] = specials[s];
                    if (melspec_any_non_finite(x, n) != !isfinite(x[at]))
                        fail_msg("%s build: %g at %lld of %lld not seen", width_names[w],
                                 (double)specials[s], (long long)at, (long long)n);
                    x[at] = kept;
                }
        }
    }
    melspec_cpu_vectors_limit(MELSPEC_VECTORS_AVX512);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mel_power_db),
        cmocka_unit_test(linear_magnitude_db),
        cmocka_unit_test(kissfft_sizes),
        cmocka_unit_test(non_finite_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
