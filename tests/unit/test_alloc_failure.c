/* Allocation-failure injection (SQLite's way): every create call (mel, linear and STFT plans,
 * constant-Q plans, streams, reserve) is run with its 1st, 2nd, ... n-th allocation failing, until
 * it succeeds. Each failure must return OUT_OF_MEMORY (or, for a step that cannot tell why a
 * library failed, INTERNAL) with a message, give back no object, and leave no allocation behind.
 *
 * The injector wraps malloc/calloc/realloc/free at link time (-Wl,--wrap, this executable links
 * the library's objects, so every allocation melspec itself makes goes through it). Allocations
 * inside shared libraries (KissFFT's kiss_fft_alloc, libsoxr) are not seen: the public
 * allocator hook would be needed for those (docs/reliability.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "melspec.h"
#include "test_support.h"

/* ---- the injector ---------------------------------------------------------------------------- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *pointer, size_t size);
void __real_free(void *pointer);

static int armed;            /* counting and failing only inside a create call */
static long n_allocations;   /* allocations seen since arming */
static long fail_at;         /* 1-based allocation to fail; 0 = none */
static long n_live;          /* blocks we handed out and that are not freed yet */

/* The blocks handed out while armed, so that free of anything else (a block from a shared
 * library's own malloc) does not count. Open addressing; tombstones are (void *)1. */
enum { TABLE_SIZE = 1 << 16 };
static void *live[TABLE_SIZE];

static size_t slot_of(const void *pointer) { return ((uintptr_t)pointer >> 4) % TABLE_SIZE; }

static void remember(void *pointer)
{
    for (size_t i = slot_of(pointer);; i = (i + 1) % TABLE_SIZE) {
        if (live[i] == NULL || live[i] == (void *)1) {
            live[i] = pointer;
            n_live++;
            return;
        }
    }
}

static void forget(void *pointer)
{
    for (size_t i = slot_of(pointer), n = 0; live[i] != NULL && n < TABLE_SIZE;
         i = (i + 1) % TABLE_SIZE, n++) {
        if (live[i] == pointer) {
            live[i] = (void *)1;
            n_live--;
            return;
        }
    }
}

static int should_fail(void)
{
    if (!armed) return 0;
    n_allocations++;
    return n_allocations == fail_at;
}

void *__wrap_malloc(size_t size)
{
    if (should_fail()) return NULL;
    void *pointer = __real_malloc(size);
    if (armed && pointer) remember(pointer);
    return pointer;
}

void *__wrap_calloc(size_t count, size_t size)
{
    if (should_fail()) return NULL;
    void *pointer = __real_calloc(count, size);
    if (armed && pointer) remember(pointer);
    return pointer;
}

void *__wrap_realloc(void *old, size_t size)
{
    if (should_fail()) return NULL;
    void *pointer = __real_realloc(old, size);
    if (pointer) {
        if (old) forget(old);
        if (armed) remember(pointer);
    }
    return pointer;
}

void __wrap_free(void *pointer)
{
    if (pointer) forget(pointer);
    __real_free(pointer);
}

static void arm(long failing)
{
    n_allocations = 0;
    fail_at = failing;
    armed = 1;
}

static void disarm(void) { armed = 0; }

/* ---- the sweep -------------------------------------------------------------------------------- */

/* One create call under test: makes its object into *made (NULL on failure), with a message. */
typedef melspec_status (*create_fn)(void *context, void **made, char *message, size_t capacity);
typedef void (*destroy_fn)(void *made);

typedef struct sweep_result {
    long sites;  /* allocations the successful call made (each was failed once) */
} sweep_result;

static sweep_result sweep(const char *name, create_fn create, destroy_fn destroy, void *context)
{
    sweep_result result = {0};
    for (long failing = 1;; failing++) {
        void *made = (void *)&result; /* must be overwritten */
        char message[256] = "";
        const long live_before = n_live;
        arm(failing);
        const melspec_status status = create(context, &made, message, sizeof message);
        disarm();
        const long seen = n_allocations;
        if (status == MELSPEC_OK) {
            if (seen >= failing) fail_msg("%s: allocation %ld failed, yet OK", name, failing);
            arm(0);
            destroy(made);
            disarm();
            if (n_live != live_before)
                fail_msg("%s: destroy left %ld blocks", name, n_live - live_before);
            result.sites = failing - 1;
            return result;
        }
        if (status != MELSPEC_ERROR_OUT_OF_MEMORY && status != MELSPEC_ERROR_INTERNAL)
            fail_msg("%s, allocation %ld failing: %s (%s)", name, failing,
                     melspec_status_name(status), message);
        if (message[0] == '\0') fail_msg("%s, allocation %ld failing: no message", name, failing);
        if (made != NULL) fail_msg("%s, allocation %ld failing: an object came back", name, failing);
        if (n_live != live_before)
            fail_msg("%s, allocation %ld failing: %ld blocks leaked (%s)", name, failing,
                     n_live - live_before, message);
        if (failing > 100000) fail_msg("%s: never succeeds", name);
    }
}

/* ---- the calls -------------------------------------------------------------------------------- */

static melspec_status create_plan(void *context, void **made, char *message, size_t capacity)
{
    return melspec_plan_create((melspec_plan **)made, context, message, capacity);
}

static melspec_status create_cqt_plan(void *context, void **made, char *message, size_t capacity)
{
    return melspec_cqt_plan_create((melspec_plan **)made, context, message, capacity);
}

static void destroy_plan(void *made) { melspec_plan_destroy(made); }

/* A fresh plan for each attempt (unarmed): the plan's first stream also allocates the staging
 * its streams share, which the plan frees, so a leak shows only once both are gone. */
static melspec_plan *stream_plan;

static melspec_status create_stream(void *context, void **made, char *message, size_t capacity)
{
    const long failing = fail_at;
    disarm();
    if (melspec_plan_create(&stream_plan, context, message, capacity) != MELSPEC_OK) abort();
    arm(failing);
    const melspec_status status = melspec_stream_create((melspec_stream **)made, stream_plan);
    snprintf(message, capacity, "%s", melspec_plan_last_error(stream_plan));
    if (status != MELSPEC_OK) {
        disarm();
        melspec_plan_destroy(stream_plan);
    }
    return status;
}

static void destroy_stream(void *made)
{
    melspec_stream_destroy(made);
    melspec_plan_destroy(stream_plan);
}

/* reserve on a fresh constant-Q plan each time (the CPU backend's mel plans work in blocks of
 * frames and have nothing to grow; its CQT plans keep the decimated signals): a failed reserve
 * must leave that plan working at the size it had. */
static melspec_status reserve_plan(void *context, void **made, char *message, size_t capacity)
{
    melspec_plan *plan = NULL;
    const long failing = fail_at;
    disarm();
    if (melspec_cqt_plan_create(&plan, context, message, capacity) != MELSPEC_OK)
        fail_msg("plan: %s", message);
    arm(failing);
    const melspec_status status = melspec_plan_reserve(plan, 4, 50000);
    if (status == MELSPEC_OK) {
        *made = plan;
        return status;
    }
    snprintf(message, capacity, "%s", melspec_plan_last_error(plan));
    disarm();
    /* the plan still runs what it was made for */
    float signal[4000];
    for (int i = 0; i < 4000; i++) signal[i] = (float)((i * 7919) % 200 - 100) / 100.0f;
    size_t n_bytes = 0;
    melspec_plan_output_bytes(plan, 1, 4000, &n_bytes);
    void *out = malloc(n_bytes);
    const melspec_status after = melspec_execute(plan, signal, 1, 4000, out, n_bytes);
    if (after != MELSPEC_OK)
        fail_msg("reserve failed at allocation %ld (%s), then execute: %s (%s)", failing,
                 message, melspec_status_name(after), melspec_plan_last_error(plan));
    free(out);
    melspec_plan_destroy(plan);
    *made = NULL;
    return status;
}

static void test_plans(void **state)
{
    (void)state;
    const int32_t transforms[] = {MELSPEC_TRANSFORM_MEL, MELSPEC_TRANSFORM_LINEAR,
                                  MELSPEC_TRANSFORM_STFT};
    for (int t = 0; t < 3; t++) {
        melspec_config c = small_mel_config(MELSPEC_BACKEND_CPU);
        c.transform = transforms[t];
        const sweep_result r = sweep("melspec_plan_create", create_plan, destroy_plan, &c);
        printf("melspec_plan_create (transform %d): %ld allocation sites failed and survived\n",
               (int)transforms[t], r.sites);
        assert_true(r.sites >= 3); /* the plan, its window, its buffers at least */
    }
}

/* The feature stage (issue 15): MFCC's basis and PCEN's state in plans and in streams. */
static void test_feature_plans_and_streams(void **state)
{
    (void)state;
    const int32_t features[] = {MELSPEC_FEATURE_MFCC, MELSPEC_FEATURE_PCEN};
    for (int f = 0; f < 2; f++) {
        melspec_config c = small_mel_config(MELSPEC_BACKEND_CPU);
        c.feature = features[f];
        c.n_mfcc = 8;
        c.layout = MELSPEC_LAYOUT_FRAMES_MAJOR;
        const sweep_result plans = sweep("melspec_plan_create", create_plan, destroy_plan, &c);
        const sweep_result streams =
            sweep("melspec_stream_create", create_stream, destroy_stream, &c);
        printf("feature %d: plan %ld, stream %ld allocation sites failed and survived\n",
               (int)features[f], plans.sites, streams.sites);
        assert_true(plans.sites >= 4); /* ... and the feature stage's scratch */
        assert_true(streams.sites >= 2); /* ... and the stream's feature state */
    }
}

static void test_cqt_plans(void **state)
{
    (void)state;
    melspec_cqt_config c;
    melspec_cqt_config_init(&c);
    c.backend = MELSPEC_BACKEND_CPU;
    c.fmin = 220.0;
    c.n_bins = 36;
    c.max_samples = 22050;
    const sweep_result r = sweep("melspec_cqt_plan_create", create_cqt_plan, destroy_plan, &c);
    printf("melspec_cqt_plan_create: %ld allocation sites failed and survived\n", r.sites);
    assert_true(r.sites >= 3);
}

static void test_streams(void **state)
{
    (void)state;
    melspec_config c = small_mel_config(MELSPEC_BACKEND_CPU);
    c.layout = MELSPEC_LAYOUT_FRAMES_MAJOR;
    const sweep_result r = sweep("melspec_stream_create", create_stream, destroy_stream, &c);
    printf("melspec_stream_create: %ld allocation sites failed and survived\n", r.sites);
    assert_true(r.sites >= 1);
}

static void test_reserve(void **state)
{
    (void)state;
    melspec_cqt_config c;
    melspec_cqt_config_init(&c);
    c.backend = MELSPEC_BACKEND_CPU;
    c.fmin = 220.0;
    c.n_bins = 36;
    c.max_batch = 1;
    c.max_samples = 4000; /* so that reserve (4 x 50000) must grow */
    const sweep_result r = sweep("melspec_plan_reserve", reserve_plan, destroy_plan, &c);
    printf("melspec_plan_reserve (constant-Q): %ld allocation sites failed and survived\n",
           r.sites);
    assert_true(r.sites >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_cqt_plans),
        cmocka_unit_test(test_feature_plans_and_streams),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
