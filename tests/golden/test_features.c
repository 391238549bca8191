/* The feature stage (issue 15) end to end against librosa: librosa.feature.mfcc and librosa.pcen
 * from the signal (tests/fixtures/feature_*.txt, float64 librosa on the same float32 samples,
 * written by tests/fixtures/generate_feature_fixtures.py), on the CPU backend. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

/* Normalized max error (max |error| / max |librosa|). MFCC: the DCT is orthogonal (up to its
 * scaling), so the error of its rows is that of the dB mel values it transforms, float32
 * rounding of the mel power (~1e-7 relative, the spectra's 2e-6 goal at most) carried through
 * log10; measured ~1e-7. PCEN: float32 mel values through a double smoother; measured ~2e-7. */
#define MFCC_TOLERANCE 2e-6
#define PCEN_TOLERANCE 2e-6

static void config_from_feature_fixture(const fixture *f, melspec_config *c)
{
    config_from_fixture(f, c);
    c->transform = (int32_t)fixture_param(f, "transform");
    c->scaling = (int32_t)fixture_param(f, "scaling");
    c->feature = (int32_t)fixture_param(f, "feature");
    if (c->feature == MELSPEC_FEATURE_MFCC) {
        c->top_db = fixture_param(f, "top_db");
        c->n_mfcc = (int64_t)fixture_param(f, "n_mfcc");
        c->mfcc_dct_type = (int32_t)fixture_param(f, "mfcc_dct_type");
        c->mfcc_norm = (int32_t)fixture_param(f, "mfcc_norm");
        c->mfcc_lifter = fixture_param(f, "mfcc_lifter");
    } else {
        c->pcen_gain = fixture_param(f, "pcen_gain");
        c->pcen_bias = fixture_param(f, "pcen_bias");
        c->pcen_power = fixture_param(f, "pcen_power");
        c->pcen_time_constant = fixture_param(f, "pcen_time_constant");
        c->pcen_eps = fixture_param(f, "pcen_eps");
        c->pcen_b = fixture_param(f, "pcen_b");
        c->pcen_max_size = (int64_t)fixture_param(f, "pcen_max_size");
    }
}

/* Runs the fixture's plan in both layouts; the frames-major output is the transpose. */
static void check_fixture(const char *name)
{
    fixture *f = fixture_load(name);
    const fixture_array *input = fixture_get(f, "input");
    const fixture_array *expected = fixture_get(f, "expected");
    melspec_config config;
    config_from_feature_fixture(f, &config);
    const double tolerance =
        config.feature == MELSPEC_FEATURE_MFCC ? MFCC_TOLERANCE : PCEN_TOLERANCE;
    float *samples = malloc((size_t)input->n_values * sizeof *samples);
    assert_non_null(samples);
    for (int64_t i = 0; i < input->n_values; i++) samples[i] = (float)input->values[i];

    float *outputs[2] = {NULL, NULL};
    int64_t n_bins = 0, n_frames = 0;
    for (int layout = 0; layout < 2; layout++) {
        config.layout = layout;
        melspec_plan *plan = NULL;
        char message[512];
        if (melspec_plan_create(&plan, &config, message, sizeof message) != MELSPEC_OK)
            fail_msg("%s: plan_create: %s", name, message);
        PLAN_OK(plan, melspec_plan_output_shape(plan, input->n_values, &n_bins, &n_frames));
        assert_int_equal(n_bins, expected->dims[0]);
        assert_int_equal(n_frames, expected->dims[1]);
        size_t n_bytes = 0;
        PLAN_OK(plan, melspec_plan_output_bytes(plan, 1, input->n_values, &n_bytes));
        outputs[layout] = malloc(n_bytes);
        assert_non_null(outputs[layout]);
        PLAN_OK(plan, melspec_execute(plan, samples, 1, input->n_values, outputs[layout], n_bytes));
        melspec_plan_destroy(plan);
    }
    const compare_result r =
        compare_floats_to_doubles(outputs[0], expected->values, (size_t)expected->n_values);
    const double error = compare_ok(&r, tolerance) ? r.normalized_error : INFINITY;
    printf("  %-40s normalized max error %.3g (tolerance %g)\n", name, error, tolerance);
    if (!(error <= tolerance))
        fail_msg("%s: normalized error %.3g > %.3g", name, error, tolerance);
    for (int64_t b = 0; b < n_bins; b++)
        for (int64_t t = 0; t < n_frames; t++)
            if (outputs[1][t * n_bins + b] != outputs[0][b * n_frames + t])
                fail_msg("%s: frames-major (%lld, %lld) is not the transpose", name,
                         (long long)t, (long long)b);
    free(outputs[0]);
    free(outputs[1]);
    free(samples);
    fixture_free(f);
}

static void check_all(const char *prefix, int at_least)
{
    char names[32][128];
    const int n = fixture_list(prefix, names, 32);
    assert_true(n >= at_least);
    for (int i = 0; i < n; i++) check_fixture(names[i]);
}

static void test_mfcc_matches_librosa(void **state)
{
    (void)state;
    check_all("feature_mfcc_", 5);
}

static void test_pcen_matches_librosa(void **state)
{
    (void)state;
    check_all("feature_pcen_", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mfcc_matches_librosa),
        cmocka_unit_test(test_pcen_matches_librosa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
