#include "mfcc.h"

#include <math.h>

static const double pi = 3.14159265358979323846;

/* cos(pi * numerator / denominator), with the angle reduced in integers first so that large
 * k * n products lose nothing before the cosine. */
static double cos_pi_ratio(int64_t numerator, int64_t denominator)
{
    const int64_t period = 2 * denominator;
    int64_t r = numerator % period;
    if (r < 0) r += period;
    return cos(pi * (double)r / (double)denominator);
}

/* scipy.fft.dct's unnormalized matrices (its documentation's formulas) and their "ortho"
 * scalings, entry (k, n) for N = n_bins. */
static double dct_entry(int dct_type, int ortho, int64_t k, int64_t n, int64_t N)
{
    switch (dct_type) {
    case 1: { /* x0 + (-1)^k x[N-1] + 2 sum_{n=1}^{N-2} x[n] cos(pi k n / (N-1)) */
        const int end_n = n == 0 || n == N - 1, end_k = k == 0 || k == N - 1;
        double w = (end_n ? 1.0 : 2.0) * cos_pi_ratio(k * n, N - 1);
        if (ortho) {
            /* x0, x[N-1] times sqrt(2), y0, y[N-1] divided by sqrt(2), all by sqrt(1/(2(N-1))) */
            w *= sqrt(1.0 / (2.0 * (double)(N - 1)));
            if (end_n) w *= sqrt(2.0);
            if (end_k) w /= sqrt(2.0);
        }
        return w;
    }
    case 2: { /* 2 sum x[n] cos(pi k (2n+1) / (2N)) */
        double w = 2.0 * cos_pi_ratio(k * (2 * n + 1), 2 * N);
        if (ortho) w *= k == 0 ? sqrt(1.0 / (4.0 * (double)N)) : sqrt(1.0 / (2.0 * (double)N));
        return w;
    }
    default: { /* 3: x0 + 2 sum_{n>=1} x[n] cos(pi (2k+1) n / (2N)) */
        double w = n == 0 ? 1.0 : 2.0 * cos_pi_ratio((2 * k + 1) * n, 2 * N);
        if (ortho) w *= n == 0 ? sqrt(1.0 / (double)N) : sqrt(1.0 / (2.0 * (double)N));
        return w;
    }
    }
}

int melspec_dsp_mfcc_basis(int dct_type, int ortho, int64_t n_bins, int64_t n_mfcc,
                           double lifter, double *basis)
{
    if (dct_type < 1 || dct_type > 3 || n_mfcc < 1 || n_mfcc > n_bins || !(lifter >= 0.0) ||
        (dct_type == 1 && n_bins < 2))
        return -1;
    for (int64_t k = 0; k < n_mfcc; k++) {
        /* librosa: M *= 1 + (lifter/2) sin(pi (k+1) / lifter) */
        const double lift = lifter > 0.0 ? 1.0 + lifter / 2.0 * sin(pi * (double)(k + 1) / lifter)
                                         : 1.0;
        for (int64_t n = 0; n < n_bins; n++)
            basis[k * n_bins + n] = dct_entry(dct_type, ortho, k, n, n_bins) * lift;
    }
    return 0;
}
