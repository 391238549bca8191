/*
 * CPU backend of the constant-Q transform: librosa.cqt's octave-by-octave algorithm.
 *
 * The signal is resampled with libsoxr at SOXR_HQ as librosa.resample(res_type="soxr_hq") calls
 * it through the soxr package (float32 in and out, the input in chunks, a flush, then librosa's
 * fix_length and its sqrt(ratio) gain), so the lower octaves see librosa's samples. libsoxr's
 * output does not depend on the chunk size; our chunks are smaller than soxr.resample's, which
 * keeps libsoxr's buffers small. Each octave's sparse FFT-domain basis is applied in the time
 * domain: the basis times rfft(frame) equals the frame times the basis's DFT (a dense complex
 * kernel of n_fft taps per filter, designed in double by src/dsp/cqt.c), which needs no FFT and
 * runs as a small matrix product over blocks of frames.
 *
 * Allocation: none by melspec in execute; libsoxr allocates there. soxr_clear, needed to reset a
 * resampler between signals, frees and re-creates libsoxr's internal state (libsoxr 0.1.3
 * implements it as delete + create), and soxr_process grows its FIFOs again afterwards: about 20
 * blocks per halving and signal (126 blocks, 1.6 MB for the default 84 bins on 30 s at 22.05
 * kHz, measured with valgrind). No threads: one channel and num_threads = 1 keep libsoxr off
 * OpenMP.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <soxr.h>

#include "../cqt_decimator.h"
#include "../dsp/cqt.h"
#include "../dsp/padding.h"
#include "../soxr_recipe.h"
#include "../alloc.h"
#include "../cpu_features.h"
#include "cpu_backend.h"

/* Frames and kernel rows per block of the kernel product (FRAMES x ROWS accumulators). */
#define BLOCK_FRAMES 8
#define BLOCK_ROWS 8
/* Taps summed in float before the partial sum is added to the total. */
#define TAP_CHUNK 256
/* Input samples per soxr_process call. */
#define CHUNK_SAMPLES 16384

typedef struct octave_kernel {
    float *taps;   /* n_fft x rows, tap-major: taps[n * rows + 2k] = Re K_k[n], + 1: Im */
    int64_t rows;  /* 2 n_filters rounded up to BLOCK_ROWS (extra rows are zero) */
} octave_kernel;

/* responses (+)= the kernel product of a block of frames over some taps (see below). */
typedef void (*tap_product)(const octave_kernel *k, int64_t begin, int64_t end, const float *x,
                            int64_t stride, int accumulate, float *responses);

/* One resampling step: libsoxr, or (for checking the GPU's approach) the measured FIR. */
typedef struct decimator {
    int64_t factor;
    soxr_t soxr;
    int used; /* soxr_clear before the next signal */
    melspec_decimator_fir fir;
} decimator;

typedef struct cqt_state {
    octave_kernel *kernels;  /* one per octave */
    decimator early;         /* factor 1: none */
    decimator halve;         /* factor 2; unused when no octave is halved */
    int64_t n_levels;        /* distinct signals: 1 + the last octave's halvings */
    float **levels;          /* the analysed signal after 0, 1, ... halvings (level 0 may be the
                                input itself when there is no early downsampling) */
    int64_t capacity;        /* input samples per signal the level buffers are sized for */
    float *frames;           /* BLOCK_FRAMES x largest n_fft, padded frames */
    float *responses;        /* BLOCK_FRAMES x largest rows */
    double *fir_scratch;     /* FIR mode: one level in double */
    int use_fir;
    tap_product product;     /* the kernel product this CPU runs best */
} cqt_state;

/* Floats after each level buffer that libsoxr may read (see allocate_levels). */
#define SOXR_READ_SLACK 4

static int64_t round_up(int64_t x, int64_t multiple)
{
    return (x + multiple - 1) / multiple * multiple;
}

/* Output room python-soxr gives soxr_process for n input samples: n / factor + 1, truncated. */
static int64_t soxr_output_room(int64_t n, int64_t factor)
{
    return (int64_t)((double)n * (1.0 / (double)factor) + 1.0);
}

/* Buffer size of the signal after each level for n input samples (soxr's room or ceil). */
static int64_t level_room(const melspec_cqt_design *d, int64_t n, int64_t level)
{
    int64_t length = n, room = n;
    if (d->early_factor > 1) {
        room = soxr_output_room(length, d->early_factor);
        length = (length + d->early_factor - 1) / d->early_factor;
    }
    for (int64_t h = 0; h < level; h++) {
        room = soxr_output_room(length, 2);
        length = (length + 1) / 2;
    }
    return room > length ? room : length;
}

static void free_levels(const melspec_plan *plan, cqt_state *s)
{
    for (int64_t l = 0; s->levels != NULL && l < s->n_levels; l++) {
        melspec_free(&plan->allocator, s->levels[l]);
        s->levels[l] = NULL;
    }
    melspec_free(&plan->allocator, s->fir_scratch);
    s->fir_scratch = NULL;
}

/* The new buffers are made first and the old ones freed only once all exist: a grow that runs
 * out of memory leaves the plan as it was, still good for the sizes it held (found by the
 * allocation-failure test, issue 17: it used to be left with no buffers at all). */
static melspec_status allocate_levels(melspec_plan *plan, int64_t n_samples)
{
    cqt_state *s = plan->backend_state;
    const melspec_cqt_design *d = plan->cqt;
    float **fresh = melspec_alloc_zeroed(&plan->allocator, (size_t)s->n_levels, sizeof *fresh);
    double *fresh_scratch = NULL;
    if (fresh == NULL) goto fail;
    for (int64_t l = 0; l < s->n_levels; l++) {
        if (l == 0 && d->early_factor == 1) continue; /* the input itself */
        /* zeroed slack past the end: libsoxr's resampler reads the last input float as part of
         * an 8-byte pair (valgrind), which must stay inside our block and read zeros */
        fresh[l] = melspec_alloc_zeroed(&plan->allocator,
                                        (size_t)(level_room(d, n_samples, l) + SOXR_READ_SLACK),
                                        sizeof **s->levels);
        if (fresh[l] == NULL) goto fail;
    }
    fresh_scratch =
        melspec_alloc(&plan->allocator, (size_t)(n_samples + 1) * sizeof *s->fir_scratch);
    if (fresh_scratch == NULL) goto fail;
    free_levels(plan, s);
    for (int64_t l = 0; l < s->n_levels; l++) s->levels[l] = fresh[l];
    s->fir_scratch = fresh_scratch;
    s->capacity = n_samples;
    melspec_free(&plan->allocator, fresh);
    return MELSPEC_OK;
fail:
    for (int64_t l = 0; fresh != NULL && l < s->n_levels; l++)
        melspec_free(&plan->allocator, fresh[l]);
    melspec_free(&plan->allocator, fresh);
    melspec_free(&plan->allocator, fresh_scratch);
    return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY,
                        "CQT signal buffers for %lld samples", (long long)n_samples);
}

/* libsoxr at the config's quality, or, for res_type "polyphase", scipy's FIR (no libsoxr). */
static melspec_status decimator_create(melspec_plan *plan, decimator *dec, int64_t factor)
{
    dec->factor = factor;
    if (factor == 1) return MELSPEC_OK;
    const int32_t res_type = plan->cqt_config.res_type;
    const long recipe = melspec_soxr_recipe(res_type);
    if (recipe < 0) {
        if (melspec_decimator_fir_measure(factor, res_type, &plan->allocator, &dec->fir) != 0)
            return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY,
                                "the 1/%lld resampler of res_type %d", (long long)factor,
                                (int)res_type);
        return MELSPEC_OK;
    }
    soxr_error_t error = NULL;
    const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    const soxr_quality_spec_t quality = soxr_quality_spec((unsigned long)recipe, 0);
    const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
    dec->soxr = soxr_create((double)factor, 1.0, 1, &error, &io, &quality, &runtime);
    if (dec->soxr == NULL || error != NULL)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL, "libsoxr 1/%lld resampler: %s",
                            (long long)factor, error != NULL ? error : "soxr_create failed");
    return MELSPEC_OK;
}

static void decimator_destroy(decimator *dec)
{
    if (dec->soxr != NULL) soxr_delete(dec->soxr);
    dec->soxr = NULL;
    melspec_decimator_fir_free(&dec->fir);
}

/*
 * librosa.resample(x, orig_sr=factor, target_sr=1, res_type="soxr_hq", scale=True) of n samples
 * into out (ceil(n / factor) samples, soxr_output_room of space): chunked soxr_process calls with
 * soxr.resample's output room, the flush, fix_length's zeros, then the gain sqrt(factor) in
 * double.
 */
static melspec_status decimate(melspec_plan *plan, decimator *dec, const float *in, int64_t n,
                               float *out, double *scratch, int use_fir)
{
    const int64_t factor = dec->factor;
    const int64_t length = (n + factor - 1) / factor;
    /* librosa divides by sqrt(1/factor) in double; multiplying by sqrt(factor) rounds the same
     * but for a last-place difference now and then, and is several times faster */
    const double gain = sqrt((double)factor);
    if (use_fir || dec->soxr == NULL) {
        melspec_decimator_fir_apply(&dec->fir, in, n, scratch);
        for (int64_t m = 0; m < length; m++) out[m] = (float)(scratch[m] * gain);
        return MELSPEC_OK;
    }
    soxr_error_t error = NULL;
    if (dec->used && (error = soxr_clear(dec->soxr)) != NULL)
        return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "libsoxr soxr_clear: %s", error);
    dec->used = 1;
    const size_t room = (size_t)soxr_output_room(n, factor);
    const size_t chunk = (size_t)CHUNK_SAMPLES;
    size_t produced = 0, done = 0;
    for (size_t at = 0; at < (size_t)n && error == NULL; at += chunk) {
        const size_t take = (size_t)n - at < chunk ? (size_t)n - at : chunk;
        error = soxr_process(dec->soxr, in + at, take, NULL, out + produced, room - produced,
                             &done);
        produced += done;
    }
    if (error == NULL) {
        error = soxr_process(dec->soxr, NULL, 0, NULL, out + produced, room - produced, &done);
        produced += done;
    }
    if (error != NULL)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL, "libsoxr soxr_process: %s", error);
    for (int64_t m = (int64_t)produced; m < length; m++) out[m] = 0.0f;
    for (int64_t m = 0; m < length; m++) out[m] = (float)((double)out[m] * gain);
    return MELSPEC_OK;
}

/*
 * The kernel product: responses[f * rows + r] (+)= sum_n x[f * stride + n] taps[n * rows + r]
 * over taps begin..end-1, for the BLOCK_FRAMES frames of a block. The accumulators stay in
 * registers and every tap row is read once per block. Portable code does 4 frames x 8 rows at a
 * time on 4-float vectors (SSE2, NEON with GCC and Clang; a plain loop elsewhere); x86-64 CPUs
 * with AVX2 and FMA do 8 x 8 at once (picked at plan creation).
 */

static void store_sums(float *out, const float *sum, int accumulate)
{
    for (int r = 0; r < BLOCK_ROWS; r++) out[r] = accumulate ? out[r] + sum[r] : sum[r];
}

#if defined(__GNUC__)
typedef float quad __attribute__((vector_size(4 * sizeof(float))));

static quad load_quad(const float *p)
{
    quad q;
    memcpy(&q, p, sizeof q);
    return q;
}

static void four_frames(const octave_kernel *k, int64_t begin, int64_t end, const float *x,
                        int64_t stride, int accumulate, float *responses)
{
    const int64_t rows = k->rows;
    const float *x0 = x, *x1 = x + stride, *x2 = x + 2 * stride, *x3 = x + 3 * stride;
    for (int64_t r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
        /* frame f, rows r0..r0+3 (lo) and r0+4..r0+7 (hi) */
        quad lo0 = {0}, hi0 = {0}, lo1 = {0}, hi1 = {0}, lo2 = {0}, hi2 = {0}, lo3 = {0},
             hi3 = {0};
        const float *taps = k->taps + begin * rows + r0;
        for (int64_t n = begin; n < end; n++, taps += rows) {
            const quad tl = load_quad(taps), th = load_quad(taps + 4);
            lo0 += x0[n] * tl;
            hi0 += x0[n] * th;
            lo1 += x1[n] * tl;
            hi1 += x1[n] * th;
            lo2 += x2[n] * tl;
            hi2 += x2[n] * th;
            lo3 += x3[n] * tl;
            hi3 += x3[n] * th;
        }
        const quad sums[8] = {lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3};
        for (int f = 0; f < 4; f++)
            store_sums(responses + f * rows + r0, (const float *)&sums[2 * f], accumulate);
    }
}
#else
static void four_frames(const octave_kernel *k, int64_t begin, int64_t end, const float *x,
                        int64_t stride, int accumulate, float *responses)
{
    const int64_t rows = k->rows;
    for (int64_t r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
        float acc[4][BLOCK_ROWS] = {{0}};
        for (int64_t n = begin; n < end; n++) {
            const float *taps = k->taps + n * rows + r0;
            for (int f = 0; f < 4; f++)
                for (int r = 0; r < BLOCK_ROWS; r++) acc[f][r] += x[f * stride + n] * taps[r];
        }
        for (int f = 0; f < 4; f++) store_sums(responses + f * rows + r0, acc[f], accumulate);
    }
}
#endif

static void portable_product(const octave_kernel *k, int64_t begin, int64_t end, const float *x,
                             int64_t stride, int accumulate, float *responses)
{
    four_frames(k, begin, end, x, stride, accumulate, responses);
    four_frames(k, begin, end, x + 4 * stride, stride, accumulate, responses + 4 * k->rows);
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static void avx2_product(const octave_kernel *k,
                                                            int64_t begin, int64_t end,
                                                            const float *x, int64_t stride,
                                                            int accumulate, float *responses)
{
    const int64_t rows = k->rows;
    for (int64_t r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
        __m256 acc[8];
        for (int f = 0; f < 8; f++) acc[f] = _mm256_setzero_ps();
        const float *taps = k->taps + begin * rows + r0;
        for (int64_t n = begin; n < end; n++, taps += rows) {
            const __m256 t = _mm256_loadu_ps(taps);
            for (int f = 0; f < 8; f++)
                acc[f] = _mm256_fmadd_ps(_mm256_broadcast_ss(x + f * stride + n), t, acc[f]);
        }
        for (int f = 0; f < 8; f++) {
            float sum[BLOCK_ROWS];
            _mm256_storeu_ps(sum, acc[f]);
            store_sums(responses + f * rows + r0, sum, accumulate);
        }
    }
}

static tap_product best_product(void)
{
    if (melspec_cpu_has_avx2_fma()) return avx2_product;
    return portable_product;
}
#else
static tap_product best_product(void) { return portable_product; }
#endif

/* The whole frame, TAP_CHUNK taps at a time: float sums of a few hundred terms added up keep
 * long kernels (n_fft in the tens of thousands) near float32's precision. */
static void kernel_product(tap_product product, const octave_kernel *k, int64_t n_fft,
                           const float *x, int64_t stride, float *responses)
{
    for (int64_t begin = 0; begin < n_fft; begin += TAP_CHUNK) {
        const int64_t end = n_fft - begin < TAP_CHUNK ? n_fft : begin + TAP_CHUNK;
        product(k, begin, end, x, stride, begin > 0, responses);
    }
}

/* Stores one block of responses (complex per filter) into the clip in the plan's layout. */
static void store_block(const melspec_plan *plan, const melspec_cqt_octave *o, int64_t rows,
                        const float *responses, int64_t frame, int64_t n_valid, int64_t n_frames,
                        float *clip)
{
    const int complex_out = plan->cqt_config.output == MELSPEC_CQT_OUTPUT_COMPLEX;
    const int frames_major = plan->stages.layout == MELSPEC_LAYOUT_FRAMES_MAJOR;
    const int64_t n_bins = plan->stages.n_bins;
    for (int64_t f = 0; f < n_valid; f++) {
        const float *values = responses + f * rows;
        for (int64_t k = 0; k < o->n_filters; k++) {
            const int64_t bin = o->first_bin + k, t = frame + f;
            const int64_t at = frames_major ? t * n_bins + bin : bin * n_frames + t;
            const float re = values[2 * k], im = values[2 * k + 1];
            if (complex_out) {
                clip[2 * at] = re;
                clip[2 * at + 1] = im;
            } else {
                clip[at] = sqrtf(re * re + im * im);
            }
        }
    }
}

/* The octave's filters over frames 0 .. n_frames-1 of its signal (centred, padded). */
static void octave_response(melspec_plan *plan, int64_t octave, const float *signal,
                            int64_t length, int64_t n_frames, float *clip)
{
    cqt_state *s = plan->backend_state;
    const melspec_cqt_octave *o = &plan->cqt->octaves[octave];
    const octave_kernel *k = &s->kernels[octave];
    const int64_t n_fft = o->n_fft, hop = o->hop_length;
    const melspec_pad_mode pad_mode = (melspec_pad_mode)plan->cqt_config.pad_mode;
    for (int64_t t = 0; t < n_frames; t += BLOCK_FRAMES) {
        const int64_t start = t * hop - n_fft / 2;
        const int64_t end = start + (BLOCK_FRAMES - 1) * hop + n_fft;
        if (start >= 0 && end <= length) {
            kernel_product(s->product, k, n_fft, signal + start, hop, s->responses);
        } else {
            for (int64_t f = 0; f < BLOCK_FRAMES; f++)
                for (int64_t i = 0; i < n_fft; i++)
                    s->frames[f * n_fft + i] = melspec_padded_sample(
                        signal, length, start + f * hop + i, pad_mode);
            kernel_product(s->product, k, n_fft, s->frames, n_fft, s->responses);
        }
        const int64_t n_valid = n_frames - t < BLOCK_FRAMES ? n_frames - t : BLOCK_FRAMES;
        store_block(plan, o, k->rows, s->responses, t, n_valid, n_frames, clip);
    }
}

static melspec_status cqt_signal(melspec_plan *plan, const float *input, int64_t n_samples,
                                 int64_t n_frames, float *clip)
{
    cqt_state *s = plan->backend_state;
    const melspec_cqt_design *d = plan->cqt;
    melspec_status status;
    const float *level = input;
    int64_t length = n_samples, level_index = 0;
    if (d->early_factor > 1) {
        status = decimate(plan, &s->early, input, n_samples, s->levels[0], s->fir_scratch,
                          s->use_fir);
        if (status != MELSPEC_OK) return status;
        length = (n_samples + d->early_factor - 1) / d->early_factor;
        if (!plan->cqt_config.scale) {
            /* librosa compensates here when it will not divide by sqrt(length) later */
            const double gain = sqrt((double)d->early_factor);
            for (int64_t i = 0; i < length; i++) s->levels[0][i] = (float)(s->levels[0][i] * gain);
        }
        level = s->levels[0];
    }
    for (int64_t i = 0; i < d->n_octaves; i++) {
        while (level_index < d->octaves[i].halvings) {
            float *next = s->levels[level_index + 1];
            status = decimate(plan, &s->halve, level, length, next, s->fir_scratch, s->use_fir);
            if (status != MELSPEC_OK) return status;
            length = (length + 1) / 2;
            level = next;
            level_index++;
        }
        octave_response(plan, i, level, length, n_frames, clip);
    }
    return MELSPEC_OK;
}

melspec_status melspec_cpu_cqt_execute(melspec_plan *plan, const float *input, int64_t n_signals,
                                  int64_t n_samples, void *output)
{
    cqt_state *s = plan->backend_state;
    if (n_samples > s->capacity)
        return melspec_fail(plan, MELSPEC_ERROR_EXCEEDS_PLAN,
                            "n_samples = %lld but the plan holds signals of up to %lld samples "
                            "(raise max_samples or call melspec_plan_reserve)",
                            (long long)n_samples, (long long)s->capacity);
    const int64_t n_frames = melspec_dsp_cqt_frame_count(plan->cqt, n_samples);
    const int64_t values = plan->stages.n_bins * n_frames * (plan->stages.complex_values ? 2 : 1);
    for (int64_t b = 0; b < n_signals; b++) {
        float *clip = (float *)output + b * values;
        const melspec_status status = cqt_signal(plan, input + b * n_samples, n_samples,
                                                 n_frames, clip);
        if (status != MELSPEC_OK) return status;
        melspec_cpu_scale_clip(&plan->stages, clip, values);
    }
    return MELSPEC_OK;
}

melspec_status melspec_cpu_cqt_reserve(melspec_plan *plan, int64_t n_signals, int64_t n_samples)
{
    (void)n_signals;
    cqt_state *s = plan->backend_state;
    if (n_samples <= s->capacity) return MELSPEC_OK;
    return allocate_levels(plan, n_samples);
}

void melspec_cpu_cqt_destroy(melspec_plan *plan)
{
    cqt_state *s = plan->backend_state;
    if (s == NULL) return;
    if (s->kernels != NULL)
        for (int64_t i = 0; i < plan->cqt->n_octaves; i++)
            melspec_free(&plan->allocator, s->kernels[i].taps);
    melspec_free(&plan->allocator, s->kernels);
    decimator_destroy(&s->early);
    decimator_destroy(&s->halve);
    free_levels(plan, s);
    melspec_free(&plan->allocator, s->levels);
    melspec_free(&plan->allocator, s->frames);
    melspec_free(&plan->allocator, s->responses);
    melspec_free(&plan->allocator, s);
    plan->backend_state = NULL;
}

melspec_status melspec_cpu_cqt_create(melspec_plan *plan)
{
    const melspec_cqt_design *d = plan->cqt;
    cqt_state *s = melspec_alloc_zeroed(&plan->allocator, 1, sizeof *s);
    if (s == NULL) return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "CQT state");
    plan->backend_state = s;
    s->kernels = melspec_alloc_zeroed(&plan->allocator, (size_t)d->n_octaves, sizeof *s->kernels);
    s->n_levels = 1 + d->octaves[d->n_octaves - 1].halvings;
    s->levels = melspec_alloc_zeroed(&plan->allocator, (size_t)s->n_levels, sizeof *s->levels);
    if (s->kernels == NULL || s->levels == NULL) goto out_of_memory;

    int64_t largest_fft = 0, largest_rows = 0;
    for (int64_t i = 0; i < d->n_octaves; i++) {
        const melspec_cqt_octave *o = &d->octaves[i];
        octave_kernel *k = &s->kernels[i];
        k->rows = round_up(2 * o->n_filters, BLOCK_ROWS);
        k->taps =
            melspec_alloc_zeroed(&plan->allocator, (size_t)(o->n_fft * k->rows), sizeof *k->taps);
        if (k->taps == NULL) goto out_of_memory;
        for (int64_t f = 0; f < o->n_filters; f++)
            for (int64_t n = 0; n < o->n_fft; n++) {
                const double *v = o->kernel + 2 * (f * o->n_fft + n);
                k->taps[n * k->rows + 2 * f] = (float)v[0];
                k->taps[n * k->rows + 2 * f + 1] = (float)v[1];
            }
        largest_fft = o->n_fft > largest_fft ? o->n_fft : largest_fft;
        largest_rows = k->rows > largest_rows ? k->rows : largest_rows;
    }
    s->frames =
        melspec_alloc(&plan->allocator, (size_t)(BLOCK_FRAMES * largest_fft) * sizeof *s->frames);
    s->responses = melspec_alloc(&plan->allocator,
                                 (size_t)(BLOCK_FRAMES * largest_rows) * sizeof *s->responses);
    if (s->frames == NULL || s->responses == NULL) goto out_of_memory;
    s->product = best_product();

    melspec_status status = decimator_create(plan, &s->early, d->early_factor);
    if (status == MELSPEC_OK && s->n_levels > 1) status = decimator_create(plan, &s->halve, 2);
    if (status == MELSPEC_OK) status = allocate_levels(plan, plan->stages.max_samples);
    if (status != MELSPEC_OK) {
        melspec_cpu_cqt_destroy(plan);
        return status;
    }
    return MELSPEC_OK;

out_of_memory:
    melspec_cpu_cqt_destroy(plan);
    return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "CQT kernels and scratch");
}

melspec_status melspec_cpu_cqt_use_fir(melspec_plan *plan, int use_fir)
{
    if (plan == NULL || plan->stages.kind != MELSPEC_PLAN_KIND_CQT || plan->ops != &melspec_cpu_ops)
        return MELSPEC_ERROR_UNSUPPORTED;
    cqt_state *s = plan->backend_state;
    if (use_fir) {
        decimator *steps[2] = {&s->early, &s->halve};
        for (int i = 0; i < 2; i++) {
            if (steps[i]->soxr == NULL || steps[i]->fir.taps != NULL) continue;
            if (melspec_decimator_fir_measure(steps[i]->factor, plan->cqt_config.res_type,
                                              &plan->allocator,
                                              &steps[i]->fir) != 0)
                return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY,
                                    "measuring the 1/%lld resampler", (long long)steps[i]->factor);
        }
    }
    s->use_fir = use_fir != 0;
    return MELSPEC_OK;
}

melspec_status melspec_cpu_cqt_use_portable_product(melspec_plan *plan)
{
    if (plan == NULL || plan->stages.kind != MELSPEC_PLAN_KIND_CQT || plan->ops != &melspec_cpu_ops)
        return MELSPEC_ERROR_UNSUPPORTED;
    ((cqt_state *)plan->backend_state)->product = portable_product;
    return MELSPEC_OK;
}
