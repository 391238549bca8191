#include "window.h"

#include <math.h>

/* Generalised cosine window a - (1 - a) cos(2 pi n / N), periodic: N = win_length. */
static double cosine_window(double a, int64_t n, int64_t length)
{
    const double two_pi = 6.283185307179586476925286766559;
    return a - (1.0 - a) * cos(two_pi * (double)n / (double)length);
}

int melspec_dsp_window(melspec_window kind, int64_t win_length, int64_t n_fft, double *out)
{
    if (out == NULL || win_length < 1 || n_fft < win_length) return -1;
    const int64_t left = (n_fft - win_length) / 2;
    for (int64_t i = 0; i < n_fft; i++) out[i] = 0.0;
    for (int64_t n = 0; n < win_length; n++) {
        double w;
        switch (kind) {
        case MELSPEC_WINDOW_HANN: w = cosine_window(0.5, n, win_length); break;
        case MELSPEC_WINDOW_HAMMING: w = cosine_window(0.54, n, win_length); break;
        case MELSPEC_WINDOW_RECTANGULAR: w = 1.0; break;
        default: return -1;
        }
        /* scipy returns exactly 1 for a one-sample window of any kind */
        out[left + n] = win_length == 1 ? 1.0 : w;
    }
    return 0;
}
