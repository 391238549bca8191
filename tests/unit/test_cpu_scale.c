/* The CPU backend's dB stage (issue 18): the block-by-block path (melspec_cpu_db_block on each
 * block's lane layout, melspec_cpu_db_clip_end on the stored clip) against the whole-clip pass
 * (melspec_cpu_scale_clip), bit for bit, with NaN first or inside the clip, infinities, both
 * zeros, values under amin, short last blocks and both factors; and the clip maximum (4 running
 * chains of 8) against a plain scan, through a reference equal to the maximum. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cpu/cpu_backend.h"
#include "cpu/fft.h"
#include "plan.h"

#define LANES MELSPEC_RFFT_BATCH
#define N_VALUES 37 /* odd: the values of a block are no multiple of 32 */

static uint64_t random_state = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
    random_state = random_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(random_state >> 11) / 9007199254740992.0;
}

/* log-uniform over 1e-14 .. 1e4: some under amin, most clamped by top_db 80 or 40 */
static float random_value(void) { return (float)pow(10.0, -14.0 + 18.0 * uniform()); }

static melspec_plan *dB_plan(int32_t scaling, double ref, int32_t ref_mode, double top_db)
{
    melspec_config config;
    melspec_config_init(&config);
    config.transform = MELSPEC_TRANSFORM_MEL;
    config.sample_rate = 16000.0;
    config.n_fft = 400;
    config.n_mels = 40;
    config.backend = MELSPEC_BACKEND_CPU;
    config.scaling = scaling;
    config.ref = ref;
    config.ref_mode = ref_mode;
    config.top_db = top_db;
    melspec_plan *plan = NULL;
    assert_int_equal(melspec_plan_create(&plan, &config, NULL, 0), MELSPEC_OK);
    return plan;
}

static int same_bits(const float *a, const float *b, int64_t n)
{
    return memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

/* n_frames frames of N_VALUES values: the clip bins-major (what melspec_cpu_scale_clip takes)
 * and through blocks of lane layout (what spectrum_execute hands melspec_cpu_db_block); the
 * two results must be the same bits. Returns how many values sit at the clip's lowest value
 * (the clamp's floor, when it acts). */
static int64_t check_blocks(const melspec_stages *stages, const float *frames_major,
                            int64_t n_frames)
{
    const int64_t n = N_VALUES * n_frames;
    float *whole = malloc((size_t)n * sizeof *whole);
    float *blocked = malloc((size_t)n * sizeof *blocked);
    float lanes[N_VALUES * LANES];
    assert_non_null(whole);
    assert_non_null(blocked);
    for (int64_t f = 0; f < n_frames; f++)
        for (int64_t v = 0; v < N_VALUES; v++)
            whole[v * n_frames + f] = frames_major[f * N_VALUES + v];
    float maximum = -1.0f;
    for (int64_t first = 0; first < n_frames; first += LANES) {
        const int64_t in_block = n_frames - first < LANES ? n_frames - first : LANES;
        for (int64_t i = 0; i < N_VALUES * LANES; i++) lanes[i] = 1e30f; /* no frame: ignored */
        for (int64_t f = 0; f < in_block; f++)
            for (int64_t v = 0; v < N_VALUES; v++)
                lanes[v * LANES + f] = frames_major[(first + f) * N_VALUES + v];
        melspec_cpu_db_block(stages, lanes, N_VALUES, in_block, first, &maximum);
        for (int64_t f = 0; f < in_block; f++)
            for (int64_t v = 0; v < N_VALUES; v++)
                blocked[v * n_frames + first + f] = lanes[v * LANES + f];
    }
    melspec_cpu_db_clip_end(stages, blocked, n, maximum);
    melspec_cpu_scale_clip(stages, whole, n);
    assert_true(same_bits(whole, blocked, n));
    /* the clamp's floor is the smallest finite value of a clamped clip */
    float lowest = INFINITY;
    for (int64_t i = 0; i < n; i++) lowest = whole[i] < lowest ? whole[i] : lowest;
    int64_t raised = 0;
    for (int64_t i = 0; i < n; i++) raised += whole[i] == lowest;
    free(whole);
    free(blocked);
    return raised;
}

static void test_blocks_equal_the_whole_clip(void **state)
{
    (void)state;
    const struct {
        int32_t scaling;
        double ref, top_db;
    } configs[] = {
        {MELSPEC_SCALING_POWER_TO_DB, 1.0, 80.0},     /* Whisper's: float arithmetic */
        {MELSPEC_SCALING_AMPLITUDE_TO_DB, 1.0, 40.0}, /* factor 20 */
        {MELSPEC_SCALING_POWER_TO_DB, 0.5, 80.0},     /* an offset: the double arithmetic */
        {MELSPEC_SCALING_POWER_TO_DB, 1.0, INFINITY}, /* no clamp, no maximum */
    };
    const int64_t frame_counts[] = {1, 7, 8, 9, 64, 83};
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        melspec_plan *plan = dB_plan(configs[c].scaling, configs[c].ref, MELSPEC_REF_VALUE,
                                     configs[c].top_db);
        const melspec_stages *stages = &plan->stages;
        assert_true(melspec_cpu_db_by_block(stages));
        for (size_t k = 0; k < sizeof frame_counts / sizeof frame_counts[0]; k++) {
            const int64_t n_frames = frame_counts[k], n = N_VALUES * n_frames;
            float *frames = malloc((size_t)n * sizeof *frames);
            assert_non_null(frames);
            for (int special = 0; special < 5; special++) {
                for (int64_t i = 0; i < n; i++) frames[i] = random_value();
                /* 0: none; 1: NaN first (the maximum is NaN); 2: NaN and +inf inside;
                 * 3: zeros of both signs; 4: the largest value in the last frame */
                if (special == 1) frames[0] = NAN;
                if (special == 2) {
                    frames[n / 2] = NAN;
                    frames[n / 3] = INFINITY;
                }
                if (special == 3) {
                    frames[0] = -0.0f;
                    frames[n - 1] = 0.0f;
                }
                if (special == 4) frames[n - 1] = 1e6f;
                const int64_t raised = check_blocks(stages, frames, n_frames);
                /* a clamp that never acts would not test the maximum */
                if (stages->scale.clamp && special != 1 && special != 2 && n_frames > 1)
                    assert_true(raised > 0);
            }
            free(frames);
        }
        melspec_plan_destroy(plan);
    }
}

static void test_clip_maximum_equals_a_plain_scan(void **state)
{
    (void)state;
    for (int64_t n = 1; n < 300; n += 13) {
        float *values = malloc((size_t)n * sizeof *values);
        float *by_max = malloc((size_t)n * sizeof *by_max);
        float *by_value = malloc((size_t)n * sizeof *by_value);
        assert_non_null(values);
        assert_non_null(by_max);
        assert_non_null(by_value);
        for (int64_t i = 0; i < n; i++) values[i] = random_value();
        values[(n * 7) / 11] = 3e4f; /* the maximum somewhere in the middle, then at the end */
        for (int where = 0; where < 2; where++) {
            if (where == 1) values[n - 1] = 5e4f;
            float maximum = values[0];
            for (int64_t i = 1; i < n; i++) maximum = values[i] > maximum ? values[i] : maximum;
            melspec_plan *ref_max =
                dB_plan(MELSPEC_SCALING_POWER_TO_DB, 1.0, MELSPEC_REF_MAX, 80.0);
            melspec_plan *ref_value =
                dB_plan(MELSPEC_SCALING_POWER_TO_DB, (double)maximum, MELSPEC_REF_VALUE, 80.0);
            memcpy(by_max, values, (size_t)n * sizeof *values);
            memcpy(by_value, values, (size_t)n * sizeof *values);
            melspec_cpu_scale_clip(&ref_max->stages, by_max, n);
            melspec_cpu_scale_clip(&ref_value->stages, by_value, n);
            assert_true(same_bits(by_max, by_value, n));
            /* the peak is the maximum: 0 dB (float log10 against the double reference) */
            const int64_t peak = where == 0 ? (n * 7) / 11 : n - 1;
            assert_true(fabsf(by_max[peak]) < 1e-4f);
            melspec_plan_destroy(ref_max);
            melspec_plan_destroy(ref_value);
        }
        free(values);
        free(by_max);
        free(by_value);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_equal_the_whole_clip),
        cmocka_unit_test(test_clip_maximum_equals_a_plain_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
