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

int melspec_dsp_mel_filterbank(const melspec_allocator *allocator, double sample_rate,
                               int64_t n_fft, int64_t n_mels, double fmin, double fmax,
                               melspec_mel_scale scale, melspec_mel_norm norm, double *out)
{
    if (out == NULL || n_fft < 1 || n_mels < 1 || !(sample_rate > 0.0)) return -1;
    double *edges = melspec_alloc(allocator, (size_t)(n_mels + 2) * sizeof *edges);
    if (edges == NULL) return -1;
    const int64_t n_freq = 1 + n_fft / 2;
    melspec_dsp_mel_frequencies(n_mels + 2, fmin, fmax, scale, edges);

    for (int64_t m = 0; m < n_mels; m++) {
        const double lower_width = edges[m + 1] - edges[m];
        const double upper_width = edges[m + 2] - edges[m + 1];
        const double gain = norm == MELSPEC_MEL_NORM_SLANEY ? 2.0 / (edges[m + 2] - edges[m]) : 1.0;
        double *row = out + m * n_freq;
        int64_t first = 0, end = n_freq;
        /* Outside (edges[m], edges[m + 2]) one of the slopes is <= 0 and the weight exactly +0,
         * so a proper band computes its inside only (the same expression, the same bits): plan
         * creation took 1 ms for 128 bands over 1025 bins, most of a short batch job's start.
         * A degenerate band (a width or the gain not positive and finite) computes every bin. */
        if (lower_width > 0.0 && upper_width > 0.0 && gain > 0.0 && isfinite(gain)) {
            memset(row, 0, (size_t)n_freq * sizeof *row);
            const double spacing = melspec_dsp_fft_bin_frequency(1, n_fft, sample_rate);
            const double guess = floor(edges[m] / spacing) - 1.0;
            first = guess > 0.0 ? (guess < (double)n_freq ? (int64_t)guess : n_freq) : 0;
            while (first > 0 &&
                   melspec_dsp_fft_bin_frequency(first - 1, n_fft, sample_rate) > edges[m])
                first--;
            while (first < n_freq &&
                   melspec_dsp_fft_bin_frequency(first, n_fft, sample_rate) <= edges[m])
                first++;
            end = first;
            while (end < n_freq &&
                   melspec_dsp_fft_bin_frequency(end, n_fft, sample_rate) < edges[m + 2])
                end++;
        }
        for (int64_t k = first; k < end; k++) {
            const double f = melspec_dsp_fft_bin_frequency(k, n_fft, sample_rate);
            const double rising = -(edges[m] - f) / lower_width;
            const double falling = (edges[m + 2] - f) / upper_width;
            const double w = rising < falling ? rising : falling;
            row[k] = (w > 0.0 ? w : 0.0) * gain;
        }
    }
    melspec_free(allocator, edges);
    return 0;
}

void melspec_dsp_normalize_rows(double *filterbank, int64_t n_rows, int64_t n_columns, double p,
                                double threshold)
{
    for (int64_t r = 0; r < n_rows; r++) {
        double *row = filterbank + r * n_columns;
        double length = 0.0;
        if (isinf(p)) {
            length = fabs(row[0]);
            for (int64_t k = 1; k < n_columns; k++)
                length = p > 0 ? fmax(length, fabs(row[k])) : fmin(length, fabs(row[k]));
        } else if (p == 0.0) {
            for (int64_t k = 0; k < n_columns; k++) length += fabs(row[k]) > 0.0 ? 1.0 : 0.0;
        } else {
            for (int64_t k = 0; k < n_columns; k++) length += pow(fabs(row[k]), p);
            length = pow(length, 1.0 / p);
        }
        if (length < threshold) continue;
        for (int64_t k = 0; k < n_columns; k++) row[k] /= length;
    }
}

int64_t melspec_dsp_empty_bands(const double *filterbank, int64_t n_mels, int64_t n_freq,
                                double fmin, int64_t *bands, int64_t capacity)
{
    int64_t n_empty = 0;
    for (int64_t m = 0; m < n_mels; m++) {
        if (m == 0 && fmin == 0.0) continue;
        int64_t k = 0;
        while (k < n_freq && filterbank[m * n_freq + k] == 0.0) k++;
        if (k < n_freq) continue;
        if (n_empty < capacity) bands[n_empty] = m;
        n_empty++;
    }
    return n_empty;
}
