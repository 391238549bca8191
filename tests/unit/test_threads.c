/* Threads: different plans run in parallel with no shared mutable state. Each thread owns its
 * plans (mel, linear, STFT, CQT magnitude) and streams and compares every result bit for bit with
 * a reference computed single-threaded beforehand; other threads create and destroy plans (and
 * run the CUDA plugin loader's once) concurrently. Run under ThreadSanitizer by
 * scripts/check-threads.sh. The threads never call cmocka (it is not thread-safe): they count
 * failures, which the main thread asserts on.
 *
 * MELSPEC_TEST_THREADS_BACKEND=cuda runs the same on the CUDA backend (ctest test_threads_cuda,
 * on the CUDA emulator or a GPU; exits 77 without a device): its references come from CUDA plans
 * too, made on one thread, since a GPU's results are reproducible but not the CPU's bits. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "melspec.h"
#include "test_support.h"

#define N_THREADS 4
#define N_LENGTHS 6         /* random clip lengths, each with its reference */
#define CALLS_PER_KIND 12   /* per thread and plan kind */
#define MAX_SAMPLES 12000
#define MIN_SAMPLES 2000
#define STREAMS_PER_THREAD 3
#define CLIPS_PER_STREAM 3

enum plan_kind { KIND_MEL, KIND_LINEAR, KIND_STFT, KIND_CQT, N_KINDS };

/* The backend under test (CPU, or CUDA by the environment variable above). */
static melspec_backend tested = MELSPEC_BACKEND_CPU;

/* Returns NULL on failure (callers off the main thread cannot fail the test themselves). */
static melspec_plan *create_plan(enum plan_kind kind, melspec_backend backend)
{
    melspec_plan *plan = NULL;
    char why[256];
    melspec_status status;
    if (kind == KIND_CQT) {
        melspec_cqt_config c;
        melspec_cqt_config_init(&c);
        c.output = MELSPEC_CQT_OUTPUT_MAGNITUDE;
        c.sample_rate = 16000.0;
        c.hop_length = 256;
        c.fmin = 110.0; /* 4 octaves from A2: small filters, a fast test */
        c.n_bins = 48;
        c.backend = backend;
        status = melspec_cqt_plan_create(&plan, &c, why, sizeof why);
    } else {
        melspec_config c = small_mel_config(backend);
        c.max_samples = MAX_SAMPLES;
        c.layout = MELSPEC_LAYOUT_FRAMES_MAJOR; /* streams' frames then concatenate */
        c.transform = kind == KIND_MEL      ? MELSPEC_TRANSFORM_MEL
                      : kind == KIND_LINEAR ? MELSPEC_TRANSFORM_LINEAR
                                            : MELSPEC_TRANSFORM_STFT;
        status = melspec_plan_create(&plan, &c, why, sizeof why);
    }
    return status == MELSPEC_OK ? plan : NULL;
}

/* ---- read-only inputs and references, made single-threaded before any thread starts ---------- */

static float *signals[N_LENGTHS];
static int64_t lengths[N_LENGTHS];
static void *references[N_KINDS][N_LENGTHS];
static size_t reference_bytes[N_KINDS][N_LENGTHS];

static int setup_references(void **state)
{
    (void)state;
    uint64_t rng = 0x5eed0017u;
    for (int i = 0; i < N_LENGTHS; i++) {
        lengths[i] = MIN_SAMPLES +
                     (int64_t)(test_rand_next(&rng) % (uint64_t)(MAX_SAMPLES - MIN_SAMPLES + 1));
        signals[i] = malloc((size_t)lengths[i] * sizeof *signals[i]);
        if (signals[i] == NULL) return -1;
        make_test_signal(signals[i], lengths[i], 16000.0, (uint64_t)(100 + i));
    }
    for (int k = 0; k < N_KINDS; k++) {
        melspec_plan *plan = create_plan((enum plan_kind)k, tested);
        if (plan == NULL) return -1;
        for (int i = 0; i < N_LENGTHS; i++) {
            if (melspec_plan_output_bytes(plan, 1, lengths[i], &reference_bytes[k][i]) !=
                MELSPEC_OK)
                return -1;
            references[k][i] = malloc(reference_bytes[k][i]);
            if (references[k][i] == NULL ||
                melspec_execute(plan, signals[i], 1, lengths[i], references[k][i],
                                reference_bytes[k][i]) != MELSPEC_OK)
                return -1;
        }
        melspec_plan_destroy(plan);
    }
    return 0;
}

static int teardown_references(void **state)
{
    (void)state;
    for (int i = 0; i < N_LENGTHS; i++) {
        free(signals[i]);
        for (int k = 0; k < N_KINDS; k++) free(references[k][i]);
    }
    return 0;
}

/* What one thread did; only that thread writes it until it is joined. */
typedef struct thread_result {
    uint64_t seed;
    int calls, failures, mismatches;
} thread_result;

static size_t largest_reference(void)
{
    size_t largest = 0;
    for (int k = 0; k < N_KINDS; k++)
        for (int i = 0; i < N_LENGTHS; i++)
            if (reference_bytes[k][i] > largest) largest = reference_bytes[k][i];
    return largest;
}

static void run_threads(void *(*body)(void *), thread_result results[N_THREADS])
{
    pthread_t threads[N_THREADS];
    for (int t = 0; t < N_THREADS; t++) {
        results[t] = (thread_result){.seed = 0x1234u + 7919u * (uint64_t)t};
        assert_int_equal(pthread_create(&threads[t], NULL, body, &results[t]), 0);
    }
    for (int t = 0; t < N_THREADS; t++) assert_int_equal(pthread_join(threads[t], NULL), 0);
}

static void assert_all_matched(const thread_result results[N_THREADS], int calls_each)
{
    for (int t = 0; t < N_THREADS; t++) {
        if (results[t].failures != 0 || results[t].mismatches != 0 ||
            results[t].calls != calls_each)
            fail_msg("thread %d: %d calls of %d, %d failed, %d differ from the reference", t,
                     results[t].calls, calls_each, results[t].failures, results[t].mismatches);
    }
}

/* ---- (a) each thread its own plans, many random-length calls --------------------------------- */

static void *execute_own_plans(void *argument)
{
    thread_result *result = argument;
    melspec_plan *plans[N_KINDS];
    for (int k = 0; k < N_KINDS; k++) plans[k] = create_plan((enum plan_kind)k, tested);
    void *out = malloc(largest_reference());
    for (int call = 0; call < CALLS_PER_KIND * N_KINDS; call++) {
        const int k = call % N_KINDS;
        const int i = (int)(test_rand_next(&result->seed) % N_LENGTHS);
        if (plans[k] == NULL || out == NULL ||
            melspec_execute(plans[k], signals[i], 1, lengths[i], out, reference_bytes[k][i]) !=
                MELSPEC_OK)
            result->failures++;
        else if (memcmp(out, references[k][i], reference_bytes[k][i]) != 0)
            result->mismatches++;
        result->calls++;
    }
    free(out);
    for (int k = 0; k < N_KINDS; k++) melspec_plan_destroy(plans[k]);
    return NULL;
}

static void test_own_plans_in_parallel_match_the_references(void **state)
{
    (void)state;
    thread_result results[N_THREADS];
    run_threads(execute_own_plans, results);
    assert_all_matched(results, CALLS_PER_KIND * N_KINDS);
}

/* ---- (b) each thread a plan and several streams: random chunks, then flush ------------------- */

/* Streams clip i in random chunks (0 included), flushes, and compares with the reference (what
 * execute gave). 0: equal; 1: different; -1: a call failed. */
static int stream_clip(melspec_stream *stream, int k, int i, uint64_t *rng, unsigned char *frames)
{
    size_t frame_bytes = 0;
    if (melspec_stream_frame_bytes(stream, &frame_bytes) != MELSPEC_OK || frame_bytes == 0) return -1;
    const size_t capacity = reference_bytes[k][i];
    size_t written = 0;
    int64_t offset = 0, got = 0;
    while (offset < lengths[i]) {
        int64_t size = (int64_t)(test_rand_next(rng) % 1500u);
        if (size > lengths[i] - offset) size = lengths[i] - offset;
        if (melspec_stream_push(stream, signals[i] + offset, size, frames + written,
                                capacity - written, &got) != MELSPEC_OK)
            return -1;
        written += (size_t)got * frame_bytes;
        offset += size;
    }
    if (melspec_stream_flush(stream, frames + written, capacity - written, &got) != MELSPEC_OK)
        return -1;
    written += (size_t)got * frame_bytes;
    if (melspec_stream_reset(stream) != MELSPEC_OK) return -1;
    return written == capacity && memcmp(frames, references[k][i], capacity) == 0 ? 0 : 1;
}

static void *stream_own_streams(void *argument)
{
    thread_result *result = argument;
    /* each thread streams another kind (CQT plans have no streams) */
    const int k = (int)(result->seed % 3u);
    melspec_plan *plan = create_plan((enum plan_kind)k, tested);
    melspec_stream *streams[STREAMS_PER_THREAD] = {NULL};
    int created = plan != NULL;
    for (int s = 0; created && s < STREAMS_PER_THREAD; s++)
        created = melspec_stream_create(&streams[s], plan) == MELSPEC_OK;
    unsigned char *frames = malloc(largest_reference());
    for (int clip = 0; clip < CLIPS_PER_STREAM; clip++) {
        for (int s = 0; s < STREAMS_PER_THREAD; s++) {
            const int i = (int)(test_rand_next(&result->seed) % N_LENGTHS);
            const int outcome = created && frames != NULL
                                    ? stream_clip(streams[s], k, i, &result->seed, frames)
                                    : -1;
            if (outcome < 0) result->failures++;
            if (outcome > 0) result->mismatches++;
            result->calls++;
        }
    }
    free(frames);
    for (int s = 0; s < STREAMS_PER_THREAD; s++) melspec_stream_destroy(streams[s]);
    melspec_plan_destroy(plan);
    return NULL;
}

static void test_own_streams_in_parallel_match_execute(void **state)
{
    (void)state;
    thread_result results[N_THREADS];
    run_threads(stream_own_streams, results);
    assert_all_matched(results, CLIPS_PER_STREAM * STREAMS_PER_THREAD);
}

/* ---- (c) plans created and destroyed concurrently; AUTO plans run the plugin loader's once ---- */

#define PLANS_PER_THREAD 8

static void *create_and_destroy(void *argument)
{
    thread_result *result = argument;
    for (int n = 0; n < PLANS_PER_THREAD; n++) {
        /* AUTO first, from every thread at once: the CUDA plugin's one load (pthread_once), which
         * without a driver or plugin ends on the CPU (and with a device, on CUDA) */
        const melspec_backend backend = n % 2 == 0 ? MELSPEC_BACKEND_AUTO : tested;
        const int k = (int)(test_rand_next(&result->seed) % N_KINDS);
        melspec_plan *plan = create_plan((enum plan_kind)k, backend);
        if (plan == NULL) {
            result->failures++;
        } else if (melspec_plan_backend(plan) == tested) {
            /* a plan of the tested backend must give its reference; another may differ by
             * rounding */
            void *out = malloc(reference_bytes[k][0]);
            if (out == NULL || melspec_execute(plan, signals[0], 1, lengths[0], out,
                                               reference_bytes[k][0]) != MELSPEC_OK)
                result->failures++;
            else if (memcmp(out, references[k][0], reference_bytes[k][0]) != 0)
                result->mismatches++;
            free(out);
        }
        (void)melspec_cuda_compiled();
        melspec_plan_destroy(plan);
        result->calls++;
    }
    return NULL;
}

static void test_plans_created_and_destroyed_concurrently(void **state)
{
    (void)state;
    thread_result results[N_THREADS];
    run_threads(create_and_destroy, results);
    assert_all_matched(results, PLANS_PER_THREAD);
}

int main(void)
{
    const char *backend = getenv("MELSPEC_TEST_THREADS_BACKEND");
    if (backend != NULL && strcmp(backend, "cuda") == 0) {
        if (melspec_cuda_device_count() < 1) return gpu_test_without_device("test_threads (CUDA)");
        tested = MELSPEC_BACKEND_CUDA;
    }
    const struct CMUnitTest tests[] = {
        /* first: the plugin loader's once must run in the threads, not before them */
        cmocka_unit_test(test_plans_created_and_destroyed_concurrently),
        cmocka_unit_test(test_own_plans_in_parallel_match_the_references),
        cmocka_unit_test(test_own_streams_in_parallel_match_execute),
    };
    return cmocka_run_group_tests(tests, setup_references, teardown_references);
}
