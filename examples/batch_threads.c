/* batch_threads.c — a batch of clips on every core: one plan per thread.
 *
 * melspec_execute never starts threads (as cuFFT and KissFFT; unlike FFTW's threaded plans):
 * parallelism is the caller's, and the rule is one plan per thread. A batch splits along its
 * signals: each worker owns a plan made before the threads start, claims a few clips at a time
 * from a shared counter (an atomic, no lock) and executes them into its part of one output
 * array. The result is the array one call over the whole batch gives, bit for bit (scaling
 * against each clip's own maximum, ref=max and top_db, makes a batch equal its clips one by one).
 *
 *     batch_threads [--threads N] [--clips N] [--seconds S] [--repeats R] [--chunk N]
 *
 * The real-time config (16 kHz, n_fft 800, hop 200, 80 mels 55-7600 Hz, magnitude) on N clips
 * of S seconds; prints the median audio-seconds per second of one thread and of N threads, runs
 * interleaved, and exits 1 when the N-thread output differs from the one-thread output.
 * Defaults: the cores this process may use, 16 clips of 10 s, 3 repeats, 2 clips per claim;
 * bench/batch_threads.py runs it on the benchmark's batch case (64 clips of 10 s). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "melspec.h"

#define MAX_THREADS 256

/* What the workers share: the batch, the output, and the next clip nobody has claimed. */
typedef struct batch {
    const float *samples; /* n_clips signals of n_samples, one after another */
    float *out;           /* n_clips outputs of clip_floats, one after another */
    int64_t n_clips, n_samples, chunk;
    size_t clip_floats;
    atomic_int_fast64_t next_clip;
} batch;

typedef struct worker {
    batch *batch;
    melspec_plan *plan; /* this worker's alone */
    pthread_t thread;
    melspec_status status;
} worker;

static void *work(void *argument)
{
    worker *w = argument;
    batch *b = w->batch;
    w->status = MELSPEC_OK;
    for (;;) {
        const int64_t first = atomic_fetch_add(&b->next_clip, b->chunk);
        if (first >= b->n_clips) break;
        const int64_t n = first + b->chunk <= b->n_clips ? b->chunk : b->n_clips - first;
        w->status = melspec_execute(w->plan, b->samples + first * b->n_samples, n, b->n_samples,
                                    b->out + (size_t)first * b->clip_floats,
                                    (size_t)n * b->clip_floats * sizeof(float));
        if (w->status != MELSPEC_OK) break;
    }
    return NULL;
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU seconds of every thread of the process so far. */
static double cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + 1e-6 * (double)usage.ru_utime.tv_usec +
           (double)usage.ru_stime.tv_sec + 1e-6 * (double)usage.ru_stime.tv_usec;
}

/* One pass over the batch with workers[0..n_threads): the calling thread is worker 0.
 * Returns the seconds it took (and the CPU seconds of all threads in *cpu), or -1 when a call
 * failed (its message printed). */
static double run(batch *b, worker *workers, int n_threads, double *cpu)
{
    atomic_store(&b->next_clip, 0);
    const double cpu_start = cpu_seconds();
    const double start = now_seconds();
    int started = 1;
    for (int i = 1; i < n_threads; i++, started++)
        if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0) break;
    work(&workers[0]);
    for (int i = 1; i < started; i++) pthread_join(workers[i].thread, NULL);
    const double seconds = now_seconds() - start;
    *cpu = cpu_seconds() - cpu_start;
    for (int i = 0; i < started; i++) {
        if (workers[i].status != MELSPEC_OK) {
            fprintf(stderr, "melspec_execute: %s\n", melspec_plan_last_error(workers[i].plan));
            return -1.0;
        }
    }
    return seconds;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof *values, compare_doubles);
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

static int available_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    return 1;
}

int main(int argc, char **argv)
{
    int n_threads = available_cores(), repeats = 3;
    int64_t n_clips = 16, chunk = 2;
    double seconds_per_clip = 10.0;
    int bad_usage = argc % 2 == 0; /* options come in pairs */
    for (int i = 1; i + 1 < argc && !bad_usage; i += 2) {
        if (strcmp(argv[i], "--threads") == 0) n_threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--clips") == 0) n_clips = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0) seconds_per_clip = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--repeats") == 0) repeats = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--chunk") == 0) chunk = atoll(argv[i + 1]);
        else bad_usage = 1;
    }
    if (bad_usage || n_threads < 1 || n_threads > MAX_THREADS || n_clips < 1 || chunk < 1 || repeats < 1 ||
        repeats > 1000 || !(seconds_per_clip > 0.0)) {
        fprintf(stderr, "usage: %s [--threads 1..%d] [--clips N] [--seconds S] [--repeats R] "
                        "[--chunk N]\n", argv[0], MAX_THREADS);
        return 2;
    }

    /* The real-time config, with room for one claim: execute then never allocates. */
    melspec_config config;
    melspec_config_init(&config);
    config.sample_rate = 16000.0;
    config.n_fft = 800;
    config.hop_length = 200;
    config.n_mels = 80;
    config.fmin = 55.0;
    config.fmax = 7600.0;
    config.power = 1.0;
    const int64_t n_samples = (int64_t)(seconds_per_clip * config.sample_rate);
    config.max_batch = chunk;
    config.max_samples = n_samples;

    int exit_code = 1;
    worker workers[MAX_THREADS];
    memset(workers, 0, sizeof workers);
    batch b = {.n_clips = n_clips, .n_samples = n_samples, .chunk = chunk};
    float *samples = malloc((size_t)(n_clips * n_samples) * sizeof *samples);
    float *out = NULL, *reference = NULL;
    double *times_one = calloc((size_t)repeats, sizeof *times_one);
    double *times_many = calloc((size_t)repeats, sizeof *times_many);
    double *cpu_one = calloc((size_t)repeats, sizeof *cpu_one);
    double *cpu_many = calloc((size_t)repeats, sizeof *cpu_many);
    if (samples == NULL || times_one == NULL || times_many == NULL || cpu_one == NULL ||
        cpu_many == NULL)
        goto done;
    /* Every clip different: a tone, a sweep and a little noise. */
    uint32_t state = 12345u;
    for (int64_t c = 0; c < n_clips; c++) {
        const double f0 = 110.0 + 37.0 * (double)c;
        for (int64_t t = 0; t < n_samples; t++) {
            const double s = (double)t / config.sample_rate;
            state = state * 1664525u + 1013904223u;
            samples[c * n_samples + t] =
                (float)(0.4 * sin(2.0 * M_PI * f0 * s) + 0.2 * sin(2.0 * M_PI * (50.0 + 400.0 * s) * s) +
                        0.02 * ((double)state / 4294967296.0 - 0.5));
        }
    }

    /* One plan per worker, all made before any thread starts. */
    char why[256];
    for (int i = 0; i < n_threads; i++) {
        workers[i].batch = &b;
        if (melspec_plan_create(&workers[i].plan, &config, why, sizeof why) != MELSPEC_OK) {
            fprintf(stderr, "melspec_plan_create: %s\n", why);
            goto done;
        }
    }
    int64_t n_bins, n_frames;
    size_t bytes;
    if (melspec_plan_output_shape(workers[0].plan, n_samples, &n_bins, &n_frames) != MELSPEC_OK ||
        melspec_plan_output_bytes(workers[0].plan, n_clips, n_samples, &bytes) != MELSPEC_OK) {
        fprintf(stderr, "melspec: %s\n", melspec_plan_last_error(workers[0].plan));
        goto done;
    }
    b.samples = samples;
    b.clip_floats = (size_t)(n_bins * n_frames);
    out = malloc(bytes);
    reference = malloc(bytes);
    if (out == NULL || reference == NULL) goto done;

    /* Interleaved: one thread, then n_threads, repeats times (medians resist a busy machine). */
    for (int r = 0; r < repeats; r++) {
        b.out = reference;
        times_one[r] = run(&b, workers, 1, &cpu_one[r]);
        b.out = out;
        times_many[r] = run(&b, workers, n_threads, &cpu_many[r]);
        if (times_one[r] < 0.0 || times_many[r] < 0.0) goto done;
        if (memcmp(out, reference, bytes) != 0) {
            fprintf(stderr, "batch_threads: %d threads gave another output than one thread\n",
                    n_threads);
            goto done;
        }
    }
    const double audio_seconds = (double)(n_clips * n_samples) / config.sample_rate;
    const double one = median(times_one, repeats), many = median(times_many, repeats);
    printf("%lld clips x %g s, real-time config, %d repeats (medians)\n", (long long)n_clips,
           seconds_per_clip, repeats);
    printf("1 thread: %.1f ms, %.0f audio-seconds per second\n", 1e3 * one, audio_seconds / one);
    printf("%d threads: %.1f ms, %.0f audio-seconds per second\n", n_threads, 1e3 * many,
           audio_seconds / many);
    printf("speed-up: %.2fx; output equal to one thread's: yes\n", one / many);
    /* What a busy machine distorts least: the CPU time all threads spent, against one thread's
     * (1.00: splitting the batch cost nothing; the wall clock then depends on free cores). */
    const double cpu_1 = median(cpu_one, repeats), cpu_n = median(cpu_many, repeats);
    printf("CPU time: 1 thread %.1f ms, %d threads %.1f ms in all (%.2fx)\n", 1e3 * cpu_1,
           n_threads, 1e3 * cpu_n, cpu_n / cpu_1);
    exit_code = 0;

done:
    for (int i = 0; i < n_threads; i++) melspec_plan_destroy(workers[i].plan);
    free(samples);
    free(out);
    free(reference);
    free(times_one);
    free(times_many);
    free(cpu_one);
    free(cpu_many);
    return exit_code;
}
