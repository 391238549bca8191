#include "test_support.h"

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#ifndef MELSPEC_FIXTURE_DIR
#error "MELSPEC_FIXTURE_DIR must point at tests/fixtures"
#endif

static int read_values(FILE *file, double *values, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (fscanf(file, "%lf", &values[i]) != 1) return -1;
    return 0;
}

fixture *fixture_load(const char *name)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->path, sizeof f->path, "%s/%s", MELSPEC_FIXTURE_DIR, name);
    FILE *file = fopen(f->path, "r");
    if (file == NULL) fail_msg("cannot open fixture %s", f->path);
    char word[64];
    while (fscanf(file, "%63s", word) == 1) {
        if (word[0] == '#') {
            int c;
            while ((c = fgetc(file)) != EOF && c != '\n') {
            }
        } else if (strcmp(word, "param") == 0) {
            assert_true(f->n_params < MAX_FIXTURE_PARAMS);
            if (fscanf(file, "%63s %63s", f->param_keys[f->n_params],
                       f->param_values[f->n_params]) != 2)
                fail_msg("bad param line in %s", f->path);
            f->n_params++;
        } else if (strcmp(word, "array") == 0) {
            assert_true(f->n_arrays < MAX_FIXTURE_ARRAYS);
            fixture_array *a = &f->arrays[f->n_arrays++];
            if (fscanf(file, "%63s", a->name) != 1) fail_msg("bad array line in %s", f->path);
            /* the dims run to the end of the line */
            a->n_values = 1;
            int c;
            while ((c = fgetc(file)) != EOF && c != '\n') {
                if (c == ' ') continue;
                ungetc(c, file);
                long long d;
                if (fscanf(file, "%lld", &d) != 1 || a->n_dims >= 4)
                    fail_msg("bad dims for %s in %s", a->name, f->path);
                a->dims[a->n_dims++] = d;
                a->n_values *= d;
            }
            a->values = malloc((size_t)(a->n_values > 0 ? a->n_values : 1) * sizeof(double));
            assert_non_null(a->values);
            if (read_values(file, a->values, a->n_values) != 0)
                fail_msg("truncated array %s in %s", a->name, f->path);
        } else {
            fail_msg("unexpected '%s' in %s", word, f->path);
        }
    }
    fclose(file);
    return f;
}

void fixture_free(fixture *f)
{
    if (f == NULL) return;
    for (int i = 0; i < f->n_arrays; i++) free(f->arrays[i].values);
    free(f);
}

int fixture_has_param(const fixture *f, const char *key)
{
    for (int i = 0; i < f->n_params; i++)
        if (strcmp(f->param_keys[i], key) == 0) return 1;
    return 0;
}

const char *fixture_param_string(const fixture *f, const char *key)
{
    for (int i = 0; i < f->n_params; i++)
        if (strcmp(f->param_keys[i], key) == 0) return f->param_values[i];
    fail_msg("fixture %s has no param %s", f->path, key);
    return NULL;
}

double fixture_param(const fixture *f, const char *key)
{
    return strtod(fixture_param_string(f, key), NULL);
}

const fixture_array *fixture_get(const fixture *f, const char *name)
{
    for (int i = 0; i < f->n_arrays; i++)
        if (strcmp(f->arrays[i].name, name) == 0) return &f->arrays[i];
    fail_msg("fixture %s has no array %s", f->path, name);
    return NULL;
}

static int compare_names(const void *a, const void *b) { return strcmp(a, b); }

int fixture_list(const char *prefix, char names[][128], int max)
{
    DIR *dir = opendir(MELSPEC_FIXTURE_DIR);
    assert_non_null(dir);
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && n < max) {
        const size_t length = strlen(entry->d_name);
        if (strncmp(entry->d_name, prefix, strlen(prefix)) == 0 && length > 4 &&
            strcmp(entry->d_name + length - 4, ".txt") == 0 && length < 128)
            strcpy(names[n++], entry->d_name);
    }
    closedir(dir);
    qsort(names, (size_t)n, sizeof names[0], compare_names);
    return n;
}

void config_from_fixture(const fixture *f, melspec_config *c)
{
    melspec_config_init(c);
    c->backend = MELSPEC_BACKEND_CPU;
    c->sample_rate = fixture_param(f, "sample_rate");
    c->n_fft = (int64_t)fixture_param(f, "n_fft");
    c->hop_length = (int64_t)fixture_param(f, "hop_length");
    c->win_length = (int64_t)fixture_param(f, "win_length");
    c->window = (int32_t)fixture_param(f, "window");
    c->center = (int32_t)fixture_param(f, "center");
    c->pad_mode = (int32_t)fixture_param(f, "pad_mode");
    c->power = fixture_param(f, "power");
    c->n_mels = (int64_t)fixture_param(f, "n_mels");
    c->fmin = fixture_param(f, "fmin");
    c->fmax = fixture_param(f, "fmax");
    c->mel_scale = (int32_t)fixture_param(f, "mel_scale");
    c->mel_norm = (int32_t)fixture_param(f, "mel_norm");
}

uint64_t test_rand_next(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

double test_rand_uniform(uint64_t *state)
{
    return (double)(test_rand_next(state) >> 11) / 4503599627370496.0 - 1.0;
}

void make_test_signal(float *out, int64_t n, double sample_rate, uint64_t seed)
{
    const double two_pi = 6.283185307179586;
    uint64_t state = seed * 2654435761u + 1;
    const double f0 = 110.0 + 300.0 * (0.5 + 0.5 * test_rand_uniform(&state));
    for (int64_t i = 0; i < n; i++) {
        const double t = (double)i / sample_rate;
        const double chirp = sin(two_pi * (50.0 * t + 0.2 * sample_rate * t * t));
        out[i] = (float)(0.4 * sin(two_pi * f0 * t) + 0.2 * chirp +
                         0.05 * test_rand_uniform(&state));
    }
}

void assert_close_at(double a, double b, double tolerance, const char *file, int line)
{
    if (!(fabs(a - b) <= tolerance))
        fail_msg("%s:%d: %.17g and %.17g differ by more than %g", file, line, a, b, tolerance);
}

size_t stream_frames_bytes(const melspec_stream *stream, int64_t n_frames)
{
    size_t frame_bytes = 0;
    if (melspec_stream_frame_bytes(stream, &frame_bytes) != MELSPEC_OK || n_frames < 0) return 0;
    return frame_bytes * (size_t)n_frames;
}

melspec_plan *test_plan_create(const melspec_config *config)
{
    melspec_plan *plan = NULL;
    char why[256];
    if (melspec_plan_create(&plan, config, why, sizeof why) != MELSPEC_OK)
        fail_msg("plan: %s", why);
    return plan;
}

void *test_output_for(const melspec_plan *plan, int64_t n_signals, int64_t n_samples,
                      size_t *n_bytes)
{
    assert_int_equal(melspec_plan_output_bytes(plan, n_signals, n_samples, n_bytes), MELSPEC_OK);
    void *out = malloc(*n_bytes);
    assert_non_null(out);
    return out;
}

melspec_config small_mel_config(melspec_backend backend)
{
    melspec_config c;
    melspec_config_init(&c);
    c.sample_rate = 16000.0;
    c.n_fft = 400;
    c.hop_length = 160;
    c.n_mels = 40;
    c.max_samples = 16000;
    c.backend = backend;
    return c;
}

int gpu_test_without_device(const char *test_name)
{
    const char *why = melspec_cuda_compiled() ? "no CUDA device or driver"
                                              : "the CUDA backend is not available";
    const char *required = getenv("MELSPEC_GPU_REQUIRED");
    if (required != NULL && required[0] == '1') {
        printf("%s: %s, but MELSPEC_GPU_REQUIRED=1: FAILED\n", test_name, why);
        return 1;
    }
    printf("%s: %s: skipped\n", test_name, why);
    return 77;
}
