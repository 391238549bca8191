/* The FFTW build's library FFT (fft_library.h; GPL: a binary built with this file falls under
 * the GPL): the sizes the lane FFT does not take or is slower at (fft.c chooses).
 *
 * Blocks of frames: each frame windowed into the plan's input and transformed by the one 1-D plan
 * (its own arrays, so they stay in L1). For the spectrum (STFT) each frame's interleaved output is
 * kept and the 8 spectra turned into lane layout by the lane kernels' 8 x 8 transpose; for the
 * power the frame's |X|^p is taken from the interleaved output at once and only those real values
 * are transposed, half the floats (issue 18: the passes around FFTW cost more than FFTW did).
 * (One guru plan of 8 strided transforms writing lane layout directly measured 3x slower per
 * frame than the 1-D plan, at 400, 800 and 2048.) */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "fft.h"
#include "fft_library.h"
#include "../widest_vectors.h"

#include "../alloc.h"

struct melspec_library_fft {
    int64_t n;
    fftwf_plan plan;                             /* one frame: input -> output */
    float *input;                                /* n */
    fftwf_complex *output;                       /* 1 + n/2 */
    fftwf_complex *spectra[MELSPEC_RFFT_BATCH];  /* 1 + n/2 each: a block's spectra */
    float *power_rows;                           /* MELSPEC_RFFT_BATCH x (1 + n/2): a block's powers */
    float *lane_output;                          /* (1 + n/2) x 2 x MELSPEC_RFFT_BATCH */
    float *ones;                                 /* 2 (1 + n/2): the transpose's "window" */
    melspec_lanes_gather_fn transpose;
    int transpose_avx512;                        /* transpose_16 first (the CPU has AVX-512F) */
    melspec_allocator allocator;                 /* lane_output and ones */
};

/* ---- the block's rows into lane layout ------------------------------------------------------
 * 8 rows of values (frame f's spectrum or powers) become lane layout, value j of row f at
 * [j * 8 + f]: an 8 x 8 transpose per 8 values in the lane kernels (AVX2: 24 shuffles per 64
 * values, the shuffle port's limit). With AVX-512 three stages of two-source permutes turn 16
 * values of the 8 rows into 16 lane vectors with 24 shuffles per 128 values, half as many; the
 * lane kernels' transpose takes the rest. Data movement only: the same bits either way. */
#if defined(__x86_64__) && defined(__has_attribute) && !defined(MELSPEC_NO_CLONES)
#if __has_attribute(target)
#define TRANSPOSE_AVX512 1
#endif
#endif

#ifdef TRANSPOSE_AVX512
typedef float rows_v16 __attribute__((vector_size(64)));
typedef int32_t rows_v16i __attribute__((vector_size(64)));
#if defined(__clang__)
#define ROWS_SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define ROWS_SHUFFLE(a, b, ...) __builtin_shuffle(a, b, (rows_v16i){__VA_ARGS__})
#endif
/* stage 1, frames f, f + 1: values 0-7 (LO) or 8-15 (HI), each as the pair (f, f + 1) */
#define PAIRS_LO 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define PAIRS_HI 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
/* stage 2, two pairs: 4 values, each as frames f .. f + 3 */
#define QUADS_LO 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23
#define QUADS_HI 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31
/* stage 3, two quads: 2 values, each as the 8 frames */
#define EIGHTS_LO 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23
#define EIGHTS_HI 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31

/* Values 0 .. 16k - 1 of the 8 rows (16k the largest multiple of 16 <= n); returns 16k. */
__attribute__((target("avx512f"))) static int64_t transpose_16(int64_t n,
                                                               const float *const *rows,
                                                               float *out)
{
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
        rows_v16 r[8], pair[4][2], quad[2][2][2];
        for (int f = 0; f < 8; f++) memcpy(&r[f], rows[f] + j, sizeof r[f]);
        for (int p = 0; p < 4; p++) {
            pair[p][0] = ROWS_SHUFFLE(r[2 * p], r[2 * p + 1], PAIRS_LO);
            pair[p][1] = ROWS_SHUFFLE(r[2 * p], r[2 * p + 1], PAIRS_HI);
        }
        for (int q = 0; q < 2; q++)
            for (int h = 0; h < 2; h++) { /* values 8h .. 8h + 7 */
                quad[q][h][0] = ROWS_SHUFFLE(pair[2 * q][h], pair[2 * q + 1][h], QUADS_LO);
                quad[q][h][1] = ROWS_SHUFFLE(pair[2 * q][h], pair[2 * q + 1][h], QUADS_HI);
            }
        for (int g = 0; g < 4; g++) { /* values 4g .. 4g + 3 */
            const rows_v16 low = quad[0][g / 2][g % 2], high = quad[1][g / 2][g % 2];
            const rows_v16 first = ROWS_SHUFFLE(low, high, EIGHTS_LO);
            const rows_v16 second = ROWS_SHUFFLE(low, high, EIGHTS_HI);
            memcpy(out + (j + 4 * g) * 8, &first, sizeof first);
            memcpy(out + (j + 4 * g + 2) * 8, &second, sizeof second);
        }
    }
    return j;
}

static int cpu_has_avx512f(void) { return melspec_cpu_vectors() == MELSPEC_VECTORS_AVX512; }
#else
static int64_t transpose_16(int64_t n, const float *const *rows, float *out)
{
    (void)n, (void)rows, (void)out;
    return 0;
}

static int cpu_has_avx512f(void) { return 0; }
#endif

/* n values of the 8 rows into lane layout at out */
static void transpose_rows(const melspec_library_fft *fft, int64_t n, const float *const *rows,
                           float *out)
{
    const int64_t done = fft->transpose_avx512 ? transpose_16(n, rows, out) : 0;
    if (done == n) return;
    const float *rest[MELSPEC_RFFT_BATCH];
    for (int f = 0; f < MELSPEC_RFFT_BATCH; f++) rest[f] = rows[f] + done;
    fft->transpose(n - done, rest, fft->ones, out + done * MELSPEC_RFFT_BATCH);
}

/* FFTW's planner is not thread-safe; plans of different threads are made one at a time. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

/* The lane FFT's AVX2 kernels measured faster than FFTW_MEASURE's plans at every size up to 12000
 * (fft.c), FFTW faster from 16384 on; without AVX2 FFTW keeps every size. */
#define LANES_FASTER_UP_TO 12288

int melspec_library_fft_preferred(int64_t n, int lanes_avx2)
{
    return !lanes_avx2 || n > LANES_FASTER_UP_TO;
}

melspec_library_fft *melspec_library_fft_create(int64_t n, melspec_lanes_kernel kernel,
                                                const melspec_allocator *allocator)
{
    /* FFTW takes no allocator: its plan and the arrays it transforms come from fftwf_malloc
     * (include/melspec.h says so); the lane-layout arrays from the caller's */
    if (n < 1 || n > INT32_MAX / (2 * MELSPEC_RFFT_BATCH)) return NULL;
    melspec_library_fft *fft = fftwf_malloc(sizeof *fft);
    if (fft == NULL) return NULL;
    const int64_t n_bins = n / 2 + 1;
    fft->n = n;
    fft->plan = NULL;
    fft->allocator = allocator != NULL ? *allocator : (melspec_allocator){0};
    fft->input = fftwf_malloc((size_t)n * sizeof *fft->input);
    fft->output = fftwf_malloc((size_t)n_bins * sizeof *fft->output);
    int ready = fft->input != NULL && fft->output != NULL;
    for (int f = 0; f < MELSPEC_RFFT_BATCH; f++) {
        fft->spectra[f] = fftwf_malloc((size_t)n_bins * sizeof *fft->spectra[f]);
        if (fft->spectra[f] != NULL)
            memset(fft->spectra[f], 0, (size_t)n_bins * sizeof *fft->spectra[f]);
        ready = ready && fft->spectra[f] != NULL;
    }
    fft->lane_output = melspec_alloc(&fft->allocator, (size_t)(2 * n_bins * MELSPEC_RFFT_BATCH) *
                                                          sizeof *fft->lane_output);
    fft->ones = melspec_alloc(&fft->allocator, (size_t)(2 * n_bins) * sizeof *fft->ones);
    /* zeroed: the lanes a short block leaves unused are transposed too */
    fft->power_rows = melspec_alloc_zeroed(&fft->allocator, (size_t)(MELSPEC_RFFT_BATCH * n_bins),
                                           sizeof *fft->power_rows);
    ready = ready && fft->lane_output != NULL && fft->ones != NULL && fft->power_rows != NULL;
    for (int64_t i = 0; ready && i < 2 * n_bins; i++) fft->ones[i] = 1.0f;
    fft->transpose = melspec_lanes_gather_for(kernel);
    fft->transpose_avx512 = kernel == MELSPEC_LANES_AUTO && cpu_has_avx512f();
    if (ready) {
        pthread_mutex_lock(&planner_lock);
        fft->plan = fftwf_plan_dft_r2c_1d((int)n, fft->input, fft->output, FFTW_MEASURE);
        pthread_mutex_unlock(&planner_lock);
    }
    if (fft->plan == NULL) {
        melspec_library_fft_destroy(fft);
        return NULL;
    }
    return fft;
}

void melspec_library_fft_destroy(melspec_library_fft *fft)
{
    if (fft == NULL) return;
    if (fft->plan != NULL) {
        pthread_mutex_lock(&planner_lock);
        fftwf_destroy_plan(fft->plan);
        pthread_mutex_unlock(&planner_lock);
    }
    fftwf_free(fft->input);
    fftwf_free(fft->output);
    for (int f = 0; f < MELSPEC_RFFT_BATCH; f++) fftwf_free(fft->spectra[f]);
    melspec_free(&fft->allocator, fft->lane_output);
    melspec_free(&fft->allocator, fft->ones);
    melspec_free(&fft->allocator, fft->power_rows);
    fftwf_free(fft);
}

float *melspec_library_fft_input(melspec_library_fft *fft) { return fft->input; }

const float *melspec_library_fft_execute(melspec_library_fft *fft)
{
    fftwf_execute(fft->plan);
    return (const float *)fft->output;
}

/* frame x times the window into the plan's input */
WIDEST_VECTORS_LOOPS void window_frame_loops(int64_t n, const float *restrict x,
                                             const float *restrict window, float *restrict in)
{
    for (int64_t i = 0; i < n; i++) in[i] = x[i] * window[i];
}
WIDEST_VECTORS_VOID(window_frame,
                    (int64_t n, const float *restrict x, const float *restrict window,
                     float *restrict in),
                    (n, x, window, in))

/* Asks for the samples frame f + 1 adds to frame f, one prefetch per 64-byte line, while frame f
 * is transformed: a long signal's frames come from beyond L2, and the samples new to each frame
 * lie at its end, where the hardware prefetcher, restarting at every frame, comes too late
 * (music: window_frame was a third of the passes' time). After a block's last frame, the next
 * block's first frame is taken to follow at the same step. Addresses are compared as integers
 * (frames may lie in different arrays: padded ones), and a prefetch never faults. */
static void prefetch_next_frame(const float *const *frames, int64_t n_frames, int64_t f,
                                int64_t n)
{
    const uintptr_t bytes = (uintptr_t)n * sizeof **frames, line = 64;
    const uintptr_t current = (uintptr_t)frames[f];
    uintptr_t next;
    if (f + 1 < n_frames) {
        next = (uintptr_t)frames[f + 1];
    } else if (f >= 1 && current > (uintptr_t)frames[f - 1] &&
               current - (uintptr_t)frames[f - 1] < bytes) {
        next = current + (current - (uintptr_t)frames[f - 1]);
    } else {
        return;
    }
    /* the part of the next frame past this one's end, or all of it */
    uintptr_t from = next > current && next - current < bytes ? current + bytes : next;
    for (from &= ~(line - 1); from < next + bytes; from += line)
        __builtin_prefetch((const void *)from);
}

/* |X|^power of one interleaved spectrum */
WIDEST_VECTORS_LOOPS void power_row_loops(const float *restrict spectrum, int64_t n_bins,
                                          melspec_power_stage power, float *restrict row)
{
#define ROW_POWER_LOOP(stage)              \
    for (int64_t k = 0; k < n_bins; k++) \
        row[k] = melspec_power_value(spectrum[2 * k], spectrum[2 * k + 1], stage)
    MELSPEC_POWER_LOOP_BY_MODE(power, ROW_POWER_LOOP);
#undef ROW_POWER_LOOP
}
WIDEST_VECTORS_VOID(power_row,
                    (const float *restrict spectrum, int64_t n_bins, melspec_power_stage power,
                     float *restrict row),
                    (spectrum, n_bins, power, row))

const float *melspec_library_fft_execute_frames(melspec_library_fft *fft,
                                                const float *const *frames, int64_t n_frames,
                                                const float *window)
{
    const float *spectra[MELSPEC_RFFT_BATCH];
    for (int64_t f = 0; f < MELSPEC_RFFT_BATCH; f++) {
        spectra[f] = (const float *)fft->spectra[f];
        if (f >= n_frames) continue; /* unused lanes keep an earlier frame's spectrum */
        window_frame(fft->n, frames[f], window, fft->input);
        prefetch_next_frame(frames, n_frames, f, fft->n);
        fftwf_execute_dft_r2c(fft->plan, fft->input, fft->spectra[f]);
    }
    /* the interleaved spectra (value v of frame f at [v] of spectra[f]) into lane layout */
    transpose_rows(fft, 2 * (fft->n / 2 + 1), spectra, fft->lane_output);
    return fft->lane_output;
}

const float *melspec_library_fft_power_frames(melspec_library_fft *fft,
                                              const float *const *frames, int64_t n_frames,
                                              const float *window, melspec_power_stage power,
                                              float *out)
{
    const int64_t n_bins = fft->n / 2 + 1;
    const float *rows[MELSPEC_RFFT_BATCH];
    for (int64_t f = 0; f < MELSPEC_RFFT_BATCH; f++) {
        rows[f] = fft->power_rows + f * n_bins;
        if (f >= n_frames) continue; /* unused lanes keep an earlier frame's power */
        window_frame(fft->n, frames[f], window, fft->input);
        prefetch_next_frame(frames, n_frames, f, fft->n);
        fftwf_execute(fft->plan); /* the plan's own arrays: they stay in L1 */
        power_row((const float *)fft->output, n_bins, power, fft->power_rows + f * n_bins);
    }
    transpose_rows(fft, n_bins, rows, out);
    return out;
}

const char *melspec_library_fft_name(void) { return "fftw3f"; }

const char *melspec_library_fft_path(const melspec_library_fft *fft)
{
    (void)fft;
    return "fftw3f";
}
