/* The contract every backend honours, on the CPU: one call on a plan at a time (a second caller
 * gets PLAN_BUSY, never garbage), the memory rule (grow on demand, or EXCEEDS_PLAN in fixed-memory
 * mode, with the same numbers), 16-bit outputs rounded to nearest even, quiet const queries. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "melspec.h"
#include "test_support.h"

static melspec_config small_config(void) { return small_mel_config(MELSPEC_BACKEND_CPU); }

/* ---- one call at a time ---------------------------------------------------------------------- */

#define N_THREADS 4
#define CALLS_PER_THREAD 200
#define N_SAMPLES 16000

typedef struct shared_plan {
    melspec_plan *plan;
    const float *signal;
    const float *expected;
    size_t n_bytes;
    atomic_int ok, busy, wrong, other;
} shared_plan;

static void *hammer(void *argument)
{
    shared_plan *shared = argument;
    float *out = malloc(shared->n_bytes);
    for (int i = 0; out != NULL && i < CALLS_PER_THREAD; i++) {
        const melspec_status status =
            melspec_execute(shared->plan, shared->signal, 1, N_SAMPLES, out, shared->n_bytes);
        if (status == MELSPEC_ERROR_PLAN_BUSY) {
            atomic_fetch_add(&shared->busy, 1);
        } else if (status != MELSPEC_OK) {
            atomic_fetch_add(&shared->other, 1);
        } else if (memcmp(out, shared->expected, shared->n_bytes) != 0) {
            atomic_fetch_add(&shared->wrong, 1);
        } else {
            atomic_fetch_add(&shared->ok, 1);
        }
    }
    free(out);
    return NULL;
}

static void test_a_shared_plan_gives_busy_never_garbage(void **state)
{
    (void)state;
    const melspec_config c = small_config();
    melspec_plan *plan = test_plan_create(&c);
    float *signal = malloc(N_SAMPLES * sizeof *signal);
    assert_non_null(signal);
    make_test_signal(signal, N_SAMPLES, 16000, 11);
    size_t n_bytes;
    float *expected = test_output_for(plan, 1, N_SAMPLES, &n_bytes);
    PLAN_OK(plan, melspec_execute(plan, signal, 1, N_SAMPLES, expected, n_bytes));

    shared_plan shared = {plan, signal, expected, n_bytes, 0, 0, 0, 0};
    pthread_t threads[N_THREADS];
    for (int t = 0; t < N_THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, hammer, &shared), 0);
    for (int t = 0; t < N_THREADS; t++) pthread_join(threads[t], NULL);
    print_message("  %d calls: %d ok, %d busy, %d wrong, %d other\n",
                  N_THREADS * CALLS_PER_THREAD, atomic_load(&shared.ok),
                  atomic_load(&shared.busy), atomic_load(&shared.wrong),
                  atomic_load(&shared.other));
    assert_int_equal(atomic_load(&shared.wrong), 0);
    assert_int_equal(atomic_load(&shared.other), 0);
    assert_int_equal(atomic_load(&shared.ok) + atomic_load(&shared.busy),
                     N_THREADS * CALLS_PER_THREAD);
    assert_true(atomic_load(&shared.ok) > 0);
    /* the plan is free again afterwards */
    PLAN_OK(plan, melspec_execute(plan, signal, 1, N_SAMPLES, expected, n_bytes));
    free(expected);
    free(signal);
    melspec_plan_destroy(plan);
}

/* ---- memory: grow on demand, or refuse in fixed-memory mode ---------------------------------- */

static void check_memory_modes(melspec_config c)
{
    c.max_batch = 1;
    c.max_samples = 4000;
    const int64_t n_signals = 3, n_samples = 9000; /* past both limits */
    float *input = malloc((size_t)(n_signals * n_samples) * sizeof *input);
    assert_non_null(input);
    for (int64_t s = 0; s < n_signals; s++)
        make_test_signal(input + s * n_samples, n_samples, c.sample_rate, (uint64_t)(5 + s));

    melspec_plan *growing = test_plan_create(&c);
    size_t n_bytes;
    float *grown = test_output_for(growing, n_signals, n_samples, &n_bytes);
    PLAN_OK(growing, melspec_execute(growing, input, n_signals, n_samples, grown, n_bytes));

    c.fixed_memory = 1;
    melspec_plan *fixed = test_plan_create(&c);
    float *out = malloc(n_bytes);
    assert_non_null(out);
    assert_int_equal(melspec_execute(fixed, input, n_signals, n_samples, out, n_bytes),
                     MELSPEC_ERROR_EXCEEDS_PLAN);
    assert_non_null(strstr(melspec_plan_last_error(fixed), "melspec_plan_reserve"));
    assert_int_equal(melspec_execute(fixed, input, 1, n_samples, out, n_bytes),
                     MELSPEC_ERROR_EXCEEDS_PLAN);
    PLAN_OK(fixed, melspec_plan_reserve(fixed, n_signals, n_samples));
    PLAN_OK(fixed, melspec_execute(fixed, input, n_signals, n_samples, out, n_bytes));
    /* the same numbers either way, and the same as each clip alone */
    assert_memory_equal(out, grown, n_bytes);
    size_t clip_bytes;
    float *clip = test_output_for(fixed, 1, n_samples, &clip_bytes);
    PLAN_OK(fixed, melspec_execute(fixed, input + n_samples, 1, n_samples, clip, clip_bytes));
    assert_memory_equal(clip, (unsigned char *)grown + clip_bytes, clip_bytes);
    free(clip);
    free(out);
    free(grown);
    free(input);
    melspec_plan_destroy(fixed);
    melspec_plan_destroy(growing);
}

static void test_memory_modes_mel(void **state)
{
    (void)state;
    melspec_config c = small_config();
    c.scaling = MELSPEC_SCALING_POWER_TO_DB; /* per clip */
    check_memory_modes(c);
}

static void test_memory_modes_cqt(void **state)
{
    (void)state;
    melspec_cqt_config q;
    melspec_cqt_config_init(&q);
    q.backend = MELSPEC_BACKEND_CPU;
    q.sample_rate = 16000;
    q.n_bins = 48;
    q.hop_length = 256;
    q.output = MELSPEC_CQT_OUTPUT_MAGNITUDE;
    q.max_batch = 1;
    q.max_samples = 4000;
    const int64_t n_samples = 9000;
    float *input = malloc((size_t)n_samples * sizeof *input);
    assert_non_null(input);
    make_test_signal(input, n_samples, 16000, 3);
    melspec_plan *growing = NULL, *fixed = NULL;
    char why[256];
    assert_int_equal(melspec_cqt_plan_create(&growing, &q, why, sizeof why), MELSPEC_OK);
    q.fixed_memory = 1;
    assert_int_equal(melspec_cqt_plan_create(&fixed, &q, why, sizeof why), MELSPEC_OK);
    size_t n_bytes;
    float *a = test_output_for(growing, 1, n_samples, &n_bytes);
    float *b = malloc(n_bytes);
    assert_non_null(b);
    PLAN_OK(growing, melspec_execute(growing, input, 1, n_samples, a, n_bytes));
    assert_int_equal(melspec_execute(fixed, input, 1, n_samples, b, n_bytes),
                     MELSPEC_ERROR_EXCEEDS_PLAN);
    PLAN_OK(fixed, melspec_plan_reserve(fixed, 1, n_samples));
    PLAN_OK(fixed, melspec_execute(fixed, input, 1, n_samples, b, n_bytes));
    assert_memory_equal(a, b, n_bytes);
    free(a);
    free(b);
    free(input);
    melspec_plan_destroy(fixed);
    melspec_plan_destroy(growing);
}

/* ---- 16-bit outputs on the CPU ----------------------------------------------------------------- */

static float half_to_float(uint16_t h)
{
    const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    const float sign = (h & 0x8000) ? -1.0f : 1.0f;
    if (exponent == 0) return sign * ldexpf((float)mantissa, -24);
    if (exponent == 31) return mantissa ? NAN : sign * INFINITY;
    return sign * ldexpf((float)(mantissa | 0x400), exponent - 25);
}

static float bfloat16_to_float(uint16_t b)
{
    const uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* A 16-bit value is right when it is the nearest representable value to x: no neighbour (one
 * unit up or down in the encoding) is closer; at a tie, the even encoding wins. */
static void check_nearest(float x, uint16_t got, float (*decode)(uint16_t), const char *what)
{
    const double value = decode(got), error = fabs(value - (double)x);
    for (int step = -1; step <= 1; step += 2) {
        const uint16_t neighbour = (uint16_t)(got + step);
        const double other = decode(neighbour);
        if (isnan(other) || (neighbour & 0x7fff) == 0x7fff) continue;
        const double other_error = fabs(other - (double)x);
        if (other_error < error || (other_error == error && (got & 1)))
            fail_msg("%s of %.9g is %#06x (%.9g) but %#06x (%.9g) is nearer or even", what,
                     (double)x, got, value, neighbour, other);
    }
}

static void check_dtype(melspec_transform transform, melspec_scaling scaling)
{
    melspec_config c = small_config();
    c.transform = transform;
    c.scaling = scaling;
    const int64_t n_samples = 8000;
    float *input = malloc((size_t)n_samples * sizeof *input);
    assert_non_null(input);
    make_test_signal(input, n_samples, 16000, 21);
    melspec_plan *wide = test_plan_create(&c);
    size_t wide_bytes;
    float *reference = test_output_for(wide, 1, n_samples, &wide_bytes);
    PLAN_OK(wide, melspec_execute(wide, input, 1, n_samples, reference, wide_bytes));
    const size_t n = wide_bytes / sizeof(float);
    for (int dtype = MELSPEC_DTYPE_FLOAT16; dtype <= MELSPEC_DTYPE_BFLOAT16; dtype++) {
        c.output_dtype = dtype;
        melspec_plan *narrow = test_plan_create(&c);
        size_t narrow_bytes;
        uint16_t *got = test_output_for(narrow, 1, n_samples, &narrow_bytes);
        assert_int_equal(narrow_bytes, n * sizeof(uint16_t));
        PLAN_OK(narrow, melspec_execute(narrow, input, 1, n_samples, got, narrow_bytes));
        for (size_t i = 0; i < n; i++)
            check_nearest(reference[i], got[i],
                          dtype == MELSPEC_DTYPE_FLOAT16 ? half_to_float : bfloat16_to_float,
                          dtype == MELSPEC_DTYPE_FLOAT16 ? "float16" : "bfloat16");
        free(got);
        melspec_plan_destroy(narrow);
    }
    free(reference);
    free(input);
    melspec_plan_destroy(wide);
}

static void test_16_bit_outputs_are_nearest_even(void **state)
{
    (void)state;
    check_dtype(MELSPEC_TRANSFORM_MEL, MELSPEC_SCALING_NONE);          /* small and large values */
    check_dtype(MELSPEC_TRANSFORM_LINEAR, MELSPEC_SCALING_POWER_TO_DB); /* negative, clamped */
    check_dtype(MELSPEC_TRANSFORM_MEL, MELSPEC_SCALING_LOG);
}

/* ---- queries are const and quiet ------------------------------------------------------------- */

static void test_queries_leave_the_message_alone(void **state)
{
    (void)state;
    const melspec_config c = small_config();
    melspec_plan *plan = test_plan_create(&c);
    float x[8] = {0.1f, -0.2f, 0.3f, NAN, 0.5f, 0.6f, 0.7f, 0.8f};
    float out[64];
    assert_int_equal(melspec_execute(plan, x, 1, 8, out, sizeof out),
                     MELSPEC_ERROR_NON_FINITE_INPUT);
    char before[512];
    strncpy(before, melspec_plan_last_error(plan), sizeof before - 1);
    before[sizeof before - 1] = '\0';
    assert_true(before[0] != '\0');
    int64_t n_bins, n_frames;
    size_t n_bytes;
    assert_int_equal(melspec_plan_output_shape(plan, 0, &n_bins, &n_frames),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(melspec_plan_output_bytes(plan, 0, 10, &n_bytes),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_int_equal(melspec_plan_window(plan, out, 4), MELSPEC_ERROR_BUFFER_TOO_SMALL);
    assert_int_equal(melspec_plan_frame_bytes(plan, &n_bytes), MELSPEC_OK);
    assert_int_equal(n_bytes, 40 * sizeof(float));
    assert_string_equal(melspec_plan_last_error(plan), before);
    melspec_plan_destroy(plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_shared_plan_gives_busy_never_garbage),
        cmocka_unit_test(test_memory_modes_mel),
        cmocka_unit_test(test_memory_modes_cqt),
        cmocka_unit_test(test_16_bit_outputs_are_nearest_even),
        cmocka_unit_test(test_queries_leave_the_message_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
