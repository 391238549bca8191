/*
 * Constant-Q plans on the CUDA backend. They share the backend's machinery (device selection,
 * buffers sized by max_batch x max_samples, host staging, graph capture and replay, streams,
 * reserve); what differs is here: the constants (each octave's time-domain kernel and the FIR
 * decimators measured from libsoxr, uploaded once) and the work of one call.
 *
 * A call: librosa's early downsampling and octave halvings as FIR decimations of the whole batch
 * into the level buffers (kernels/cqt.cu, one launch per level: each reads the one before), then
 * one launch of the tiled kernel products of all octaves together, which writes every bin of the
 * output (or of the unscaled values, which the shared scaling stage then turns into dB or log
 * values). One launch for the octaves because each octave alone is a few dozen blocks (41 for
 * the bench's cqt case) on a chip of 132 multiprocessors; together they fill it (287).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../cqt_decimator.h"
#include "../dsp/cqt.h"
#include "cuda_internal.h"

/* A decimator on the device. */
typedef struct cuda_decimator {
    melspec_k_decimator fir; /* device pointers inside */
} cuda_decimator;

struct cuda_cqt {
    int64_t n_octaves;
    melspec_k_cqt_octave *octaves; /* host array of device kernels */
    cuda_decimator early;          /* factor 1: none */
    cuda_decimator halve;          /* factor 2; taps NULL when no octave is halved */
};

static int64_t round_up(int64_t x, int64_t multiple)
{
    return (x + multiple - 1) / multiple * multiple;
}

/* Samples of the signal after `halvings` halvings (and the early downsampling) of n. */
static int64_t level_length(const melspec_cqt_design *d, int64_t n, int64_t halvings)
{
    int64_t length = (n + d->early_factor - 1) / d->early_factor;
    for (int64_t h = 0; h < halvings; h++) length = (length + 1) / 2;
    return length;
}

static int64_t cqt_level_floats(const melspec_plan *plan, int64_t batch, int64_t samples)
{
    const melspec_cqt_design *d = plan->cqt;
    const int64_t first = d->early_factor > 1 ? 0 : 1;
    int64_t floats = 0;
    for (int64_t h = first; h <= d->octaves[d->n_octaves - 1].halvings; h++)
        floats += batch * level_length(d, samples, h);
    return floats > 0 ? floats : 1;
}

static int64_t cqt_frames(const melspec_plan *plan, int64_t n_samples)
{
    if (n_samples < plan->cqt->early_factor) return 0;
    return melspec_dsp_cqt_frame_count(plan->cqt, n_samples);
}

static int64_t cqt_shortest_signal(const melspec_plan *plan) { return plan->cqt->early_factor; }

/* the octaves write unscaled magnitudes first whenever a scaling stage follows */
static int cqt_needs_values(const melspec_plan *plan)
{
    return plan->stages.scale.mode != MELSPEC_SCALE_NONE;
}

static melspec_status upload_floats(melspec_plan *plan, const float *host, size_t count,
                                    float **device, const char *what)
{
    const cudaError_t error = cudaMalloc((void **)device, count > 0 ? count * sizeof **device : 1);
    if (error != cudaSuccess) {
        *device = NULL;
        return melspec_cuda_fail(plan, error, what);
    }
    const cudaError_t copied = cudaMemcpy(*device, host, count * sizeof *host,
                                          cudaMemcpyHostToDevice);
    if (copied != cudaSuccess) { /* nothing half-made is handed back (as upload, cuda_backend.c) */
        cudaFree(*device);
        *device = NULL;
        return melspec_cuda_fail(plan, copied, "cudaMemcpy (upload)");
    }
    return MELSPEC_OK;
}

/* Measures libsoxr's 1/factor resampler (or designs resample_poly's, for res_type polyphase)
 * and uploads its taps and start-up correction. */
static melspec_status upload_decimator(melspec_plan *plan, int64_t factor, cuda_decimator *out)
{
    melspec_decimator_fir fir;
    if (melspec_decimator_fir_measure(factor, plan->cqt_config.res_type, &plan->allocator,
                                      &fir) != 0)
        return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY,
                            "measuring libsoxr's 1/%lld resampler", (long long)factor);
    const size_t n_correction = (size_t)(fir.correction_rows * fir.correction_columns);
    float *host =
        melspec_alloc(&plan->allocator, ((size_t)fir.n_taps + n_correction + 1) * sizeof *host);
    melspec_status status = MELSPEC_OK;
    if (host == NULL) {
        status = melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "decimator taps");
    } else {
        for (int64_t i = 0; i < fir.n_taps; i++) host[i] = (float)fir.taps[i];
        for (size_t i = 0; i < n_correction; i++) host[fir.n_taps + (int64_t)i] =
            (float)fir.correction[i];
        out->fir.factor = factor;
        out->fir.first = fir.first;
        out->fir.n_taps = fir.n_taps;
        out->fir.correction_rows = fir.correction_rows;
        out->fir.correction_columns = fir.correction_columns;
        out->fir.full_length = fir.full_length;
        float *taps = NULL, *correction = NULL;
        status = upload_floats(plan, host, (size_t)fir.n_taps, &taps, "cudaMalloc for FIR taps");
        out->fir.taps = taps;
        if (status == MELSPEC_OK && n_correction > 0) {
            status = upload_floats(plan, host + fir.n_taps, n_correction, &correction,
                                   "cudaMalloc for the FIR start-up correction");
            out->fir.correction = correction;
        }
    }
    melspec_free(&plan->allocator, host);
    melspec_decimator_fir_free(&fir);
    return status;
}

/* One octave's kernel as float, tap-major, rows padded with zeros. */
static melspec_status upload_octave(melspec_plan *plan, const melspec_cqt_octave *o,
                                    melspec_k_cqt_octave *out)
{
    out->n_fft = o->n_fft;
    out->hop_length = o->hop_length;
    out->rows = round_up(2 * o->n_filters, MELSPEC_K_CQT_ROW_MULTIPLE);
    out->n_filters = o->n_filters;
    out->first_bin = o->first_bin;
    const size_t count = (size_t)(o->n_fft * out->rows);
    float *host = melspec_alloc_zeroed(&plan->allocator, count, sizeof *host);
    if (host == NULL) return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "CQT kernel");
    for (int64_t k = 0; k < o->n_filters; k++)
        for (int64_t n = 0; n < o->n_fft; n++) {
            host[n * out->rows + 2 * k] = (float)o->kernel[2 * (k * o->n_fft + n)];
            host[n * out->rows + 2 * k + 1] = (float)o->kernel[2 * (k * o->n_fft + n) + 1];
        }
    float *kernel = NULL;
    const melspec_status status =
        upload_floats(plan, host, count, &kernel, "cudaMalloc for a CQT kernel");
    out->kernel = kernel;
    melspec_free(&plan->allocator, host);
    return status;
}

static melspec_status cqt_create(melspec_plan *plan)
{
    cuda_state *s = plan->backend_state;
    const melspec_cqt_design *d = plan->cqt;
    s->cqt = melspec_alloc_zeroed(&plan->allocator, 1, sizeof *s->cqt);
    if (s->cqt == NULL) return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "CQT state");
    cuda_cqt *q = s->cqt;
    q->octaves = melspec_alloc_zeroed(&plan->allocator, (size_t)d->n_octaves, sizeof *q->octaves);
    if (q->octaves == NULL) return melspec_fail(plan, MELSPEC_ERROR_OUT_OF_MEMORY, "CQT octaves");
    q->n_octaves = d->n_octaves;
    for (int64_t i = 0; i < d->n_octaves; i++)
        FORWARD_IF_ERROR(upload_octave(plan, &d->octaves[i], &q->octaves[i]));
    /* the tiled decimator works on polyphase components and needs a power-of-two factor, which
     * librosa's early downsampling (2^count) and its halvings always have */
    if (d->early_factor < 1 || (d->early_factor & (d->early_factor - 1)) != 0)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL,
                            "CQT early downsampling by %lld is not a power of two",
                            (long long)d->early_factor);
    q->early.fir.factor = d->early_factor;
    if (d->early_factor > 1) FORWARD_IF_ERROR(upload_decimator(plan, d->early_factor, &q->early));
    if (d->octaves[d->n_octaves - 1].halvings > 0)
        FORWARD_IF_ERROR(upload_decimator(plan, 2, &q->halve));
    return MELSPEC_OK;
}

void melspec_cuda_cqt_destroy(cuda_state *s)
{
    cuda_cqt *q = s->cqt;
    if (q == NULL) return;
    for (int64_t i = 0; q->octaves != NULL && i < q->n_octaves; i++)
        cudaFree((void *)q->octaves[i].kernel);
    melspec_free(s->allocator, q->octaves);
    const cuda_decimator *decimators[2] = {&q->early, &q->halve};
    for (int i = 0; i < 2; i++) {
        cudaFree((void *)decimators[i]->fir.taps);
        cudaFree((void *)decimators[i]->fir.correction);
    }
    melspec_free(s->allocator, q);
    s->cqt = NULL;
}

static melspec_status cqt_enqueue(melspec_plan *plan, const cuda_buffers *buffers,
                                  cudaStream_t stream, const float *input, int64_t n_signals,
                                  int64_t n_samples, void *output)
{
    const cuda_state *s = plan->backend_state;
    const cuda_cqt *q = s->cqt;
    const melspec_cqt_design *d = plan->cqt;
    const melspec_cqt_config *c = &plan->cqt_config;
    const int64_t n_frames = melspec_cuda_frames(plan, n_samples);
    if (n_frames < 1 || n_signals > buffers->batch || n_samples > buffers->samples)
        return melspec_fail(plan, MELSPEC_ERROR_INTERNAL,
                            "CQT enqueue of %lld x %lld samples outside the buffers' %lld x %lld",
                            (long long)n_signals, (long long)n_samples, (long long)buffers->batch,
                            (long long)buffers->samples);
    const int scaled = plan->stages.scale.mode != MELSPEC_SCALE_NONE;
    float *destination = scaled ? buffers->d_values : (float *)output;

    /* the levels: the input itself, or decimated copies in d_levels (each level holds batch x its
     * length at the buffers' capacity, one after another); the decimations first, then the
     * octaves in one launch (one per MELSPEC_K_CQT_MAX_OCTAVES octaves where there are more) */
    const float *level = input;
    int64_t length = n_samples, stride = n_samples, halvings = 0;
    float *next = buffers->d_levels;
    if (d->early_factor > 1) {
        /* librosa.resample's sqrt(factor), and once more without scale (vqt compensates) */
        const double root = sqrt((double)d->early_factor);
        const double gain = c->scale ? root : root * root;
        const int64_t capacity = level_length(d, buffers->samples, 0);
        melspec_k_cqt_decimate(level, stride, n_signals, length, q->early.fir, (float)gain, next,
                               capacity, stream);
        LAUNCH_CHECK("melspec_k_cqt_decimate");
        level = next;
        length = level_length(d, n_samples, 0);
        stride = capacity;
        next += buffers->batch * capacity;
    }
    /* the octaves' launch, or one per MELSPEC_K_CQT_MAX_OCTAVES octaves where there are more */
    melspec_k_cqt_job jobs[MELSPEC_K_CQT_MAX_OCTAVES];
    int64_t n_jobs = 0;
    for (int64_t i = 0; i < d->n_octaves; i++) {
        while (halvings < d->octaves[i].halvings) {
            const int64_t capacity = level_length(d, buffers->samples, halvings + 1);
            melspec_k_cqt_decimate(level, stride, n_signals, length, q->halve.fir,
                                   (float)sqrt(2.0), next, capacity, stream);
            LAUNCH_CHECK("melspec_k_cqt_decimate");
            halvings++;
            level = next;
            length = level_length(d, n_samples, halvings);
            stride = capacity;
            next += buffers->batch * capacity;
        }
        jobs[n_jobs].octave = q->octaves[i];
        jobs[n_jobs].signal = level;
        jobs[n_jobs].signal_stride = stride;
        jobs[n_jobs].length = length;
        n_jobs++;
        if (n_jobs == MELSPEC_K_CQT_MAX_OCTAVES || i + 1 == d->n_octaves) {
            melspec_k_cqt_octaves(jobs, n_jobs, c->pad_mode, n_signals, n_frames, d->n_bins,
                                  plan->stages.layout, plan->stages.complex_values, destination,
                                  stream);
            LAUNCH_CHECK("melspec_k_cqt_octaves");
            n_jobs = 0;
        }
    }
    if (!scaled) return MELSPEC_OK;
    return melspec_cuda_scale_values(plan, buffers, stream, n_signals, n_frames * d->n_bins,
                                     output);
}

const cuda_transform melspec_cuda_cqt_transform = {
    .create = cqt_create,
    .frames = cqt_frames,
    .shortest_signal = cqt_shortest_signal,
    .level_floats = cqt_level_floats,
    .uses_fft = 0,
    .needs_values = cqt_needs_values,
    .enqueue = cqt_enqueue,
};
