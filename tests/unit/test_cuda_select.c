/* Backend selection and the device-pointer API where they can run without a GPU: what AUTO and
 * CUDA give with the devices this machine has, and that the CUDA entry points answer with a
 * status (never a crash) on plans and builds that have no CUDA backend. Runs everywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "melspec.h"
#include "melspec_cuda.h"
#include "test_support.h"

static void test_device_count_is_consistent_with_the_build(void **state)
{
    (void)state;
    const int compiled = melspec_cuda_compiled();
    const int count = melspec_cuda_device_count();
    assert_true(compiled == 0 || compiled == 1);
    assert_true(count >= 0);
    if (!compiled) assert_int_equal(count, 0);
    /* asking twice gives the same answer (no error state left behind by the first) */
    assert_int_equal(melspec_cuda_device_count(), count);
}

static void test_auto_picks_cuda_only_with_a_device(void **state)
{
    (void)state;
    melspec_config c = small_mel_config(MELSPEC_BACKEND_AUTO);
    melspec_plan *plan = NULL;
    char message[256];
    assert_int_equal(melspec_plan_create(&plan, &c, message, sizeof message), MELSPEC_OK);
    assert_int_equal(melspec_plan_backend(plan),
                     melspec_cuda_device_count() > 0 ? MELSPEC_BACKEND_CUDA : MELSPEC_BACKEND_CPU);
    melspec_config resolved;
    assert_int_equal(melspec_plan_config(plan, &resolved), MELSPEC_OK);
    assert_int_equal(resolved.backend, melspec_plan_backend(plan));
    melspec_plan_destroy(plan);
}

static void test_cuda_without_a_device_is_unavailable(void **state)
{
    (void)state;
    melspec_config c = small_mel_config(MELSPEC_BACKEND_CUDA);
    /* an ordinal past the last device is unavailable on every machine */
    c.device_ordinal = melspec_cuda_device_count();
    melspec_plan *plan = (melspec_plan *)&c; /* must be overwritten with NULL */
    char message[256] = "";
    assert_int_equal(melspec_plan_create(&plan, &c, message, sizeof message),
                     MELSPEC_ERROR_BACKEND_UNAVAILABLE);
    assert_null(plan);
    assert_non_null(strstr(message, "CUDA"));
    if (!melspec_cuda_compiled()) assert_non_null(strstr(message, "no CUDA backend"));
    else assert_non_null(strstr(message, "device_ordinal"));
}

static void test_device_api_on_a_cpu_plan_is_unavailable(void **state)
{
    (void)state;
    melspec_config c = small_mel_config(MELSPEC_BACKEND_CPU);
    melspec_plan *plan = NULL;
    assert_int_equal(melspec_plan_create(&plan, &c, NULL, 0), MELSPEC_OK);
    float input[4000], output[40 * 26];
    for (int i = 0; i < 4000; i++) input[i] = (float)(i % 17) * 0.01f - 0.08f;

    assert_int_equal(melspec_plan_set_cuda_stream(plan, NULL), MELSPEC_ERROR_BACKEND_UNAVAILABLE);
    assert_non_null(strstr(melspec_plan_last_error(plan), "melspec_plan_set_cuda_stream"));
    assert_non_null(strstr(melspec_plan_last_error(plan), "CPU"));

    assert_int_equal(melspec_execute_device(plan, input, 1, 4000, output, sizeof output),
                     MELSPEC_ERROR_BACKEND_UNAVAILABLE);
    assert_non_null(strstr(melspec_plan_last_error(plan), "melspec_execute_device"));
    /* the answer does not depend on the other arguments */
    assert_int_equal(melspec_execute_device(plan, NULL, 0, 0, NULL, 0),
                     MELSPEC_ERROR_BACKEND_UNAVAILABLE);

    /* the plan still works on the host afterwards, and a success clears the message */
    assert_int_equal(melspec_execute(plan, input, 1, 4000, output, sizeof output), MELSPEC_OK);
    assert_string_equal(melspec_plan_last_error(plan), "");
    melspec_plan_destroy(plan);
}

static void test_device_api_null_plan(void **state)
{
    (void)state;
    float x[1] = {0.5f};
    assert_int_equal(melspec_plan_set_cuda_stream(NULL, NULL), MELSPEC_ERROR_NULL_POINTER);
    assert_int_equal(melspec_execute_device(NULL, x, 1, 1, x, sizeof x),
                     MELSPEC_ERROR_NULL_POINTER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_count_is_consistent_with_the_build),
        cmocka_unit_test(test_auto_picks_cuda_only_with_a_device),
        cmocka_unit_test(test_cuda_without_a_device_is_unavailable),
        cmocka_unit_test(test_device_api_on_a_cpu_plan_is_unavailable),
        cmocka_unit_test(test_device_api_null_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
