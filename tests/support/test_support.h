/* Shared helpers of the C tests: fixtures written by fixtures/generate_fixtures.py, assertions,
 * and test signals. */
#ifndef MELSPEC_TEST_SUPPORT_H
#define MELSPEC_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "melspec.h"

#define MAX_FIXTURE_PARAMS 64
#define MAX_FIXTURE_ARRAYS 16

typedef struct fixture_array {
    char name[64];
    int n_dims;
    int64_t dims[4];
    int64_t n_values;
    double *values;
} fixture_array;

typedef struct fixture {
    char path[512];
    int n_params;
    char param_keys[MAX_FIXTURE_PARAMS][64];
    char param_values[MAX_FIXTURE_PARAMS][64];
    int n_arrays;
    fixture_array arrays[MAX_FIXTURE_ARRAYS];
} fixture;

/* Loads MELSPEC_FIXTURE_DIR/name (fails the test when unreadable). Free with fixture_free. */
fixture *fixture_load(const char *name);
void fixture_free(fixture *f);
/* A parameter as a number / string; fails the test when missing. */
double fixture_param(const fixture *f, const char *key);
const char *fixture_param_string(const fixture *f, const char *key);
int fixture_has_param(const fixture *f, const char *key);
/* An array by name; fails the test when missing. */
const fixture_array *fixture_get(const fixture *f, const char *name);
/* Names of the fixture files starting with prefix, sorted; returns the count (at most max). */
int fixture_list(const char *prefix, char names[][128], int max);

/* Fills a config from a fixture's parameters (every field the generator records). */
void config_from_fixture(const fixture *f, melspec_config *config);

/* Agreement of two arrays is compare.h's (the one definition, shared with melspec-bench). */
#include "compare.h"

/* |a - b| <= tolerance, with both values in the failure message (cmocka 1.1 has no double
 * comparison). */
#define assert_close(a, b, tolerance) assert_close_at((a), (b), (tolerance), __FILE__, __LINE__)
void assert_close_at(double a, double b, double tolerance, const char *file, int line);

/* Fails the test with the status name and the plan's detail message unless call succeeds. */
#define PLAN_OK(plan, call)                                                              \
    do {                                                                                 \
        const melspec_status plan_status_ = (call);                                      \
        if (plan_status_ != MELSPEC_OK)                                                  \
            fail_msg("%s:%d: %s: %s: %s", __FILE__, __LINE__, #call,                     \
                     melspec_status_name(plan_status_), melspec_plan_last_error(plan));  \
    } while (0)

/* Fails the test with CUDA's error string unless call succeeds (CUDA tests only). */
#define CUDA_CHECK(call)                                                                 \
    do {                                                                                 \
        const cudaError_t cuda_error_ = (call);                                          \
        if (cuda_error_ != cudaSuccess)                                                  \
            fail_msg("%s:%d: %s: %s", __FILE__, __LINE__, #call,                         \
                     cudaGetErrorString(cuda_error_));                                   \
    } while (0)

/* Bytes of n_frames frames of stream (stream buffers are sized in bytes). */
size_t stream_frames_bytes(const melspec_stream *stream, int64_t n_frames);

/* What a GPU test returns when no CUDA device is usable: 77 (skipped), or 1 (failed) when
 * MELSPEC_GPU_REQUIRED=1 says a device should be there (scripts/gpu-run.sh sets it where
 * nvidia-smi or the emulation shows one: a skip there would hide that the backend cannot see it).
 * Prints why, naming the test. */
int gpu_test_without_device(const char *test_name);

/* Deterministic pseudo-random numbers (xorshift), so failures reproduce. */
uint64_t test_rand_next(uint64_t *state);
double test_rand_uniform(uint64_t *state); /* in [-1, 1) */

/* Signals that look like audio: tones + noise + a chirp; never all zeros. */
void make_test_signal(float *out, int64_t n, double sample_rate, uint64_t seed);

/* A plan of config, or the test fails with create's message. */
melspec_plan *test_plan_create(const melspec_config *config);

/* A malloc'd output buffer for n_signals x n_samples of plan (the test fails if there is none);
 * its size in *n_bytes. */
void *test_output_for(const melspec_plan *plan, int64_t n_signals, int64_t n_samples,
                      size_t *n_bytes);

/* A small mel config on `backend` (16 kHz, n_fft 400, hop 160, 40 mels, up to 16000 samples),
 * for tests about backends rather than about the transform. */
melspec_config small_mel_config(melspec_backend backend);

#endif
