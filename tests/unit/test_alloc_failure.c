/* Allocation-failure injection (SQLite's way) through the public allocator hook
 * (melspec_*_create_with_allocator): every create call (mel, linear and STFT plans of each
 * scaling and dtype and FFT path, constant-Q plans, streams, reserve) is run with its 1st, 2nd,
 * ... n-th allocation failing, until it succeeds. Each failure must return OUT_OF_MEMORY (or, for
 * a step that cannot tell why a library failed, INTERNAL) with a message, give back no object,
 * and leave no block of the allocator behind; the object of the call that succeeds must give
 * every block back when destroyed.
 *
 * The hook is also checked for completeness: malloc, calloc, realloc and free are wrapped at link
 * time (-Wl,--wrap; this executable links the library's objects), and no call of melspec's own
 * code may reach them while a plan with an allocator is being made. Allocations inside shared
 * libraries (libsoxr, FFTW) are not seen by either: include/melspec.h lists them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define TEST_ALLOCATOR_REAL_MALLOC
#include "melspec.h"
#include "test_allocator.h"
#include "test_support.h"

/* ---- stray allocations: melspec code that calls malloc & co. instead of the hook ------------- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *pointer, size_t size);
void __real_free(void *pointer);

static int watching; /* inside a create call made with the hook */
static long n_stray; /* malloc/calloc/realloc calls seen meanwhile */

void *__wrap_malloc(size_t size)
{
    n_stray += watching;
    return __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size)
{
    n_stray += watching;
    return __real_calloc(count, size);
}

void *__wrap_realloc(void *old, size_t size)
{
    n_stray += watching;
    return __real_realloc(old, size);
}

void __wrap_free(void *pointer) { __real_free(pointer); }

/* ---- the sweep -------------------------------------------------------------------------------- */

/* One create call under test: makes its object into *made (NULL on failure) with the allocator
 * (armed by the sweep for the call itself only), and writes a message. */
typedef melspec_status (*create_fn)(void *context, test_allocator *allocator, void **made,
                                    char *message, size_t capacity);
typedef void (*destroy_fn)(void *made);

static test_allocator injector;

/* Arms the injector for the create call itself (what a create_fn does around the call). */
static void watch(long fail_at)
{
    test_allocator_arm(&injector, fail_at);
    n_stray = 0;
    watching = 1;
}

static void unwatch(void)
{
    watching = 0;
    injector.fail_at = 0;
}

static long total_sites, total_calls;

/* Returns the allocation sites the successful call made (each was failed once and survived). */
static long sweep(const char *name, create_fn create, destroy_fn destroy, void *context)
{
    for (long failing = 1;; failing++) {
        void *made = &injector; /* must be overwritten */
        char message[256] = "";
        const long live_before = injector.n_live;
        injector.fail_at = failing; /* the create_fn arms it around the call under test */
        const melspec_status status = create(context, &injector, &made, message, sizeof message);
        const long seen = injector.n_calls;
        unwatch();
        if (n_stray != 0)
            fail_msg("%s, allocation %ld failing: %ld allocations went around the hook", name,
                     failing, n_stray);
        if (injector.bad_frees != 0)
            fail_msg("%s, allocation %ld failing: %ld frees of blocks not handed out", name,
                     failing, injector.bad_frees);
        if (status == MELSPEC_OK) {
            if (seen >= failing) fail_msg("%s: allocation %ld failed, yet OK", name, failing);
            destroy(made);
            if (injector.n_live != live_before)
                fail_msg("%s: destroy left %ld blocks", name, injector.n_live - live_before);
            total_sites += failing - 1;
            total_calls++;
            return failing - 1;
        }
        if (status != MELSPEC_ERROR_OUT_OF_MEMORY && status != MELSPEC_ERROR_INTERNAL)
            fail_msg("%s, allocation %ld failing: %s (%s)", name, failing,
                     melspec_status_name(status), message);
        if (message[0] == '\0') fail_msg("%s, allocation %ld failing: no message", name, failing);
        if (made != NULL) fail_msg("%s, allocation %ld failing: an object came back", name, failing);
        if (injector.n_live != live_before)
            fail_msg("%s, allocation %ld failing: %ld blocks leaked (%s)", name, failing,
                     injector.n_live - live_before, message);
        if (failing > 100000) fail_msg("%s: never succeeds", name);
    }
}

/* ---- the calls -------------------------------------------------------------------------------- */

static melspec_status create_plan(void *context, test_allocator *t, void **made, char *message,
                                  size_t capacity)
{
    const melspec_allocator hook = test_allocator_hook(t);
    watch(t->fail_at);
    return melspec_plan_create_with_allocator((melspec_plan **)made, context, &hook, message,
                                              capacity);
}

static melspec_status create_cqt_plan(void *context, test_allocator *t, void **made,
                                      char *message, size_t capacity)
{
    const melspec_allocator hook = test_allocator_hook(t);
    watch(t->fail_at);
    return melspec_cqt_plan_create_with_allocator((melspec_plan **)made, context, &hook, message,
                                                  capacity);
}

static void destroy_plan(void *made) { melspec_plan_destroy(made); }

/* A fresh plan (made unarmed, with the same allocator) for each attempt; existing_streams
 * streams are made on it first, then the one under test. The plan's first stream also makes
 * the staging its streams share, which the plan frees, so a leak shows once both are gone. */
typedef struct stream_case {
    melspec_config config;
    int existing_streams;
    melspec_plan *plan;
    melspec_stream *existing[2];
} stream_case;

static void stream_case_free(stream_case *c)
{
    for (int i = 0; i < c->existing_streams; i++) melspec_stream_destroy(c->existing[i]);
    melspec_plan_destroy(c->plan);
    c->plan = NULL;
}

static melspec_status create_stream(void *context, test_allocator *t, void **made, char *message,
                                    size_t capacity)
{
    stream_case *c = context;
    const long failing = t->fail_at;
    t->fail_at = 0;
    const melspec_allocator hook = test_allocator_hook(t);
    if (melspec_plan_create_with_allocator(&c->plan, &c->config, &hook, message, capacity) !=
        MELSPEC_OK)
        fail_msg("stream plan: %s", message);
    for (int i = 0; i < c->existing_streams; i++)
        assert_int_equal(melspec_stream_create(&c->existing[i], c->plan), MELSPEC_OK);
    watch(failing);
    const melspec_status status = melspec_stream_create((melspec_stream **)made, c->plan);
    snprintf(message, capacity, "%s", melspec_plan_last_error(c->plan));
    if (status != MELSPEC_OK) stream_case_free(c);
    return status;
}

static stream_case *current_stream_case;

static void destroy_stream(void *made)
{
    melspec_stream_destroy(made);
    stream_case_free(current_stream_case);
}

/* reserve on a fresh plan each time: a failed reserve must leave that plan working at the size
 * it had. */
typedef struct reserve_case {
    int cqt;
    melspec_config config;
    melspec_cqt_config cqt_config;
    int64_t n_signals, n_samples;
} reserve_case;

static melspec_status create_reserved(void *context, test_allocator *t, void **made,
                                      char *message, size_t capacity)
{
    reserve_case *c = context;
    const long failing = t->fail_at;
    t->fail_at = 0;
    const melspec_allocator hook = test_allocator_hook(t);
    melspec_plan *plan = NULL;
    const melspec_status created =
        c->cqt ? melspec_cqt_plan_create_with_allocator(&plan, &c->cqt_config, &hook, message,
                                                        capacity)
               : melspec_plan_create_with_allocator(&plan, &c->config, &hook, message, capacity);
    if (created != MELSPEC_OK) fail_msg("reserve plan: %s", message);
    watch(failing);
    const melspec_status status = melspec_plan_reserve(plan, c->n_signals, c->n_samples);
    if (status == MELSPEC_OK) {
        *made = plan;
        return status;
    }
    unwatch();
    snprintf(message, capacity, "%s", melspec_plan_last_error(plan));
    /* the plan still runs what it was made for */
    enum { N = 4000 };
    float signal[N];
    for (int i = 0; i < N; i++) signal[i] = (float)((i * 7919) % 200 - 100) / 100.0f;
    size_t n_bytes = 0;
    assert_int_equal(melspec_plan_output_bytes(plan, 1, N, &n_bytes), MELSPEC_OK);
    void *out = malloc(n_bytes);
    const melspec_status after = melspec_execute(plan, signal, 1, N, out, n_bytes);
    if (after != MELSPEC_OK)
        fail_msg("reserve failed at allocation %ld (%s), then execute: %s (%s)", failing,
                 message, melspec_status_name(after), melspec_plan_last_error(plan));
    free(out);
    melspec_plan_destroy(plan);
    *made = NULL;
    return status;
}

/* ---- the cases -------------------------------------------------------------------------------- */

static void test_plans(void **state)
{
    (void)state;
    const int32_t transforms[] = {MELSPEC_TRANSFORM_MEL, MELSPEC_TRANSFORM_LINEAR,
                                  MELSPEC_TRANSFORM_STFT};
    const int32_t scalings[] = {MELSPEC_SCALING_NONE, MELSPEC_SCALING_POWER_TO_DB,
                                MELSPEC_SCALING_AMPLITUDE_TO_DB, MELSPEC_SCALING_LOG};
    /* n_fft: even (KissFFT's real transform), odd (its complex one), a large prime (Bluestein) */
    const int64_t sizes[] = {400, 405, 1103};
    const int32_t dtypes[] = {MELSPEC_DTYPE_FLOAT32, MELSPEC_DTYPE_FLOAT16};
    long n_cases = 0;
    for (int t = 0; t < 3; t++)
        for (int s = 0; s < 4; s++)
            for (int n = 0; n < 3; n++)
                for (int d = 0; d < 2; d++) {
                    melspec_config c = small_mel_config(MELSPEC_BACKEND_CPU);
                    c.transform = transforms[t];
                    c.scaling = scalings[s];
                    c.n_fft = sizes[n];
                    c.output_dtype = dtypes[d];
                    melspec_plan *probe = NULL;
                    char why[256];
                    if (melspec_plan_create(&probe, &c, why, sizeof why) != MELSPEC_OK)
                        continue; /* a combination the library refuses (scaling a complex STFT) */
                    melspec_plan_destroy(probe);
                    const long sites =
                        sweep("melspec_plan_create", create_plan, destroy_plan, &c);
                    printf("melspec_plan_create (transform %d, scaling %d, n_fft %lld, dtype %d): "
                           "%ld allocation sites failed and survived\n",
                           (int)c.transform, (int)c.scaling, (long long)c.n_fft, (int)c.output_dtype,
                           sites);
                    assert_true(sites >= 5); /* plan, window, CPU state, FFT, scratch at least */
                    n_cases++;
                }
    assert_true(n_cases >= 3 * 3 * 2); /* every transform, unscaled, each size and dtype */
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
        const long plans = sweep("melspec_plan_create", create_plan, destroy_plan, &c);
        stream_case stream = {.config = c, .existing_streams = 0};
        current_stream_case = &stream;
        const long streams = sweep("melspec_stream_create", create_stream, destroy_stream, &stream);
        printf("feature %d: plan %ld, stream %ld allocation sites failed and survived\n",
               (int)features[f], plans, streams);
        assert_true(plans >= 4);   /* ... and the feature stage's scratch */
        assert_true(streams >= 5); /* stream, buffer, staging and the stream's feature state */
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
    long sites = sweep("melspec_cqt_plan_create", create_cqt_plan, destroy_plan, &c);
    printf("melspec_cqt_plan_create (36 bins from 220 Hz): %ld allocation sites failed and "
           "survived\n", sites);
    assert_true(sites >= 20);
    /* a low fmin and a hop with many factors of two: early downsampling, more octaves */
    c.fmin = 32.70319566257483;
    c.n_bins = 84;
    c.hop_length = 512;
    c.output = MELSPEC_CQT_OUTPUT_MAGNITUDE;
    c.scaling = MELSPEC_SCALING_AMPLITUDE_TO_DB;
    sites = sweep("melspec_cqt_plan_create", create_cqt_plan, destroy_plan, &c);
    printf("melspec_cqt_plan_create (84 bins from C1, amplitude dB): %ld allocation sites failed "
           "and survived\n", sites);
    assert_true(sites >= 20);
}

static void test_streams(void **state)
{
    (void)state;
    for (int existing = 0; existing < 2; existing++) {
        stream_case c = {.config = small_mel_config(MELSPEC_BACKEND_CPU),
                         .existing_streams = existing};
        c.config.layout = MELSPEC_LAYOUT_FRAMES_MAJOR;
        current_stream_case = &c;
        const long sites = sweep("melspec_stream_create", create_stream, destroy_stream, &c);
        printf("melspec_stream_create (a plan's %s stream): %ld allocation sites failed and "
               "survived\n", existing ? "second" : "first", sites);
        assert_true(sites >= (existing ? 2 : 3)); /* stream, buffer (and the plan's staging) */
    }
}

static void test_reserve(void **state)
{
    (void)state;
    /* CQT plans keep the decimated signals; 16-bit mel plans one clip of float values (float32
     * mel plans work in blocks of frames on the CPU and have nothing to grow) */
    reserve_case cqt = {.cqt = 1, .n_signals = 4, .n_samples = 50000};
    melspec_cqt_config_init(&cqt.cqt_config);
    cqt.cqt_config.backend = MELSPEC_BACKEND_CPU;
    cqt.cqt_config.fmin = 220.0;
    cqt.cqt_config.n_bins = 36;
    cqt.cqt_config.max_batch = 1;
    cqt.cqt_config.max_samples = 4000; /* so that reserve (4 x 50000) must grow */
    long sites = sweep("melspec_plan_reserve", create_reserved, destroy_plan, &cqt);
    printf("melspec_plan_reserve (constant-Q): %ld allocation sites failed and survived\n", sites);
    assert_true(sites >= 2);

    reserve_case half = {.cqt = 0, .n_signals = 2, .n_samples = 100000};
    half.config = small_mel_config(MELSPEC_BACKEND_CPU);
    half.config.output_dtype = MELSPEC_DTYPE_FLOAT16;
    half.config.max_samples = 4000;
    sites = sweep("melspec_plan_reserve", create_reserved, destroy_plan, &half);
    printf("melspec_plan_reserve (float16 mel): %ld allocation sites failed and survived\n",
           sites);
    assert_true(sites >= 1);
}

/* The hook's own rules: only one of alloc and free set is refused, and the default allocator
 * (NULL, or both NULL) is malloc. */
static void test_allocator_rules(void **state)
{
    (void)state;
    melspec_config c = small_mel_config(MELSPEC_BACKEND_CPU);
    melspec_plan *plan = NULL;
    char message[256] = "";
    melspec_allocator half = {test_allocator_alloc, NULL, &injector};
    assert_int_equal(melspec_plan_create_with_allocator(&plan, &c, &half, message, sizeof message),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_null(plan);
    assert_non_null(strstr(message, "allocator"));
    melspec_cqt_config q;
    melspec_cqt_config_init(&q);
    q.backend = MELSPEC_BACKEND_CPU;
    half.alloc = NULL;
    half.free = test_allocator_free;
    assert_int_equal(melspec_cqt_plan_create_with_allocator(&plan, &q, &half, message,
                                                            sizeof message),
                     MELSPEC_ERROR_INVALID_ARGUMENT);
    assert_null(plan);
    const melspec_allocator none = {NULL, NULL, NULL};
    assert_int_equal(melspec_plan_create_with_allocator(&plan, &c, &none, message, sizeof message),
                     MELSPEC_OK);
    melspec_plan_destroy(plan);
    assert_int_equal(melspec_plan_create_with_allocator(&plan, &c, NULL, message, sizeof message),
                     MELSPEC_OK);
    melspec_plan_destroy(plan);
}

static int report(void **state)
{
    (void)state;
    printf("in all: %ld create calls, %ld allocation sites failed and survived\n", total_calls,
           total_sites);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocator_rules),
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_cqt_plans),
        cmocka_unit_test(test_feature_plans_and_streams),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, report);
}
