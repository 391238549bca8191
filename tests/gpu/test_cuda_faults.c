/*
 * The CUDA backend's fault paths, on the CPU emulation of CUDA (tests/cuda_emulator), which can
 * fail its n-th cudaMalloc, cudaMallocHost, cuFFT plan, cublasCreate or graph instantiation, lose
 * the "device" (a sticky error) at its n-th kernel run or copy, or have no device at all. For
 * each injection point and each n in turn, at plan creation, at reserve, at execute (host and
 * device pointers), at stream creation and at stream push:
 *   - the call returns OUT_OF_MEMORY (allocations) or DEVICE (everything else) with a message;
 *   - a failed create gives no plan; every plan can still be destroyed;
 *   - nothing leaks: the emulator's live device/pinned blocks and handles, and the blocks of the
 *     plan's allocator (the public hook), are back where they were once the objects are gone;
 *   - after an allocation fault the same plan (or stream) goes on and gives, bit for bit, what a
 *     plan that saw no fault gives; after a sticky error the plan is dead (every call returns
 *     DEVICE saying so, destroy works) and, once the emulated device works again, a new plan
 *     gives the reference again: the process is unharmed.
 * The contract is written in include/melspec_cuda.h ("GPU faults") and docs/reliability.md.
 * Exits 77 (skipped) on a real GPU or without a device: fault injection needs the emulator.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cuda_runtime_api.h>

#include "../unit/test_allocator.h"
#include "melspec.h"
#include "melspec_cuda.h"
#include "test_support.h"

/* The emulator's controls (tests/cuda_emulator/runtime.cpp); absent on a GPU. */
extern void emu_fault_arm(int kind, long nth) __attribute__((weak));
extern long emu_fault_calls(int kind) __attribute__((weak));
extern void emu_fault_clear(void) __attribute__((weak));
extern void emu_live_objects(long *blocks, long *handles) __attribute__((weak));

enum fault_kind { /* the emulator's emu_fault_kind */
    FAULT_MALLOC,
    FAULT_HOST_ALLOC,
    FAULT_FFT_PLAN,
    FAULT_BLAS_CREATE,
    FAULT_GRAPH_INSTANTIATE,
    FAULT_KERNEL_LOST,
    FAULT_COPY_LOST,
    N_FAULTS
};
static const char *const fault_names[N_FAULTS] = {
    "cudaMalloc", "cudaMallocHost", "cufftPlan", "cublasCreate", "cudaGraphInstantiate",
    "device lost at a kernel", "device lost at a copy"};

static int is_sticky(int kind) { return kind == FAULT_KERNEL_LOST || kind == FAULT_COPY_LOST; }

#define N_SAMPLES 6000
#define CHUNK 700 /* stream pushes */

static float signal[N_SAMPLES];
static test_allocator hook_counts;

/* The plans under test: mel with the sparse product, mel with cuBLAS (GEMM), STFT magnitude in
 * dB; a CQT plan for creation. */
enum plan_case { CASE_MEL, CASE_MEL_GEMM, CASE_LINEAR_DB, CASE_CQT, N_CASES };

static melspec_status make_plan(int which, melspec_backend backend, melspec_plan **plan,
                                char *message, size_t capacity)
{
    const melspec_allocator hook = test_allocator_hook(&hook_counts);
    if (which == CASE_CQT) {
        melspec_cqt_config q;
        melspec_cqt_config_init(&q);
        q.backend = backend;
        q.sample_rate = 16000.0;
        q.fmin = 110.0;
        q.n_bins = 36;
        q.hop_length = 256;
        q.output = MELSPEC_CQT_OUTPUT_MAGNITUDE;
        q.max_samples = N_SAMPLES;
        return melspec_cqt_plan_create_with_allocator(plan, &q, &hook, message, capacity);
    }
    melspec_config c = small_mel_config(backend);
    c.max_samples = N_SAMPLES;
    c.layout = MELSPEC_LAYOUT_FRAMES_MAJOR; /* streamed frames concatenate */
    if (which == CASE_MEL_GEMM) c.mel_product = MELSPEC_MEL_PRODUCT_GEMM;
    if (which == CASE_LINEAR_DB) {
        c.transform = MELSPEC_TRANSFORM_LINEAR;
        c.scaling = MELSPEC_SCALING_POWER_TO_DB;
        c.top_db = INFINITY; /* streams need a fixed reference */
    }
    return melspec_plan_create_with_allocator(plan, &c, &hook, message, capacity);
}

/* What a CUDA plan that saw no fault gives for the signal (the emulator is deterministic, so a
 * recovered plan must give it bit for bit). */
static void *reference[N_CASES];
static size_t reference_bytes[N_CASES];

static void *run_execute(melspec_plan *plan, size_t n_bytes, melspec_status *status)
{
    void *out = malloc(n_bytes);
    assert_non_null(out);
    *status = melspec_execute(plan, signal, 1, N_SAMPLES, out, n_bytes);
    return out;
}

/* The live counts that must come back: the emulator's blocks and handles, the hook's blocks. */
typedef struct live_counts {
    long blocks, handles, hooked;
} live_counts;

static live_counts live_now(void)
{
    live_counts c;
    emu_live_objects(&c.blocks, &c.handles);
    c.hooked = hook_counts.n_live;
    return c;
}

static void assert_nothing_leaked(live_counts before, const char *what, int kind, long n)
{
    const live_counts after = live_now();
    if (after.blocks != before.blocks || after.handles != before.handles ||
        after.hooked != before.hooked)
        fail_msg("%s, %s #%ld: leaked %ld device/pinned blocks, %ld handles, %ld host blocks", what,
                 fault_names[kind], n, after.blocks - before.blocks,
                 after.handles - before.handles, after.hooked - before.hooked);
    if (hook_counts.bad_frees != 0) fail_msg("%s: a free of a block not handed out", what);
}

static void assert_fault_status(melspec_status status, int kind, const char *message,
                                const char *what, long n)
{
    const melspec_status expected =
        is_sticky(kind) || kind == FAULT_GRAPH_INSTANTIATE ? MELSPEC_ERROR_DEVICE
                                                           : MELSPEC_ERROR_OUT_OF_MEMORY;
    /* an instantiation that fails for want of memory may say so */
    const int fits = status == expected ||
                     (kind == FAULT_GRAPH_INSTANTIATE && status == MELSPEC_ERROR_OUT_OF_MEMORY);
    if (!fits)
        fail_msg("%s, %s #%ld: %s (%s)", what, fault_names[kind], n, melspec_status_name(status),
                 message);
    if (message == NULL || message[0] == '\0')
        fail_msg("%s, %s #%ld: no message", what, fault_names[kind], n);
}

/* A dead plan (after a sticky error) refuses every call with DEVICE and a message. */
static void assert_dead(melspec_plan *plan, const char *what)
{
    size_t n_bytes = 0;
    assert_int_equal(melspec_plan_output_bytes(plan, 1, N_SAMPLES, &n_bytes), MELSPEC_OK);
    void *out = malloc(n_bytes);
    const melspec_status again = melspec_execute(plan, signal, 1, N_SAMPLES, out, n_bytes);
    free(out);
    if (again != MELSPEC_ERROR_DEVICE || strstr(melspec_plan_last_error(plan), "earlier") == NULL)
        fail_msg("%s: a plan after a sticky error answered %s (%s)", what,
                 melspec_status_name(again), melspec_plan_last_error(plan));
    assert_int_equal(melspec_plan_reserve(plan, 2, 2 * N_SAMPLES), MELSPEC_ERROR_DEVICE);
}

/* ---- each stage: the call under test, armed; what must hold after it ------------------------ */

static long points_tried, failures_seen;

/* Fails the kind's n-th call, n = 1, 2, ... until the stage runs through without reaching it. */
typedef int (*stage_fn)(int which, int kind, long n); /* 1: the fault was reached */

static int stage_create(int which, int kind, long n)
{
    const live_counts before = live_now();
    melspec_plan *plan = (melspec_plan *)&hook_counts; /* must be overwritten */
    char message[512] = "";
    emu_fault_arm(kind, n);
    const melspec_status status = make_plan(which, MELSPEC_BACKEND_CUDA, &plan, message,
                                            sizeof message);
    const int reached = emu_fault_calls(kind) >= n;
    emu_fault_clear();
    if (status == MELSPEC_OK) {
        if (reached && !is_sticky(kind) && kind != FAULT_GRAPH_INSTANTIATE)
            fail_msg("create, %s #%ld failed, yet OK", fault_names[kind], n);
        melspec_plan_destroy(plan);
    } else {
        assert_fault_status(status, kind, message, "create", n);
        if (plan != NULL) fail_msg("create, %s #%ld: a plan came back", fault_names[kind], n);
        failures_seen++;
    }
    assert_nothing_leaked(before, "create", kind, n);
    return reached && status != MELSPEC_OK;
}

/* reserve larger than the plan: an allocation fault leaves the plan as it was. */
static int stage_reserve(int which, int kind, long n)
{
    const live_counts before = live_now();
    melspec_plan *plan = NULL;
    char message[512];
    assert_int_equal(make_plan(which, MELSPEC_BACKEND_CUDA, &plan, message, sizeof message),
                     MELSPEC_OK);
    emu_fault_arm(kind, n);
    const melspec_status status = melspec_plan_reserve(plan, 3, 3 * N_SAMPLES);
    const int reached = emu_fault_calls(kind) >= n;
    emu_fault_clear();
    if (status != MELSPEC_OK) {
        assert_fault_status(status, kind, melspec_plan_last_error(plan), "reserve", n);
        failures_seen++;
        if (is_sticky(kind)) assert_dead(plan, "reserve");
    }
    if (!is_sticky(kind) || status == MELSPEC_OK) {
        melspec_status after;
        void *out = run_execute(plan, reference_bytes[which], &after);
        if (after != MELSPEC_OK || memcmp(out, reference[which], reference_bytes[which]) != 0)
            fail_msg("reserve, %s #%ld (%s), then execute: %s, %s", fault_names[kind], n,
                     melspec_status_name(status), melspec_status_name(after),
                     after == MELSPEC_OK ? "values differ" : melspec_plan_last_error(plan));
        free(out);
    }
    melspec_plan_destroy(plan);
    assert_nothing_leaked(before, "reserve", kind, n);
    return reached && status != MELSPEC_OK;
}

/* Host-pointer execute (its first call captures and instantiates a graph), then device pointers. */
static int stage_execute(int which, int kind, long n)
{
    const live_counts before = live_now();
    melspec_plan *plan = NULL;
    char message[512];
    assert_int_equal(make_plan(which, MELSPEC_BACKEND_CUDA, &plan, message, sizeof message),
                     MELSPEC_OK);
    const size_t n_bytes = reference_bytes[which];
    float *d_input = NULL;
    void *d_output = NULL;
    assert_int_equal(cudaMalloc((void **)&d_input, N_SAMPLES * sizeof(float)), cudaSuccess);
    assert_int_equal(cudaMalloc(&d_output, n_bytes), cudaSuccess);
    assert_int_equal(cudaMemcpy(d_input, signal, N_SAMPLES * sizeof(float),
                                cudaMemcpyHostToDevice),
                     cudaSuccess);
    emu_fault_arm(kind, n);
    melspec_status status;
    void *out = run_execute(plan, n_bytes, &status);
    if (status == MELSPEC_OK)
        status = melspec_execute_device(plan, d_input, 1, N_SAMPLES, d_output, n_bytes);
    const int reached = emu_fault_calls(kind) >= n;
    emu_fault_clear();
    free(out);
    if (status != MELSPEC_OK) {
        assert_fault_status(status, kind, melspec_plan_last_error(plan), "execute", n);
        failures_seen++;
    }
    if (is_sticky(kind) && status != MELSPEC_OK) {
        assert_dead(plan, "execute");
    } else {
        /* the same plan goes on, with both pointer kinds */
        melspec_status after;
        out = run_execute(plan, n_bytes, &after);
        if (after != MELSPEC_OK || memcmp(out, reference[which], n_bytes) != 0)
            fail_msg("execute, %s #%ld (%s), then execute: %s", fault_names[kind], n,
                     melspec_status_name(status),
                     after == MELSPEC_OK ? "values differ" : melspec_plan_last_error(plan));
        memset(out, 0, n_bytes);
        assert_int_equal(melspec_execute_device(plan, d_input, 1, N_SAMPLES, d_output, n_bytes),
                         MELSPEC_OK);
        assert_int_equal(cudaMemcpy(out, d_output, n_bytes, cudaMemcpyDeviceToHost), cudaSuccess);
        if (memcmp(out, reference[which], n_bytes) != 0)
            fail_msg("execute, %s #%ld, then execute_device: values differ", fault_names[kind], n);
        free(out);
    }
    melspec_plan_destroy(plan);
    cudaFree(d_input);
    cudaFree(d_output);
    assert_nothing_leaked(before, "execute", kind, n);
    return reached && status != MELSPEC_OK;
}

/* A stream pushes the signal in chunks with the fault armed from the second chunk on; a push
 * that fails changes nothing (stream.c), so after an allocation fault the same chunk is pushed
 * again and the frames must equal execute's. */
static int stage_push(int which, int kind, long n)
{
    const live_counts before = live_now();
    melspec_plan *plan = NULL;
    char message[512];
    assert_int_equal(make_plan(which, MELSPEC_BACKEND_CUDA, &plan, message, sizeof message),
                     MELSPEC_OK);
    melspec_stream *stream = NULL;
    assert_int_equal(melspec_stream_create(&stream, plan), MELSPEC_OK);
    size_t frame_bytes = 0;
    assert_int_equal(melspec_stream_frame_bytes(stream, &frame_bytes), MELSPEC_OK);
    const size_t capacity = reference_bytes[which];
    unsigned char *frames = calloc(1, capacity);
    size_t written = 0;
    int armed = 0, reached = 0, failed = 0;
    int64_t got = 0;
    for (int64_t offset = 0; offset < N_SAMPLES;) {
        const int64_t size = offset + CHUNK <= N_SAMPLES ? CHUNK : N_SAMPLES - offset;
        if (offset == CHUNK && !armed) {
            emu_fault_arm(kind, n);
            armed = 1;
        }
        const melspec_status status = melspec_stream_push(stream, signal + offset, size,
                                                          frames + written, capacity - written,
                                                          &got);
        if (offset >= CHUNK && !reached && emu_fault_calls(kind) >= n) {
            reached = 1;
            emu_fault_clear();
        }
        if (status != MELSPEC_OK) {
            assert_fault_status(status, kind, melspec_plan_last_error(plan), "push", n);
            failures_seen++;
            failed = 1;
            if (is_sticky(kind)) break;
            continue; /* the same chunk again: the failed push changed nothing */
        }
        written += (size_t)got * frame_bytes;
        offset += size;
    }
    emu_fault_clear();
    if (failed && is_sticky(kind)) {
        int64_t more = 0;
        if (melspec_stream_push(stream, signal, CHUNK, frames, capacity, &more) !=
            MELSPEC_ERROR_DEVICE)
            fail_msg("push after a sticky error: not DEVICE");
        assert_dead(plan, "push");
    } else {
        assert_int_equal(melspec_stream_flush(stream, frames + written, capacity - written, &got),
                         MELSPEC_OK);
        written += (size_t)got * frame_bytes;
        if (written != capacity || memcmp(frames, reference[which], capacity) != 0)
            fail_msg("push, %s #%ld: the streamed frames differ from execute's (%zu of %zu bytes)",
                     fault_names[kind], n, written, capacity);
    }
    free(frames);
    melspec_stream_destroy(stream);
    melspec_plan_destroy(plan);
    assert_nothing_leaked(before, "push", kind, n);
    return reached && failed;
}

/* A plan's first stream (its ring on the device, the step buffers it shares with later ones),
 * then a second one. */
static int stage_stream_create(int which, int kind, long n)
{
    const live_counts before = live_now();
    melspec_plan *plan = NULL;
    char message[512];
    assert_int_equal(make_plan(which, MELSPEC_BACKEND_CUDA, &plan, message, sizeof message),
                     MELSPEC_OK);
    melspec_stream *streams[2] = {NULL, NULL};
    emu_fault_arm(kind, n);
    melspec_status status = melspec_stream_create(&streams[0], plan);
    if (status == MELSPEC_OK) status = melspec_stream_create(&streams[1], plan);
    const int reached = emu_fault_calls(kind) >= n;
    emu_fault_clear();
    if (status != MELSPEC_OK) {
        assert_fault_status(status, kind, melspec_plan_last_error(plan), "stream create", n);
        if (streams[1] != NULL) fail_msg("stream create: a stream came back from a failure");
        failures_seen++;
    }
    melspec_stream_destroy(streams[0]);
    melspec_stream_destroy(streams[1]);
    melspec_plan_destroy(plan);
    assert_nothing_leaked(before, "stream create", kind, n);
    return reached && status != MELSPEC_OK;
}

/* n = 1, 2, ... until the stage no longer reaches the fault. */
static long sweep(stage_fn stage, int which, int kind)
{
    long n = 1;
    for (; n < 2000 && stage(which, kind, n); n++) points_tried++;
    points_tried++;
    return n - 1;
}

/* ---- the tests ------------------------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    make_test_signal(signal, N_SAMPLES, 16000.0, 17);
    for (int which = 0; which < N_CASES; which++) {
        melspec_plan *plan = NULL;
        char message[512];
        if (make_plan(which, MELSPEC_BACKEND_CUDA, &plan, message, sizeof message) != MELSPEC_OK)
            return -1;
        if (melspec_plan_output_bytes(plan, 1, N_SAMPLES, &reference_bytes[which]) != MELSPEC_OK)
            return -1;
        melspec_status status;
        reference[which] = run_execute(plan, reference_bytes[which], &status);
        melspec_plan_destroy(plan);
        if (status != MELSPEC_OK) return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int which = 0; which < N_CASES; which++) free(reference[which]);
    printf("GPU faults: %ld injection points tried, %ld calls failed cleanly\n", points_tried,
           failures_seen);
    return 0;
}

static void report(const char *stage, int which, int kind, long sites)
{
    static const char *const names[N_CASES] = {"mel", "mel (cuBLAS)", "linear dB", "CQT"};
    printf("%-7s %-12s %-24s: %ld failing calls, each clean\n", stage, names[which],
           fault_names[kind], sites);
}

static void test_faults_at_create(void **state)
{
    (void)state;
    for (int which = 0; which < N_CASES; which++)
        for (int kind = 0; kind < N_FAULTS; kind++) {
            if (kind == FAULT_BLAS_CREATE && which != CASE_MEL_GEMM) continue;
            const long sites = sweep(stage_create, which, kind);
            report("create", which, kind, sites);
            /* every plan makes device buffers, pinned staging and a cuFFT plan, and uploads */
            if (kind == FAULT_MALLOC || kind == FAULT_HOST_ALLOC || kind == FAULT_COPY_LOST ||
                (kind == FAULT_FFT_PLAN && which != CASE_CQT) || kind == FAULT_BLAS_CREATE)
                assert_true(sites >= 1);
        }
}

static void test_faults_at_reserve(void **state)
{
    (void)state;
    const int cases[] = {CASE_MEL, CASE_CQT};
    for (int c = 0; c < 2; c++)
        for (int kind = 0; kind < N_FAULTS; kind++) {
            const long sites = sweep(stage_reserve, cases[c], kind);
            report("reserve", cases[c], kind, sites);
            if (kind == FAULT_MALLOC || kind == FAULT_HOST_ALLOC) assert_true(sites >= 1);
        }
}

static void test_faults_at_execute(void **state)
{
    (void)state;
    for (int which = 0; which < N_CASES; which++)
        for (int kind = 0; kind < N_FAULTS; kind++) {
            if (kind == FAULT_BLAS_CREATE) continue; /* made at create only */
            const long sites = sweep(stage_execute, which, kind);
            report("execute", which, kind, sites);
            if (kind == FAULT_KERNEL_LOST || kind == FAULT_GRAPH_INSTANTIATE)
                assert_true(sites >= 1);
        }
}

static void test_faults_at_stream_create(void **state)
{
    (void)state;
    for (int kind = 0; kind < N_FAULTS; kind++) {
        if (kind == FAULT_BLAS_CREATE) continue;
        const long sites = sweep(stage_stream_create, CASE_MEL, kind);
        report("stream", CASE_MEL, kind, sites);
        if (kind == FAULT_MALLOC) assert_true(sites >= 1); /* the ring */
    }
}

static void test_faults_at_push(void **state)
{
    (void)state;
    const int cases[] = {CASE_MEL, CASE_LINEAR_DB};
    for (int c = 0; c < 2; c++)
        for (int kind = 0; kind < N_FAULTS; kind++) {
            if (kind == FAULT_BLAS_CREATE) continue;
            const long sites = sweep(stage_push, cases[c], kind);
            report("push", cases[c], kind, sites);
            if (kind == FAULT_KERNEL_LOST) assert_true(sites >= 1);
        }
}

/* While the device is lost every call fails (a create too); a plan that saw the error stays dead
 * until destroyed, even once the emulated device works again (on a GPU only a new process
 * would), while a plan that made no call meanwhile, and a new plan, work. */
static void test_sticky_error_contract(void **state)
{
    (void)state;
    const live_counts before = live_now();
    melspec_plan *bystander = NULL, *victim = NULL;
    char message[512];
    assert_int_equal(make_plan(CASE_MEL, MELSPEC_BACKEND_CUDA, &bystander, message,
                               sizeof message),
                     MELSPEC_OK);
    assert_int_equal(make_plan(CASE_MEL, MELSPEC_BACKEND_CUDA, &victim, message, sizeof message),
                     MELSPEC_OK);
    const size_t n_bytes = reference_bytes[CASE_MEL];
    melspec_status status;
    emu_fault_arm(FAULT_KERNEL_LOST, 1);
    free(run_execute(victim, n_bytes, &status));
    assert_int_equal(status, MELSPEC_ERROR_DEVICE);
    /* the context is lost for every plan: a new one cannot even be made */
    melspec_plan *during = (melspec_plan *)&hook_counts;
    assert_int_equal(make_plan(CASE_MEL, MELSPEC_BACKEND_CUDA, &during, message, sizeof message),
                     MELSPEC_ERROR_DEVICE);
    assert_null(during);
    emu_fault_clear();

    assert_dead(victim, "the plan that saw the error");
    void *out = run_execute(bystander, n_bytes, &status);
    if (status != MELSPEC_OK || memcmp(out, reference[CASE_MEL], n_bytes) != 0)
        fail_msg("a plan that never saw the sticky error, after it cleared: %s (%s)",
                 melspec_status_name(status), melspec_plan_last_error(bystander));
    free(out);
    melspec_plan *fresh = NULL;
    assert_int_equal(make_plan(CASE_MEL, MELSPEC_BACKEND_CUDA, &fresh, message, sizeof message),
                     MELSPEC_OK);
    out = run_execute(fresh, n_bytes, &status);
    assert_int_equal(status, MELSPEC_OK);
    assert_memory_equal(out, reference[CASE_MEL], n_bytes);
    free(out);
    melspec_plan_destroy(fresh);
    melspec_plan_destroy(victim);
    melspec_plan_destroy(bystander);
    assert_nothing_leaked(before, "sticky contract", FAULT_KERNEL_LOST, 1);
}

/* No device: CUDA plans are refused with BACKEND_UNAVAILABLE and a reason, AUTO ones run on the
 * CPU; nothing is left behind. */
static void test_no_device(void **state)
{
    (void)state;
    const live_counts before = live_now();
    setenv("EMU_NO_DEVICE", "1", 1);
    melspec_plan *plan = (melspec_plan *)&hook_counts;
    char message[512] = "";
    assert_int_equal(make_plan(CASE_MEL, MELSPEC_BACKEND_CUDA, &plan, message, sizeof message),
                     MELSPEC_ERROR_BACKEND_UNAVAILABLE);
    assert_null(plan);
    assert_true(message[0] != '\0');
    assert_int_equal(make_plan(CASE_MEL, MELSPEC_BACKEND_AUTO, &plan, message, sizeof message),
                     MELSPEC_OK);
    assert_int_equal(melspec_plan_backend(plan), MELSPEC_BACKEND_CPU);
    melspec_plan_destroy(plan);
    unsetenv("EMU_NO_DEVICE");
    cudaGetLastError();
    assert_nothing_leaked(before, "no device", FAULT_MALLOC, 0);
}

int main(void)
{
    if (emu_fault_arm == NULL || emu_fault_calls == NULL || emu_fault_clear == NULL ||
        emu_live_objects == NULL) {
        printf("test_cuda_faults: fault injection needs the CUDA emulator "
               "(-DMELSPEC_CUDA_EMULATOR=ON): skipped\n");
        return 77;
    }
    if (melspec_cuda_device_count() < 1) return gpu_test_without_device("test_cuda_faults");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults_at_create),
        cmocka_unit_test(test_faults_at_reserve),
        cmocka_unit_test(test_faults_at_execute),
        cmocka_unit_test(test_faults_at_stream_create),
        cmocka_unit_test(test_faults_at_push),
        cmocka_unit_test(test_sticky_error_contract),
        cmocka_unit_test(test_no_device),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
