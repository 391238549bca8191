#include "mel.h"

#include <math.h>
#include <string.h>
#include <stdlib.h>

#include "../alloc.h"

/* Slaney's Auditory Toolbox scale: linear below 1 kHz, logarithmic above. */
#define SLANEY_HZ_PER_MEL (200.0 / 3.0)
#define SLANEY_MIN_LOG_HZ 1000.0
#define SLANEY_MIN_LOG_MEL (SLANEY_MIN_LOG_HZ / SLANEY_HZ_PER_MEL)
#define SLANEY_LOG_STEP (log(6.4) / 27.0)

double melspec_dsp_hz_to_mel(double hz, melspec_mel_scale scale)
{
    if (scale == MELSPEC_MEL_SCALE_HTK) return 2595.0 * log10(1.0 + hz / 700.0);
    if (hz >= SLANEY_MIN_LOG_HZ)
        return SLANEY_MIN_LOG_MEL + log(hz / SLANEY_MIN_LOG_HZ) / SLANEY_LOG_STEP;
    return hz / SLANEY_HZ_PER_MEL;
}

double melspec_dsp_mel_to_hz(double mel, melspec_mel_scale scale)
{
    if (scale == MELSPEC_MEL_SCALE_HTK) return 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
    if (mel >= SLANEY_MIN_LOG_MEL)
        return SLANEY_MIN_LOG_HZ * exp(SLANEY_LOG_STEP * (mel - SLANEY_MIN_LOG_MEL));
    return SLANEY_HZ_PER_MEL * mel;
}

void melspec_dsp_mel_frequencies(int64_t n, double fmin, double fmax, melspec_mel_scale scale,
                                 double *out)
{
    const double low = melspec_dsp_hz_to_mel(fmin, scale);
    const double high = melspec_dsp_hz_to_mel(fmax, scale);
    /* numpy.linspace: start + i * step, with the last point exactly stop */
    const double step = n > 1 ? (high - low) / (double)(n - 1) : 0.0;
    for (int64_t i = 0; i < n; i++) {
        const double mel = i == n - 1 && n > 1 ? high : low + (double)i * step;
        out[i] = melspec_dsp_mel_to_hz(mel, scale);
    }
}

double melspec_dsp_fft_bin_frequency(int64_t k, int64_t n_fft, double sample_rate)
{
    /* numpy.fft.rfftfreq(n, d=1/sr) = k * (1 / (n * (1/sr))) */
    return (double)k * (1.0 / ((double)n_fft * (1.0 / sample_rate)));
}

/* Band m's weights into row[*first, end), the return value: outside (edges[m], edges[m + 2])
 * one of the slopes is <= 0 and the weight exactly +0, so a proper band computes its inside
 * only, with the same expression and the same bits as librosa's every-bin product (which made
 * plan creation 1 ms for 128 bands over 1025 bins). A degenerate band (a width or the gain not
 * positive and finite) computes every bin. The run is then trimmed to start and end on a
 * nonzero weight (length 0: an empty band). */
static int64_t band_weights(const double *edges, int64_t m, int64_t n_fft, double sample_rate,
                            melspec_mel_norm norm, double *row, int64_t *first_out)
{
    const int64_t n_freq = 1 + n_fft / 2;
    const double lower_width = edges[m + 1] - edges[m];
    const double upper_width = edges[m + 2] - edges[m + 1];
    const double gain = norm == MELSPEC_MEL_NORM_SLANEY ? 2.0 / (edges[m + 2] - edges[m]) : 1.0;
    int64_t first = 0, end = n_freq;
    if (lower_width > 0.0 && upper_width > 0.0 && gain > 0.0 && isfinite(gain)) {
        const double spacing = melspec_dsp_fft_bin_frequency(1, n_fft, sample_rate);
        const double guess = floor(edges[m] / spacing) - 1.0;
        first = guess > 0.0 ? (guess < (double)n_freq ? (int64_t)guess : n_freq) : 0;
        while (first > 0 && melspec_dsp_fft_bin_frequency(first - 1, n_fft, sample_rate) > edges[m])
            first--;
        while (first < n_freq && melspec_dsp_fft_bin_frequency(first, n_fft, sample_rate) <= edges[m])
            first++;
        end = first;
        while (end < n_freq && melspec_dsp_fft_bin_frequency(end, n_fft, sample_rate) < edges[m + 2])
            end++;
    }
    for (int64_t k = first; k < end; k++) {
        const double f = melspec_dsp_fft_bin_frequency(k, n_fft, sample_rate);
        const double rising = -(edges[m] - f) / lower_width;
        const double falling = (edges[m + 2] - f) / upper_width;
        const double w = rising < falling ? rising : falling;
        row[k] = (w > 0.0 ? w : 0.0) * gain;
    }
    while (first < end && row[first] == 0.0) first++;
    while (end > first && row[end - 1] == 0.0) end--;
    *first_out = first;
    return end;
}

void melspec_dsp_mel_runs_free(const melspec_allocator *allocator, melspec_mel_runs *runs)
{
    melspec_free(allocator, runs->first);
    melspec_free(allocator, runs->length);
    melspec_free(allocator, runs->offset);
    melspec_free(allocator, runs->weights);
    memset(runs, 0, sizeof *runs);
}

int melspec_dsp_mel_filterbank_runs(const melspec_allocator *allocator, double sample_rate,
                                    int64_t n_fft, int64_t n_mels, double fmin, double fmax,
                                    melspec_mel_scale scale, melspec_mel_norm norm,
                                    melspec_mel_runs *out)
{
    if (out == NULL) return -1;
    memset(out, 0, sizeof *out);
    if (n_fft < 1 || n_mels < 1 || !(sample_rate > 0.0)) return -1;
    const int64_t n_freq = 1 + n_fft / 2;
    out->n_rows = n_mels;
    out->n_columns = n_freq;
    double *edges = melspec_alloc(allocator, (size_t)(n_mels + 2) * sizeof *edges);
    double *row = melspec_alloc(allocator, (size_t)n_freq * sizeof *row);
    out->first = melspec_alloc(allocator, (size_t)n_mels * sizeof *out->first);
    out->length = melspec_alloc(allocator, (size_t)n_mels * sizeof *out->length);
    out->offset = melspec_alloc(allocator, (size_t)n_mels * sizeof *out->offset);
    int status = -1;
    if (edges == NULL || row == NULL || out->first == NULL || out->length == NULL ||
        out->offset == NULL)
        goto done;
    melspec_dsp_mel_frequencies(n_mels + 2, fmin, fmax, scale, edges);
    /* Two passes, the runs' extents and then their weights: a few thousand weights computed
     * twice instead of a dense n_mels x n_freq matrix written and scanned (1 MB for 128 x 1025,
     * most of a plan's first creation in page faults). */
    int64_t total = 0;
    for (int64_t m = 0; m < n_mels; m++) {
        const int64_t end = band_weights(edges, m, n_fft, sample_rate, norm, row, &out->first[m]);
        out->length[m] = end - out->first[m];
        out->offset[m] = total;
        total += out->length[m];
    }
    out->weights = melspec_alloc(allocator, (size_t)(total > 0 ? total : 1) * sizeof *out->weights);
    if (out->weights == NULL) goto done;
    for (int64_t m = 0; m < n_mels; m++) {
        int64_t first;
        band_weights(edges, m, n_fft, sample_rate, norm, row, &first);
        if (out->length[m] > 0)
            memcpy(out->weights + out->offset[m], row + first,
                   (size_t)out->length[m] * sizeof *row);
    }
    status = 0;
done:
    melspec_free(allocator, edges);
    melspec_free(allocator, row);
    if (status != 0) melspec_dsp_mel_runs_free(allocator, out);
    return status;
}

void melspec_dsp_mel_runs_expand(const melspec_mel_runs *runs, double *dense)
{
    memset(dense, 0, (size_t)(runs->n_rows * runs->n_columns) * sizeof *dense);
    for (int64_t m = 0; m < runs->n_rows; m++)
        if (runs->length[m] > 0)
            memcpy(dense + m * runs->n_columns + runs->first[m], runs->weights + runs->offset[m],
                   (size_t)runs->length[m] * sizeof *dense);
}

int melspec_dsp_mel_filterbank(const melspec_allocator *allocator, double sample_rate,
                               int64_t n_fft, int64_t n_mels, double fmin, double fmax,
                               melspec_mel_scale scale, melspec_mel_norm norm, double *out)
{
    if (out == NULL) return -1;
    melspec_mel_runs runs;
    if (melspec_dsp_mel_filterbank_runs(allocator, sample_rate, n_fft, n_mels, fmin, fmax, scale,
                                        norm, &runs) != 0)
        return -1;
    melspec_dsp_mel_runs_expand(&runs, out);
    melspec_dsp_mel_runs_free(allocator, &runs);
    return 0;
}

void melspec_dsp_normalize_runs(melspec_mel_runs *runs, double p, double threshold)
{
    for (int64_t r = 0; r < runs->n_rows; r++) {
        double *run = runs->weights + runs->offset[r];
        const int64_t n = runs->length[r];
        /* The zeros outside the run count as librosa's dense rows count them: they add nothing
         * to a sum or a count, cannot raise a maximum, and make the minimum 0. */
        double length = 0.0;
        if (isinf(p) && p < 0) {
            if (n == runs->n_columns) {
                length = fabs(run[0]);
                for (int64_t k = 1; k < n; k++) length = fmin(length, fabs(run[k]));
            }
        } else if (isinf(p)) {
            for (int64_t k = 0; k < n; k++) length = fmax(length, fabs(run[k]));
        } else if (p == 0.0) {
            for (int64_t k = 0; k < n; k++) length += fabs(run[k]) > 0.0 ? 1.0 : 0.0;
        } else {
            for (int64_t k = 0; k < n; k++) length += pow(fabs(run[k]), p);
            length = pow(length, 1.0 / p);
        }
        if (length < threshold) continue;
        for (int64_t k = 0; k < n; k++) run[k] /= length;
        /* a subnormal weight may divide to 0: the run still starts and ends on a nonzero one */
        int64_t lead = 0, kept = n;
        while (lead < kept && run[lead] == 0.0) lead++;
        while (kept > lead && run[kept - 1] == 0.0) kept--;
        runs->first[r] += lead;
        runs->offset[r] += lead;
        runs->length[r] = kept - lead;
    }
}

int64_t melspec_dsp_empty_bands(const melspec_mel_runs *runs, double fmin, int64_t *bands,
                                int64_t capacity)
{
    int64_t n_empty = 0;
    for (int64_t m = 0; m < runs->n_rows; m++) {
        if (m == 0 && fmin == 0.0) continue;
        if (runs->length[m] > 0) continue;
        if (n_empty < capacity) bands[n_empty] = m;
        n_empty++;
    }
    return n_empty;
}
