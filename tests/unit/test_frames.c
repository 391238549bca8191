/* Frame counts and shapes identical to librosa for every input length from 0 to 3 n_fft,
 * centred and not (fixtures record librosa.stft's shape, or -1 where librosa raises). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "test_support.h"

static void test_frame_counts_match_librosa(void **state)
{
    (void)state;
    char names[32][128];
    const int n = fixture_list("frames_", names, 32);
    assert_true(n >= 6);
    for (int i = 0; i < n; i++) {
        fixture *f = fixture_load(names[i]);
        melspec_config config;
        melspec_config_init(&config);
        config.backend = MELSPEC_BACKEND_CPU;
        config.transform = MELSPEC_TRANSFORM_LINEAR;
        config.n_fft = (int64_t)fixture_param(f, "n_fft");
        config.hop_length = (int64_t)fixture_param(f, "hop_length");
        config.center = (int32_t)fixture_param(f, "center");
        melspec_plan *plan = NULL;
        assert_int_equal(melspec_plan_create(&plan, &config, NULL, 0), MELSPEC_OK);
        const fixture_array *counts = fixture_get(f, "n_frames");
        float *signal = malloc((size_t)counts->n_values * sizeof *signal);
        assert_non_null(signal);
        make_test_signal(signal, counts->n_values, 16000, 3);
        for (int64_t length = 0; length < counts->n_values; length++) {
            const int64_t expected = (int64_t)counts->values[length];
            int64_t n_bins = -1, n_frames = -1;
            const melspec_status status =
                melspec_plan_output_shape(plan, length, &n_bins, &n_frames);
            if (expected < 0 || length == 0) {
                /* librosa raises; so do we: the quiet query and execute, with a reason */
                assert_int_not_equal(status, MELSPEC_OK);
                float out[4];
                assert_int_equal(melspec_execute(plan, signal, 1, length, out, sizeof out),
                                 status);
                assert_true(melspec_plan_last_error(plan)[0] != '\0');
                continue;
            }
            if (status != MELSPEC_OK || n_frames != expected)
                fail_msg("%s: length %lld gives %lld frames (status %d), librosa %lld", names[i],
                         (long long)length, (long long)n_frames, (int)status,
                         (long long)expected);
            assert_int_equal(n_bins, 1 + config.n_fft / 2);
            /* execute agrees with the shape query and fills exactly that much */
            size_t n_bytes;
            assert_int_equal(melspec_plan_output_bytes(plan, 1, length, &n_bytes), MELSPEC_OK);
            assert_int_equal(n_bytes, (size_t)(n_bins * n_frames) * sizeof(float));
            float *out = malloc(n_bytes + sizeof(float));
            assert_non_null(out);
            const float sentinel = -12345.0f;
            out[n_bytes / sizeof(float)] = sentinel;
            assert_int_equal(melspec_execute(plan, signal, 1, length, out, n_bytes), MELSPEC_OK);
            assert_true(out[n_bytes / sizeof(float)] == sentinel);
            free(out);
        }
        free(signal);
        melspec_plan_destroy(plan);
        fixture_free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_counts_match_librosa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
