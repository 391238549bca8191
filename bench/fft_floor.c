/* melspec-fft-floor: the FFTW build's time per case beside FFTW's own floor for that case, the
 * real FFTs of the case's frames and nothing else (issue 18: the FFTW build within 1.25x of it).
 *
 * The floor is n_frames calls of one FFTW_MEASURE plan of n_fft points on its own buffers: no
 * framing, window, power, filterbank, scaling or layout, data already in cache. A second floor
 * (issue 18) transforms the case's n_frames distinct frames instead, each read in place from the
 * zero-padded signal (FFTW's new-array execute, the frames having the plan's alignment) into one
 * output: what any STFT on FFTW reads, still with no window, power, filterbank, scaling or
 * layout. The first floor is the goal's; the second says how much of the gap is reading the
 * frames at all. All three are timed in alternation in the same run (one thread), medians over
 * many rounds. Built only with MELSPEC_FFTW=ON, so the melspec it times is the FFTW build.
 *
 *     build-fftw/bench/melspec-fft-floor [--min-time S] [--case realtime,music,whisper]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fftw3.h>
#include <melspec.h>

#include "presets.h"

typedef struct floor_case {
    const char *name;
    double sample_rate, seconds;
    void (*preset)(melspec_config *config);
} floor_case;

/* bench/bench.c's cases of the STFT family (DESIGN.md "Benchmark cases") */
static const floor_case cases[] = {
    {"realtime", 16000.0, 1.0, cli_preset_realtime},
    {"music", 22050.0, 60.0, cli_preset_librosa},
    {"whisper", 16000.0, 30.0, cli_preset_whisper},
};

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, size_t n)
{
    qsort(values, n, sizeof *values, compare_doubles);
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

static void format_time(double seconds, char *out, size_t size)
{
    if (seconds < 1e-3) snprintf(out, size, "%.1f us", seconds * 1e6);
    else snprintf(out, size, "%.3f ms", seconds * 1e3);
}

static int run_case(const floor_case *c, double min_seconds)
{
    melspec_config config;
    melspec_config_init(&config);
    c->preset(&config);
    config.backend = MELSPEC_BACKEND_CPU;
    const int64_t n_samples = (int64_t)(c->sample_rate * c->seconds);
    melspec_plan *plan = NULL;
    if (melspec_plan_create(&plan, &config, NULL, 0) != MELSPEC_OK) {
        fprintf(stderr, "melspec-fft-floor: %s: plan creation failed\n", c->name);
        return 1;
    }
    int64_t n_bins = 0, n_frames = 0;
    size_t n_bytes = 0;
    melspec_plan_output_shape(plan, n_samples, &n_bins, &n_frames);
    melspec_plan_output_bytes(plan, 1, n_samples, &n_bytes);
    const int64_t n_fft = config.n_fft;

    float *signal = malloc((size_t)n_samples * sizeof *signal);
    void *output = malloc(n_bytes);
    float *in = fftwf_malloc((size_t)n_fft * sizeof *in);
    fftwf_complex *spectrum = fftwf_malloc((size_t)(n_fft / 2 + 1) * sizeof *spectrum);
    if (!signal || !output || !in || !spectrum) {
        fprintf(stderr, "melspec-fft-floor: out of memory\n");
        return 1;
    }
    uint64_t state = 12345;
    for (int64_t i = 0; i < n_samples; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const double noise = (double)(state >> 11) / 9007199254740992.0 - 0.5;
        signal[i] = (float)(0.5 * sin(0.01 * (double)i) + 0.1 * noise);
    }
    fftwf_plan fft = fftwf_plan_dft_r2c_1d((int)n_fft, in, spectrum, FFTW_MEASURE);
    for (int64_t i = 0; i < n_fft; i++) in[i] = signal[i];
    /* the distinct frames: frame t at padded + t hop, the signal with n_fft / 2 zeros each side
     * (as centred frames; filled after planning, which overwrites its arrays) */
    const int64_t win_length = config.win_length > 0 ? config.win_length : n_fft;
    const int64_t hop = config.hop_length > 0 ? config.hop_length : win_length / 4; /* 0: default */
    const int64_t pad = n_fft / 2;
    const int64_t padded_length = (n_frames - 1) * hop + n_fft;
    float *padded = fftwf_malloc((size_t)padded_length * sizeof *padded);
    if (!padded) {
        fprintf(stderr, "melspec-fft-floor: out of memory\n");
        return 1;
    }
    fftwf_plan frames_fft = fftwf_plan_dft_r2c_1d((int)n_fft, padded, spectrum, FFTW_MEASURE);
    for (int64_t i = 0; i < padded_length; i++) {
        const int64_t j = i - pad;
        padded[i] = j >= 0 && j < n_samples ? signal[j] : 0.0f;
    }
    int in_place = 1; /* new-array execute needs the plan's alignment */
    for (int64_t t = 0; t < n_frames; t++)
        in_place = in_place && fftwf_alignment_of(padded + t * hop) == fftwf_alignment_of(padded);

    enum { MAX_ROUNDS = 100000 };
    double *ours = malloc(MAX_ROUNDS * sizeof *ours), *floor = malloc(MAX_ROUNDS * sizeof *floor);
    double *frames_floor = malloc(MAX_ROUNDS * sizeof *frames_floor);
    size_t rounds = 0;
    const double warmup_end = now_seconds() + 0.2;
    while (now_seconds() < warmup_end) {
        melspec_execute(plan, signal, 1, n_samples, output, n_bytes);
        for (int64_t t = 0; t < n_frames; t++) fftwf_execute(fft);
    }
    const double end = now_seconds() + min_seconds;
    while ((now_seconds() < end || rounds < 20) && rounds < MAX_ROUNDS) {
        double t0 = now_seconds();
        melspec_execute(plan, signal, 1, n_samples, output, n_bytes);
        ours[rounds] = now_seconds() - t0;
        t0 = now_seconds();
        for (int64_t t = 0; t < n_frames; t++) fftwf_execute(fft);
        floor[rounds] = now_seconds() - t0;
        t0 = now_seconds();
        if (in_place)
            for (int64_t t = 0; t < n_frames; t++)
                fftwf_execute_dft_r2c(frames_fft, padded + t * hop, spectrum);
        frames_floor[rounds] = now_seconds() - t0;
        rounds++;
    }
    const double ours_median = median(ours, rounds), floor_median = median(floor, rounds);
    const double frames_median = median(frames_floor, rounds);
    char a[32], b[32], per_frame[32], d[48], ratio[32];
    format_time(ours_median, a, sizeof a);
    format_time(floor_median, b, sizeof b);
    format_time(floor_median / (double)n_frames, per_frame, sizeof per_frame);
    if (in_place) {
        format_time(frames_median, d, sizeof d);
        snprintf(ratio, sizeof ratio, "%.2fx", ours_median / frames_median);
    } else {
        snprintf(d, sizeof d, "n/a (frames not aligned as the plan)");
        snprintf(ratio, sizeof ratio, "-");
    }
    printf("| %s | %lld | %lld | %zu | %s | %s (%s per frame) | %.2fx | %s | %s |\n", c->name,
           (long long)n_fft, (long long)n_frames, rounds, a, b, per_frame,
           ours_median / floor_median, d, ratio);
    fftwf_destroy_plan(fft);
    fftwf_destroy_plan(frames_fft);
    fftwf_free(padded);
    free(frames_floor);
    fftwf_free(in);
    fftwf_free(spectrum);
    free(signal);
    free(output);
    free(ours);
    free(floor);
    melspec_plan_destroy(plan);
    return 0;
}

int main(int argc, char **argv)
{
    double min_seconds = 2.0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--min-time") == 0 && i + 1 < argc) {
            min_seconds = atof(argv[++i]);
        } else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            fprintf(stderr, "Usage: melspec-fft-floor [--min-time S] [--case LIST]\n"
                            "The FFTW build's time per case beside FFTW's floor for its frames.\n");
            return strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    printf("| case | n_fft | frames | rounds | melspec (FFTW build) | FFTW floor: the frames' "
           "real FFTs | melspec / floor | floor 2: the distinct frames in place | melspec / floor 2 "
           "|\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    int failures = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        if (only == NULL || strstr(only, cases[c].name) != NULL)
            failures += run_case(&cases[c], min_seconds);
    return failures ? 1 : 0;
}
