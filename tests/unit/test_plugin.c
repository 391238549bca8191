/*
 * The CUDA backend as a plugin, seen from the core: whatever happens to libmelspec_cuda.so (not
 * there, a dependency missing, another build's, not a plugin at all, or loaded on a machine
 * without a GPU), AUTO plans run on the CPU and give the CPU's output, CUDA plans and the device
 * API answer BACKEND_UNAVAILABLE with the reason, and nothing crashes.
 *
 * One scenario per process, since the plugin is loaded once per process; ctest sets it up:
 *   MELSPEC_CUDA_PLUGIN            where the core is to look (unset: beside libmelspec.so)
 *   MELSPEC_TEST_PLUGIN_EXPECT     a piece of the reason CUDA must be unavailable with
 *   MELSPEC_TEST_PLUGIN_LOADS=1    the plugin itself loads (then the reason is about devices,
 *                                  and where a device exists, CUDA must work instead)
 *   MELSPEC_TEST_PLUGIN_LOADS=driver   the default search: the plugin loads exactly where the
 *                                  NVIDIA driver (libcuda.so.1) does, and otherwise the reason
 *                                  says there is no driver
 */
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "melspec.h"
#include "melspec_cuda.h"
#include "test_support.h"

#define N_SAMPLES 8000 /* within small_mel_config's max_samples */

static int driver_mode(void)
{
    const char *loads = getenv("MELSPEC_TEST_PLUGIN_LOADS");
    return loads != NULL && strcmp(loads, "driver") == 0;
}

/* Asked independently of the library: can this process load the NVIDIA driver? */
static int driver_present(void)
{
    void *driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (driver != NULL) dlclose(driver);
    return driver != NULL;
}

static int plugin_loads(void)
{
    if (driver_mode()) return driver_present();
    const char *loads = getenv("MELSPEC_TEST_PLUGIN_LOADS");
    return loads != NULL && strcmp(loads, "1") == 0;
}

static const char *expected_reason(void)
{
    if (driver_mode() && !driver_present()) return "no NVIDIA driver";
    const char *expect = getenv("MELSPEC_TEST_PLUGIN_EXPECT");
    return expect != NULL ? expect : "";
}

static int cuda_usable(void)
{
    return plugin_loads() && melspec_cuda_device_count() > 0;
}

/* Runs one plan of `backend` on the test signal into a new buffer (freed by the caller). */
static float *run(melspec_backend backend, melspec_backend *got, size_t *n_values)
{
    melspec_config c = small_mel_config(backend);
    melspec_plan *plan = NULL;
    char message[512] = "";
    assert_int_equal(melspec_plan_create(&plan, &c, message, sizeof message), MELSPEC_OK);
    *got = melspec_plan_backend(plan);
    int64_t n_bins = 0, n_frames = 0;
    assert_int_equal(melspec_plan_output_shape(plan, N_SAMPLES, &n_bins, &n_frames), MELSPEC_OK);
    *n_values = (size_t)(n_bins * n_frames);
    float *input = malloc(N_SAMPLES * sizeof *input);
    float *output = malloc(*n_values * sizeof *output);
    assert_non_null(input);
    assert_non_null(output);
    make_test_signal(input, N_SAMPLES, 16000.0, 7);
    assert_int_equal(melspec_execute(plan, input, 1, N_SAMPLES, output,
                                     *n_values * sizeof *output),
                     MELSPEC_OK);
    free(input);
    melspec_plan_destroy(plan);
    return output;
}

static void test_loaded_as_expected(void **state)
{
    (void)state;
    assert_int_equal(melspec_cuda_compiled(), plugin_loads());
    if (!plugin_loads()) assert_int_equal(melspec_cuda_device_count(), 0);
    /* the outcome of the load does not change */
    assert_int_equal(melspec_cuda_compiled(), plugin_loads());
}

static void test_auto_gives_the_cpu_output(void **state)
{
    (void)state;
    melspec_backend auto_got, cpu_got;
    size_t n_auto, n_cpu;
    float *auto_out = run(MELSPEC_BACKEND_AUTO, &auto_got, &n_auto);
    float *cpu_out = run(MELSPEC_BACKEND_CPU, &cpu_got, &n_cpu);
    assert_int_equal(cpu_got, MELSPEC_BACKEND_CPU);
    assert_int_equal(n_auto, n_cpu);
    if (cuda_usable()) {
        assert_int_equal(auto_got, MELSPEC_BACKEND_CUDA);
    } else {
        assert_int_equal(auto_got, MELSPEC_BACKEND_CPU);
        double energy = 0.0;
        for (size_t i = 0; i < n_auto; i++) {
            assert_true(isfinite(auto_out[i]));
            energy += auto_out[i];
        }
        assert_true(energy > 0.0); /* a real spectrum, not zeros */
        /* the same backend on the same input: the same bits */
        assert_memory_equal(auto_out, cpu_out, n_auto * sizeof *auto_out);
    }
    free(auto_out);
    free(cpu_out);
}

static void test_cuda_says_why_it_is_unavailable(void **state)
{
    (void)state;
    melspec_config c = small_mel_config(MELSPEC_BACKEND_CUDA);
    melspec_plan *plan = (melspec_plan *)&c; /* must be overwritten with NULL */
    char message[512] = "";
    const melspec_status status = melspec_plan_create(&plan, &c, message, sizeof message);
    if (cuda_usable()) {
        assert_int_equal(status, MELSPEC_OK);
        assert_int_equal(melspec_plan_backend(plan), MELSPEC_BACKEND_CUDA);
        melspec_plan_destroy(plan);
        return;
    }
    assert_int_equal(status, MELSPEC_ERROR_BACKEND_UNAVAILABLE);
    assert_null(plan);
    if (strstr(message, expected_reason()) == NULL)
        fail_msg("the message \"%s\" does not say \"%s\"", message, expected_reason());
    assert_non_null(strstr(message, "CUDA"));

    char why[512] = "";
    assert_int_equal(melspec_backend_available(MELSPEC_BACKEND_CUDA, why, sizeof why),
                     MELSPEC_ERROR_BACKEND_UNAVAILABLE);
    assert_string_equal(why, message);
}

static void test_available_queries(void **state)
{
    (void)state;
    char message[512] = "";
    assert_int_equal(melspec_backend_available(MELSPEC_BACKEND_CPU, message, sizeof message),
                     MELSPEC_OK);
    assert_int_equal(melspec_backend_available(MELSPEC_BACKEND_AUTO, message, sizeof message),
                     MELSPEC_OK);
    assert_non_null(strstr(message, cuda_usable() ? "picks CUDA" : "picks the CPU"));
    if (!cuda_usable()) assert_non_null(strstr(message, expected_reason()));
    assert_int_equal(melspec_backend_available((melspec_backend)42, message, sizeof message),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(message, "42"));
    /* no message buffer is fine */
    assert_int_equal(melspec_backend_available(MELSPEC_BACKEND_CPU, NULL, 0), MELSPEC_OK);
}

static void test_device_api_on_the_fallback_plan(void **state)
{
    (void)state;
    if (cuda_usable()) skip();
    melspec_config c = small_mel_config(MELSPEC_BACKEND_AUTO);
    melspec_plan *plan = NULL;
    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_OK);
    float x[4] = {0};
    assert_int_equal(melspec_execute_device(plan, x, 1, 4, x, sizeof x),
                     MELSPEC_ERROR_BACKEND_UNAVAILABLE);
    assert_non_null(strstr(melspec_plan_last_error(plan), "CUDA is unavailable here"));
    melspec_plan_destroy(plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loaded_as_expected),
        cmocka_unit_test(test_auto_gives_the_cpu_output),
        cmocka_unit_test(test_cuda_says_why_it_is_unavailable),
        cmocka_unit_test(test_available_queries),
        cmocka_unit_test(test_device_api_on_the_fallback_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
