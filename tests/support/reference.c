#include "reference.h"

#include <math.h>
#include <stdlib.h>

int reference_rdft(const double *x, int64_t n, double *out)
{
    /* exact angles from a table indexed by k t mod n (no drift from accumulated rotations) */
    const double two_pi = 6.283185307179586476925286766559;
    double *cosine = malloc((size_t)n * sizeof *cosine), *sine = malloc((size_t)n * sizeof *sine);
    if (cosine == NULL || sine == NULL) {
        free(cosine);
        free(sine);
        return -1;
    }
    for (int64_t j = 0; j < n; j++) {
        cosine[j] = cos(two_pi * (double)j / (double)n);
        sine[j] = sin(two_pi * (double)j / (double)n);
    }
    for (int64_t k = 0; k <= n / 2; k++) {
        double re = 0.0, im = 0.0;
        int64_t j = 0; /* k t mod n */
        for (int64_t t = 0; t < n; t++) {
            re += x[t] * cosine[j];
            im -= x[t] * sine[j];
            j += k;
            if (j >= n) j -= n;
        }
        out[2 * k] = re;
        out[2 * k + 1] = im;
    }
    free(cosine);
    free(sine);
    return 0;
}

int64_t reference_n_frames(const reference_params *p, int64_t n_samples)
{
    const int64_t padded = p->center ? n_samples + 2 * (p->n_fft / 2) : n_samples;
    return padded < p->n_fft ? 0 : 1 + (padded - p->n_fft) / p->hop_length;
}

/* Sample i of the padded signal (i may fall outside [0, n)): numpy.pad's modes, written out
 * here on purpose rather than shared with src/dsp/padding.h, whose rule this checks. */
static double padded_sample(const reference_params *p, const float *x, int64_t n, int64_t i)
{
    if (i >= 0 && i < n) return x[i];
    if (p->pad_mode == 0 || n == 0) return 0.0;
    if (p->pad_mode == 2 || n == 1) return x[i < 0 ? 0 : n - 1];
    /* reflect about the end samples, folding again for pads longer than the signal */
    const int64_t period = 2 * (n - 1);
    int64_t j = i % period;
    if (j < 0) j += period;
    return x[j < n ? j : period - j];
}

static void scale(const reference_params *p, double *values, int64_t count)
{
    if (p->scaling == 0) return;
    if (p->scaling == 3) {
        for (int64_t i = 0; i < count; i++) values[i] = log(values[i] + p->log_offset);
        return;
    }
    const double factor = p->scaling == 1 ? 10.0 : 20.0;
    double ref = p->ref;
    if (p->ref_is_max) {
        ref = 0.0;
        for (int64_t i = 0; i < count; i++) ref = fmax(ref, fabs(values[i]));
    }
    const double offset = factor * log10(fmax(ref, p->amin));
    double peak = -INFINITY;
    for (int64_t i = 0; i < count; i++) {
        values[i] = factor * log10(fmax(values[i], p->amin)) - offset;
        peak = fmax(peak, values[i]);
    }
    if (isinf(p->top_db)) return;
    for (int64_t i = 0; i < count; i++) values[i] = fmax(values[i], peak - p->top_db);
}

int reference_spectrogram(const reference_params *p, const float *signal, int64_t n_samples,
                          double *out)
{
    const int64_t n_fft = p->n_fft, n_freq = 1 + n_fft / 2;
    const int64_t n_frames = reference_n_frames(p, n_samples);
    const int64_t n_bins = p->filterbank != NULL ? p->n_bins : n_freq;
    double *frame = malloc((size_t)n_fft * sizeof *frame);
    double *spectrum = malloc((size_t)(2 * n_freq) * sizeof *spectrum);
    double *values = malloc((size_t)(n_bins * (n_frames > 0 ? n_frames : 1)) * sizeof *values);
    int status = frame != NULL && spectrum != NULL && values != NULL ? 0 : -1;
    const int64_t start = p->center ? -(n_fft / 2) : 0;
    for (int64_t t = 0; status == 0 && t < n_frames; t++) {
        for (int64_t i = 0; i < n_fft; i++) {
            const int64_t at = start + t * p->hop_length + i;
            frame[i] = padded_sample(p, signal, n_samples, at) * (double)p->window[i];
        }
        if (reference_rdft(frame, n_fft, spectrum) != 0) {
            status = -1;
            break;
        }
        for (int64_t k = 0; k < n_freq; k++) {
            const double magnitude = hypot(spectrum[2 * k], spectrum[2 * k + 1]);
            spectrum[k] = p->power == 1.0 ? magnitude : pow(magnitude, p->power);
        }
        for (int64_t b = 0; b < n_bins; b++) {
            double v = spectrum[b];
            if (p->filterbank != NULL) {
                v = 0.0;
                for (int64_t k = 0; k < n_freq; k++)
                    v += (double)p->filterbank[b * n_freq + k] * spectrum[k];
            }
            values[b * n_frames + t] = v;
        }
    }
    if (status == 0) {
        /* scaling is per clip (ref = max and top_db look at the whole clip) */
        scale(p, values, n_bins * n_frames);
        for (int64_t b = 0; b < n_bins; b++)
            for (int64_t t = 0; t < n_frames; t++)
                out[p->frames_major ? t * n_bins + b : b * n_frames + t] =
                    values[b * n_frames + t];
    }
    free(frame);
    free(spectrum);
    free(values);
    return status;
}
