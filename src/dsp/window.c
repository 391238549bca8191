#include "window.h"

#include <math.h>
#include <stdlib.h>

/* Every window follows scipy.signal.windows' definition of the symmetric window, evaluated at
 * each sample: a periodic window of M samples is the symmetric window of L = M + 1 samples
 * without its last sample (scipy's _extend/_truncate). Where scipy builds the window from
 * numpy.linspace or numpy.arange, the same products and sums are written here so that the
 * samples agree with scipy's to double rounding. */

#define PI 3.141592653589793238462643383280
#define TWO_PI 6.283185307179586476925286766559

/* Generalised cosine window a - (1 - a) cos(2 pi n / N), periodic: N = win_length. */
static double cosine_window(double a, int64_t n, int64_t length)
{
    return a - (1.0 - a) * cos(TWO_PI * (double)n / (double)length);
}

/* scipy's general_cosine: sum_k a[k] cos(k fac), fac = linspace(-pi, pi, L)[n]. */
static double general_cosine(const double *a, int n_terms, int64_t n, int64_t L)
{
    const double fac = (double)n * (TWO_PI / (double)(L - 1)) + -PI;
    double w = 0.0;
    for (int k = 0; k < n_terms; k++) w += a[k] * cos((double)k * fac);
    return w;
}

/* numpy.sinc */
static double sinc(double x)
{
    const double y = PI * (x == 0.0 ? 1.0e-20 : x);
    return sin(y) / y;
}

/* Modified Bessel function of the first kind, order 0, by its power series (all terms positive,
 * so no cancellation: relative error a few units of double rounding for the betas in use). */
static double bessel_i0(double x)
{
    const double q = x * x / 4.0;
    double term = 1.0, sum = 1.0;
    for (int k = 1; k < 2000 && term > sum * 1e-17; k++) {
        term *= q / ((double)k * (double)k);
        sum += term;
    }
    return sum;
}

static const double BLACKMAN[] = {0.42, 0.50, 0.08};
static const double NUTTALL[] = {0.3635819, 0.4891775, 0.1365995, 0.0106411};
static const double BLACKMANHARRIS[] = {0.35875, 0.48829, 0.14128, 0.01168};
static const double FLATTOP[] = {0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368};

int melspec_dsp_window_param_count(melspec_window kind)
{
    switch (kind) {
    case MELSPEC_WINDOW_HANN:
    case MELSPEC_WINDOW_HAMMING:
    case MELSPEC_WINDOW_RECTANGULAR:
    case MELSPEC_WINDOW_BLACKMAN:
    case MELSPEC_WINDOW_BLACKMANHARRIS:
    case MELSPEC_WINDOW_NUTTALL:
    case MELSPEC_WINDOW_FLATTOP:
    case MELSPEC_WINDOW_BARTLETT:
    case MELSPEC_WINDOW_TRIANG:
    case MELSPEC_WINDOW_BARTHANN:
    case MELSPEC_WINDOW_BOHMAN:
    case MELSPEC_WINDOW_COSINE:
    case MELSPEC_WINDOW_PARZEN:
    case MELSPEC_WINDOW_LANCZOS:
    case MELSPEC_WINDOW_EXPONENTIAL: return 0;
    case MELSPEC_WINDOW_KAISER:
    case MELSPEC_WINDOW_GAUSSIAN:
    case MELSPEC_WINDOW_GENERAL_HAMMING:
    case MELSPEC_WINDOW_TUKEY: return 1;
    case MELSPEC_WINDOW_GENERAL_GAUSSIAN: return 2;
    case MELSPEC_WINDOW_TAYLOR: return 3;
    case MELSPEC_WINDOW_CUSTOM: break;
    }
    return -1;
}

/* scipy's taylor: the nbar - 1 coefficients Fm of its cosine series, into fm (at most
 * MELSPEC_DSP_TAYLOR_MAX_NBAR - 1 of them: on the stack, so a plan's design allocates nothing
 * outside its allocator). */
static void taylor_coefficients(int64_t nbar, double sll, double *fm)
{
    const double B = pow(10.0, sll / 20.0);
    const double A = acosh(B) / PI;
    const double s2 = (double)(nbar * nbar) / (A * A + ((double)nbar - 0.5) * ((double)nbar - 0.5));
    for (int64_t i = 0; i < nbar - 1; i++) {
        const double m2 = (double)(i + 1) * (double)(i + 1);
        double numer = i % 2 == 0 ? 1.0 : -1.0;
        for (int64_t j = 0; j < nbar - 1; j++) {
            const double ma = (double)(j + 1) - 0.5;
            numer *= 1.0 - m2 / s2 / (A * A + ma * ma);
        }
        double denom = 2.0;
        for (int64_t j = 0; j < nbar - 1; j++)
            if (j != i) denom *= 1.0 - m2 / ((double)(j + 1) * (double)(j + 1));
        fm[i] = numer / denom;
    }
}

static double taylor_sum(const double *fm, int64_t nbar, double n, int64_t L)
{
    double sum = 0.0;
    for (int64_t m = 0; m < nbar - 1; m++)
        sum += fm[m] * cos(TWO_PI * (double)(m + 1) * (n - (double)L / 2.0 + 0.5) / (double)L);
    return 1.0 + 2.0 * sum;
}

/* Sample n (0 <= n < L - 1) of the symmetric window of L >= 3 samples, for the kinds without a
 * precomputed part. */
static double symmetric_sample(melspec_window kind, const double *p, int64_t n, int64_t L)
{
    const double x = (double)n, last = (double)(L - 1);
    switch (kind) {
    case MELSPEC_WINDOW_BLACKMAN: return general_cosine(BLACKMAN, 3, n, L);
    case MELSPEC_WINDOW_NUTTALL: return general_cosine(NUTTALL, 4, n, L);
    case MELSPEC_WINDOW_BLACKMANHARRIS: return general_cosine(BLACKMANHARRIS, 4, n, L);
    case MELSPEC_WINDOW_FLATTOP: return general_cosine(FLATTOP, 5, n, L);
    case MELSPEC_WINDOW_GENERAL_HAMMING: {
        const double a[2] = {p[0], 1.0 - p[0]};
        return general_cosine(a, 2, n, L);
    }
    case MELSPEC_WINDOW_BARTLETT: return x <= last / 2.0 ? 2.0 * x / last : 2.0 - 2.0 * x / last;
    case MELSPEC_WINDOW_TRIANG: {
        const double j = (double)(n < L - 1 - n ? n : L - 1 - n) + 1.0;
        return L % 2 == 0 ? (2.0 * j - 1.0) / (double)L : 2.0 * j / ((double)L + 1.0);
    }
    case MELSPEC_WINDOW_BARTHANN: {
        const double fac = fabs(x / last - 0.5);
        return 0.62 - 0.48 * fac + 0.38 * cos(TWO_PI * fac);
    }
    case MELSPEC_WINDOW_BOHMAN: {
        if (n == 0) return 0.0;
        const double fac = fabs(x * (2.0 / last) + -1.0);
        return (1.0 - fac) * cos(PI * fac) + 1.0 / PI * sin(PI * fac);
    }
    case MELSPEC_WINDOW_COSINE: return sin(PI / (double)L * (x + 0.5));
    case MELSPEC_WINDOW_PARZEN: {
        const double a = fabs(-last / 2.0 + x), half = (double)L / 2.0;
        if (a <= last / 4.0) return 1.0 - 6.0 * pow(a / half, 2.0) + 6.0 * pow(a / half, 3.0);
        return 2.0 * pow(1.0 - a / half, 3.0);
    }
    case MELSPEC_WINDOW_LANCZOS: {
        const double m = (double)(n > L - 1 - n ? n : L - 1 - n);
        if (L % 2 == 1 && 2 * n == L - 1) return 1.0;
        return sinc(2.0 * m / last - 1.0);
    }
    case MELSPEC_WINDOW_EXPONENTIAL: return exp(-fabs(x - last / 2.0) / 1.0);
    case MELSPEC_WINDOW_KAISER: {
        const double alpha = last / 2.0, r = (x - alpha) / alpha;
        return bessel_i0(p[0] * sqrt(1.0 - pow(r, 2.0))) / bessel_i0(p[0]);
    }
    case MELSPEC_WINDOW_GAUSSIAN: {
        const double c = x - last / 2.0;
        return exp(-pow(c, 2.0) / (2.0 * p[0] * p[0]));
    }
    case MELSPEC_WINDOW_GENERAL_GAUSSIAN: {
        const double c = x - last / 2.0;
        return exp(-0.5 * pow(fabs(c / p[1]), 2.0 * p[0]));
    }
    case MELSPEC_WINDOW_TUKEY: {
        const double alpha = p[0];
        const int64_t width = (int64_t)floor(alpha * last / 2.0);
        if (n <= width) return 0.5 * (1.0 + cos(PI * (-1.0 + 2.0 * x / alpha / last)));
        if (n >= L - width - 1)
            return 0.5 * (1.0 + cos(PI * (-2.0 / alpha + 1.0 + 2.0 * x / alpha / last)));
        return 1.0;
    }
    default: return NAN;
    }
}

int melspec_dsp_window_with_params(melspec_window kind, const double *params, int64_t win_length,
                                   int64_t n_fft, double *out)
{
    static const double zeros[3] = {0.0, 0.0, 0.0};
    const double *p = params != NULL ? params : zeros;
    if (out == NULL || win_length < 1 || n_fft < win_length) return -1;
    if (melspec_dsp_window_param_count(kind) < 0) return -1;
    const int64_t left = (n_fft - win_length) / 2;
    for (int64_t i = 0; i < n_fft; i++) out[i] = 0.0;
    double *w = out + left;
    /* scipy returns exactly 1 for a one-sample window of any kind */
    if (win_length == 1) {
        w[0] = 1.0;
        return 0;
    }
    /* tukey's limits are other windows of the unextended length (scipy) */
    if (kind == MELSPEC_WINDOW_TUKEY && p[0] <= 0.0) kind = MELSPEC_WINDOW_RECTANGULAR;
    if (kind == MELSPEC_WINDOW_TUKEY && p[0] >= 1.0) kind = MELSPEC_WINDOW_HANN;
    const int64_t L = win_length + 1;

    if (kind == MELSPEC_WINDOW_TAYLOR) {
        const int64_t nbar = (int64_t)p[0];
        if (nbar < 1 || nbar > MELSPEC_DSP_TAYLOR_MAX_NBAR) return -1;
        double fm[MELSPEC_DSP_TAYLOR_MAX_NBAR];
        taylor_coefficients(nbar, p[1], fm);
        const double scale = p[2] != 0.0 ? 1.0 / taylor_sum(fm, nbar, (double)(L - 1) / 2.0, L) : 1.0;
        for (int64_t n = 0; n < win_length; n++) w[n] = taylor_sum(fm, nbar, (double)n, L) * scale;
    } else {
        for (int64_t n = 0; n < win_length; n++) {
            switch (kind) {
            case MELSPEC_WINDOW_HANN: w[n] = cosine_window(0.5, n, win_length); break;
            case MELSPEC_WINDOW_HAMMING: w[n] = cosine_window(0.54, n, win_length); break;
            case MELSPEC_WINDOW_RECTANGULAR: w[n] = 1.0; break;
            default: w[n] = symmetric_sample(kind, p, n, L); break;
            }
        }
    }
    for (int64_t n = 0; n < win_length; n++)
        if (!isfinite(w[n])) return -1;
    return 0;
}

int melspec_dsp_window(melspec_window kind, int64_t win_length, int64_t n_fft, double *out)
{
    return melspec_dsp_window_with_params(kind, NULL, win_length, n_fft, out);
}

int melspec_dsp_symmetric_kaiser(double beta, int64_t length, double *out)
{
    if (out == NULL || length < 1 || !isfinite(beta)) return -1;
    if (length == 1) {
        out[0] = 1.0;
        return 0;
    }
    const double p[3] = {beta, 0.0, 0.0};
    for (int64_t n = 0; n < length; n++) out[n] = symmetric_sample(MELSPEC_WINDOW_KAISER, p, n, length);
    return 0;
}
