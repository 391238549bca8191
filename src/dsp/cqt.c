#include "cqt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../alloc.h"

#include "window.h"

#define PI 3.141592653589793238462643383280
#define TWO_PI 6.283185307179586476925286766559

double melspec_dsp_cqt_window_bandwidth(melspec_window window)
{
    /* librosa.filters.WINDOW_BANDWIDTHS */
    switch (window) {
    case MELSPEC_WINDOW_HANN: return 1.50018310546875;
    case MELSPEC_WINDOW_HAMMING: return 1.3629455320350348;
    case MELSPEC_WINDOW_RECTANGULAR: return 1.0;
    /* -- librosa's parameter space (issue 15): the rest of librosa's table -- */
    case MELSPEC_WINDOW_BLACKMAN: return 1.7269681554262326;
    case MELSPEC_WINDOW_BLACKMANHARRIS: return 2.0045975283585014;
    case MELSPEC_WINDOW_NUTTALL: return 1.9763500280946082;
    case MELSPEC_WINDOW_FLATTOP: return 2.7762255046484143;
    case MELSPEC_WINDOW_BARTLETT: return 1.3334961334912805;
    case MELSPEC_WINDOW_TRIANG: return 1.333170652355585;
    case MELSPEC_WINDOW_BARTHANN: return 1.4560255965133932;
    case MELSPEC_WINDOW_BOHMAN: return 1.7859588613860062;
    case MELSPEC_WINDOW_COSINE: return 1.2337005350199792;
    case MELSPEC_WINDOW_PARZEN: return 1.917460317460319;
    default: break;
    }
    /* windows outside the table: librosa measures n sum(w^2) / (sum w)^2 on 1000 samples */
    enum { N = 1000 };
    double w[N], squares = 0.0, sum = 0.0;
    if (melspec_dsp_window(window, N, N, w) != 0) return 1.50018310546875;
    for (int i = 0; i < N; i++) {
        squares += w[i] * w[i];
        sum += w[i];
    }
    return (double)N * squares / (sum * sum);
}

void melspec_dsp_cqt_frequencies(double fmin, double tuning, int64_t n_bins,
                                 int64_t bins_per_octave, double *out)
{
    const double bpo = (double)bins_per_octave;
    const double tuned = fmin * pow(2.0, tuning / bpo);
    for (int64_t b = 0; b < n_bins; b++) {
        const double octave = pow(2.0, (double)(b / bins_per_octave));
        const double ratio = pow(2.0, (double)(b % bins_per_octave) / bpo);
        out[b] = octave * ratio * tuned;
    }
}

void melspec_dsp_cqt_alpha(const double *frequencies, int64_t n_bins, int64_t bins_per_octave,
                           double *out)
{
    if (n_bins == 1) {
        const double r = pow(2.0, 1.0 / (double)bins_per_octave);
        out[0] = (r * r - 1.0) / (r * r + 1.0);
        return;
    }
    /* Local bins per octave from log2 frequencies: one-sided at the ends, centred inside. */
    for (int64_t b = 0; b < n_bins; b++) {
        double local_bpo;
        if (b == 0)
            local_bpo = 1.0 / (log2(frequencies[1]) - log2(frequencies[0]));
        else if (b == n_bins - 1)
            local_bpo = 1.0 / (log2(frequencies[b]) - log2(frequencies[b - 1]));
        else
            local_bpo = 2.0 / (log2(frequencies[b + 1]) - log2(frequencies[b - 1]));
        const double step = pow(2.0, 2.0 / local_bpo);
        out[b] = (step - 1.0) / (step + 1.0);
    }
}

static double gamma_of(const melspec_cqt_config *c, double alpha)
{
    return c->gamma_mode == MELSPEC_VQT_GAMMA_ERB ? alpha * 24.7 / 0.108 : c->gamma;
}

double melspec_dsp_cqt_filter_length(const melspec_cqt_config *c, double frequency, double alpha,
                                     double sample_rate)
{
    const double q = c->filter_scale / alpha;
    return q * sample_rate / (frequency + gamma_of(c, alpha) / alpha);
}

double melspec_dsp_cqt_wavelet_lengths(const melspec_cqt_config *c, const double *frequencies,
                                       const double *alpha, int64_t n, double sample_rate,
                                       double *lengths)
{
    const double bandwidth = melspec_dsp_cqt_window_bandwidth((melspec_window)c->window);
    double cutoff = 0.0;
    for (int64_t b = 0; b < n; b++) {
        const double q = c->filter_scale / alpha[b];
        const double reach =
            frequencies[b] * (1.0 + 0.5 * bandwidth / q) + 0.5 * gamma_of(c, alpha[b]);
        cutoff = reach > cutoff ? reach : cutoff;
        if (lengths != NULL)
            lengths[b] = melspec_dsp_cqt_filter_length(c, frequencies[b], alpha[b], sample_rate);
    }
    return cutoff;
}

static int64_t count_two_factors(int64_t x)
{
    if (x <= 0) return 0;
    int64_t n = 0;
    while (x % 2 == 0) {
        n++;
        x /= 2;
    }
    return n;
}

int64_t melspec_dsp_cqt_early_downsample_count(double nyquist, double filter_cutoff,
                                               int64_t hop_length, int64_t n_octaves)
{
    /* in double first: a cutoff near the smallest double makes the ratio inf (fuzz_cqt, issue
     * 17), and the hop's factors of two (at most 62) bound the count anyway */
    const double by_filters_real = ceil(log2(nyquist / filter_cutoff)) - 1.0 - 1.0;
    const int64_t by_filters =
        by_filters_real > 0.0 ? (by_filters_real < 62.0 ? (int64_t)by_filters_real : 62) : 0;
    int64_t by_hop = count_two_factors(hop_length) - n_octaves + 1;
    if (by_hop < 0) by_hop = 0;
    return by_filters < by_hop ? by_filters : by_hop;
}

int melspec_dsp_fft_pow2(const melspec_allocator *allocator, double *data, int64_t n, int sign)
{
    if (n < 1 || (n & (n - 1)) != 0) return -1;
    if (n == 1) return 0;
    double *twiddle =
        melspec_alloc(allocator, (size_t)n * sizeof *twiddle); /* n/2 (cos, sin) pairs */
    if (twiddle == NULL) return -1;
    for (int64_t k = 0; k < n / 2; k++) {
        const double angle = TWO_PI * (double)k / (double)n;
        twiddle[2 * k] = cos(angle);
        twiddle[2 * k + 1] = sign < 0 ? -sin(angle) : sin(angle);
    }
    for (int64_t i = 1, j = 0; i < n; i++) {
        int64_t bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = data[2 * i];
            data[2 * i] = data[2 * j];
            data[2 * j] = t;
            t = data[2 * i + 1];
            data[2 * i + 1] = data[2 * j + 1];
            data[2 * j + 1] = t;
        }
    }
    for (int64_t length = 2; length <= n; length <<= 1) {
        const int64_t stride = n / length;
        for (int64_t start = 0; start < n; start += length) {
            for (int64_t k = 0; k < length / 2; k++) {
                const double wr = twiddle[2 * k * stride], wi = twiddle[2 * k * stride + 1];
                double *a = data + 2 * (start + k), *b = data + 2 * (start + k + length / 2);
                const double br = b[0] * wr - b[1] * wi, bi = b[0] * wi + b[1] * wr;
                b[0] = a[0] - br;
                b[1] = a[1] - bi;
                a[0] += br;
                a[1] += bi;
            }
        }
    }
    melspec_free(allocator, twiddle);
    return 0;
}

/* librosa.util.normalize's divisor for one wavelet (its magnitudes are the window values). */
static double wavelet_norm(const double *wavelet, int64_t n, melspec_cqt_norm norm)
{
    double length = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const double magnitude = hypot(wavelet[2 * i], wavelet[2 * i + 1]);
        switch (norm) {
        case MELSPEC_CQT_NORM_L1: length += magnitude; break;
        case MELSPEC_CQT_NORM_L2: length += magnitude * magnitude; break;
        case MELSPEC_CQT_NORM_MAX: length = magnitude > length ? magnitude : length; break;
        case MELSPEC_CQT_NORM_NONE: return 1.0;
        }
    }
    if (norm == MELSPEC_CQT_NORM_L2) length = sqrt(length);
    /* normalize leaves vectors below the smallest normal number as they are */
    return length < 2.2250738585072014e-308 ? 1.0 : length;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * One filter's row of librosa's basis: the wavelet (filters.wavelet: phasor times window,
 * normalized, centred in n_fft, stored complex64), scaled by length / n_fft (again complex64),
 * then its FFT over 1 + n_fft/2 bins. row receives n_fft complex values (only the first
 * 1 + n_fft/2 matter). scratch holds 3 n_fft doubles.
 */
static int wavelet_spectrum(const melspec_allocator *allocator, double frequency, double length,
                            double sample_rate, int64_t n_fft, const melspec_cqt_config *c,
                            double *row, double *scratch)
{
    /* np.arange(-length // 2, length // 2): floor(-L/2) .. floor(L/2) - 1 */
    const double first = floor(-length / 2.0);
    const int64_t n = (int64_t)(floor(length / 2.0) - first);
    if (n < 1 || n > n_fft) return -1;
    double *wavelet = scratch;
    double *window = scratch + 2 * n;
    if (melspec_dsp_window((melspec_window)c->window, n, n, window) != 0) return -1;
    for (int64_t i = 0; i < n; i++) {
        const double angle = ((first + (double)i) * 2.0 * PI * frequency) / sample_rate;
        wavelet[2 * i] = cos(angle) * window[i];
        wavelet[2 * i + 1] = sin(angle) * window[i];
    }
    const double divisor = wavelet_norm(wavelet, n, (melspec_cqt_norm)c->norm);
    const double gain = length / (double)n_fft;
    memset(row, 0, (size_t)(2 * n_fft) * sizeof *row);
    const int64_t left = (n_fft - n) / 2;
    for (int64_t i = 0; i < n; i++) {
        /* librosa rounds to complex64 after normalizing and again after the gain */
        const float re = (float)(wavelet[2 * i] / divisor);
        const float im = (float)(wavelet[2 * i + 1] / divisor);
        row[2 * (left + i)] = (double)(float)((double)re * gain);
        row[2 * (left + i) + 1] = (double)(float)((double)im * gain);
    }
    return melspec_dsp_fft_pow2(allocator, row, n_fft, -1);
}

/* util.sparsify_rows: drop the smallest magnitudes holding less than `quantile` of the row's mass
 * (everything at or above the magnitude where the sorted cumulative share reaches it stays). */
static double sparsity_threshold(const double *row, int64_t n_columns, double quantile,
                                 double *sorted)
{
    double total = 0.0;
    for (int64_t j = 0; j < n_columns; j++) {
        sorted[j] = hypot(row[2 * j], row[2 * j + 1]);
        total += sorted[j];
    }
    qsort(sorted, (size_t)n_columns, sizeof *sorted, compare_doubles);
    double cumulative = 0.0;
    for (int64_t j = 0; j < n_columns; j++) {
        cumulative += sorted[j] / total;
        if (!(cumulative < quantile)) return sorted[j];
    }
    return sorted[0];
}

static int design_octave(const melspec_cqt_config *c, const melspec_cqt_design *d,
                         melspec_cqt_octave *o)
{
    const int64_t n_fft = o->n_fft, n_columns = n_fft / 2 + 1;
    const melspec_allocator *a = &d->allocator;
    double *spectra = melspec_alloc(a, (size_t)(o->n_filters * 2 * n_fft) * sizeof *spectra);
    double *scratch = melspec_alloc(a, (size_t)(3 * n_fft) * sizeof *scratch);
    double *thresholds = melspec_alloc(a, (size_t)o->n_filters * sizeof *thresholds);
    o->row_start = melspec_alloc_zeroed(a, (size_t)(o->n_filters + 1), sizeof *o->row_start);
    o->kernel = melspec_alloc_zeroed(a, (size_t)(o->n_filters * 2 * n_fft), sizeof *o->kernel);
    int status = -1;
    if (!spectra || !scratch || !thresholds || !o->row_start || !o->kernel) goto done;

    const double octave_gain = sqrt(d->sample_rate / o->sample_rate);
    for (int64_t k = 0; k < o->n_filters; k++) {
        const int64_t bin = o->first_bin + k;
        const double length = melspec_dsp_cqt_filter_length(c, d->frequencies[bin], d->alpha[bin],
                                                            o->sample_rate);
        if (wavelet_spectrum(a, d->frequencies[bin], length, o->sample_rate, n_fft, c,
                             spectra + k * 2 * n_fft, scratch) != 0)
            goto done;
    }
    for (int64_t k = 0; k < o->n_filters; k++) {
        thresholds[k] =
            sparsity_threshold(spectra + k * 2 * n_fft, n_columns, c->sparsity, scratch);
        o->row_start[k + 1] = o->row_start[k];
        for (int64_t j = 0; j < n_columns; j++) {
            const double *v = spectra + k * 2 * n_fft + 2 * j;
            if (hypot(v[0], v[1]) >= thresholds[k]) o->row_start[k + 1]++;
        }
    }
    o->nnz = o->row_start[o->n_filters];
    o->column = melspec_alloc(a, (size_t)(o->nnz > 0 ? o->nnz : 1) * sizeof *o->column);
    o->value = melspec_alloc(a, (size_t)(2 * (o->nnz > 0 ? o->nnz : 1)) * sizeof *o->value);
    if (!o->column || !o->value) goto done;
    for (int64_t k = 0; k < o->n_filters; k++) {
        const int64_t bin = o->first_bin + k;
        const double gain = octave_gain / (c->scale ? sqrt(d->lengths[bin]) : 1.0);
        double *kernel = o->kernel + k * 2 * n_fft; /* sparse row spread over n_fft, then FFT */
        int64_t at = o->row_start[k];
        for (int64_t j = 0; j < n_columns; j++) {
            const double *v = spectra + k * 2 * n_fft + 2 * j;
            if (!(hypot(v[0], v[1]) >= thresholds[k])) continue;
            o->column[at] = j;
            o->value[2 * at] = v[0] * gain;
            o->value[2 * at + 1] = v[1] * gain;
            kernel[2 * j] = v[0] * gain;
            kernel[2 * j + 1] = v[1] * gain;
            at++;
        }
        /* response = sum_j B[j] sum_n x[n] e^{-2 pi i j n / N} = sum_n x[n] FFT(B)[n] */
        if (melspec_dsp_fft_pow2(a, kernel, n_fft, -1) != 0) goto done;
    }
    status = 0;
done:
    melspec_free(a, spectra);
    melspec_free(a, scratch);
    melspec_free(a, thresholds);
    return status;
}

void melspec_dsp_cqt_design_destroy(melspec_cqt_design *d)
{
    if (d == NULL) return;
    const melspec_allocator a = d->allocator; /* a copy: d itself is freed with it */
    if (d->octaves != NULL) {
        for (int64_t i = 0; i < d->n_octaves; i++) {
            melspec_free(&a, d->octaves[i].row_start);
            melspec_free(&a, d->octaves[i].column);
            melspec_free(&a, d->octaves[i].value);
            melspec_free(&a, d->octaves[i].kernel);
        }
    }
    melspec_free(&a, d->octaves);
    melspec_free(&a, d->frequencies);
    melspec_free(&a, d->alpha);
    melspec_free(&a, d->lengths);
    melspec_free(&a, d);
}

int melspec_dsp_cqt_interval_frequencies(double fmin, double tuning, int64_t n_bins,
                                         const double *intervals, int64_t n_intervals,
                                         double *out)
{
    if (n_intervals < 1) return -1;
    const double tuned = fmin * pow(2.0, tuning / (double)n_intervals);
    for (int64_t b = 0; b < n_bins; b++)
        out[b] = pow(2.0, (double)(b / n_intervals)) * intervals[b % n_intervals];
    qsort(out, (size_t)n_bins, sizeof *out, compare_doubles);
    for (int64_t b = 0; b < n_bins; b++) out[b] *= tuned;
    return 0;
}

int melspec_dsp_cqt_bin_frequencies(const melspec_cqt_config *c, const double *intervals,
                                    double *out)
{
    if (intervals != NULL)
        return melspec_dsp_cqt_interval_frequencies(c->fmin, c->tuning, c->n_bins, intervals,
                                                    c->bins_per_octave, out);
    melspec_dsp_cqt_frequencies(c->fmin, c->tuning, c->n_bins, c->bins_per_octave, out);
    return 0;
}

melspec_cqt_design *melspec_dsp_cqt_design_create(const melspec_cqt_config *c,
                                                  const melspec_allocator *allocator)
{
    return melspec_dsp_cqt_design_create_with_intervals(c, NULL, allocator);
}

melspec_cqt_design *melspec_dsp_cqt_design_create_with_intervals(
    const melspec_cqt_config *c, const double *intervals, const melspec_allocator *allocator)
{
    melspec_cqt_design *d = melspec_alloc_zeroed(allocator, 1, sizeof *d);
    if (d == NULL) return NULL;
    if (allocator != NULL) d->allocator = *allocator;
    const melspec_allocator *a = &d->allocator;
    const int64_t n_bins = c->n_bins, bpo = c->bins_per_octave;
    d->n_bins = n_bins;
    d->bins_per_octave = bpo;
    d->n_octaves = (n_bins + bpo - 1) / bpo;
    d->frequencies = melspec_alloc_zeroed(a, (size_t)n_bins, sizeof *d->frequencies);
    d->alpha = melspec_alloc(a, (size_t)n_bins * sizeof *d->alpha);
    d->lengths = melspec_alloc(a, (size_t)n_bins * sizeof *d->lengths);
    d->octaves = melspec_alloc_zeroed(a, (size_t)d->n_octaves, sizeof *d->octaves);
    if (!d->frequencies || !d->alpha || !d->lengths || !d->octaves) goto fail;

    melspec_dsp_cqt_bin_frequencies(c, intervals, d->frequencies);
    melspec_dsp_cqt_alpha(d->frequencies, n_bins, bpo, d->alpha);
    d->filter_cutoff = melspec_dsp_cqt_wavelet_lengths(c, d->frequencies, d->alpha, n_bins,
                                                       c->sample_rate, NULL);
    const int64_t early = melspec_dsp_cqt_early_downsample_count(
        c->sample_rate / 2.0, d->filter_cutoff, c->hop_length, d->n_octaves);
    d->early_factor = (int64_t)1 << early;
    d->sample_rate = c->sample_rate / (double)d->early_factor;
    d->hop_length = c->hop_length / d->early_factor;
    melspec_dsp_cqt_wavelet_lengths(c, d->frequencies, d->alpha, n_bins, d->sample_rate,
                                    d->lengths);

    const int64_t n_filters = bpo < n_bins ? bpo : n_bins;
    double rate = d->sample_rate;
    int64_t hop = d->hop_length, halvings = 0;
    for (int64_t i = 0; i < d->n_octaves; i++) {
        melspec_cqt_octave *o = &d->octaves[i];
        const int64_t top = n_bins - n_filters * i;
        const int64_t bottom = top - n_filters > 0 ? top - n_filters : 0;
        o->first_bin = bottom;
        o->n_filters = top - bottom;
        o->halvings = halvings;
        o->sample_rate = rate;
        o->hop_length = hop;
        double longest = 0.0;
        for (int64_t b = bottom; b < top; b++) {
            const double length =
                melspec_dsp_cqt_filter_length(c, d->frequencies[b], d->alpha[b], rate);
            longest = length > longest ? length : longest;
        }
        o->n_fft = (int64_t)pow(2.0, ceil(log2(longest)));
        if (design_octave(c, d, o) != 0) goto fail;
        if (hop % 2 == 0) {
            hop /= 2;
            rate /= 2.0;
            halvings++;
        }
    }
    return d;

fail:
    melspec_dsp_cqt_design_destroy(d);
    return NULL;
}

int64_t melspec_dsp_cqt_octave_length(const melspec_cqt_design *d, int64_t n_samples,
                                      int64_t octave)
{
    int64_t length = (n_samples + d->early_factor - 1) / d->early_factor;
    for (int64_t h = 0; h < d->octaves[octave].halvings; h++) length = (length + 1) / 2;
    return length;
}

int64_t melspec_dsp_cqt_frame_count(const melspec_cqt_design *d, int64_t n_samples)
{
    int64_t frames = INT64_MAX;
    for (int64_t i = 0; i < d->n_octaves; i++) {
        const int64_t f = 1 + melspec_dsp_cqt_octave_length(d, n_samples, i) /
                                  d->octaves[i].hop_length;
        frames = f < frames ? f : frames;
    }
    return frames;
}
