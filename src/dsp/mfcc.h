/* librosa.feature.mfcc after the (dB) mel stage: scipy.fft.dct of type 1, 2 or 3 over the bins
 * of each frame, the first n_mfcc coefficients, then the lifter. The DCT, the truncation and the
 * lifter are one matrix, designed once in double (src/dsp/mfcc.c); every backend applies it with
 * melspec_mfcc_value, so that offline, streamed and device frames use the same arithmetic. */
#ifndef MELSPEC_DSP_MFCC_H
#define MELSPEC_DSP_MFCC_H

#include <stdint.h>

#include "host_device.h"

/* The n_mfcc x n_bins matrix, row-major, into basis. dct_type 1, 2 or 3; ortho 1 for
 * norm="ortho", 0 for norm=None; lifter >= 0 (0: none). Returns 0, or -1 for parameters outside
 * those (type 1 needs n_bins >= 2; 1 <= n_mfcc <= n_bins). */
int melspec_dsp_mfcc_basis(int dct_type, int ortho, int64_t n_bins, int64_t n_mfcc,
                           double lifter, double *basis);

/* One coefficient: row (n_bins doubles of the basis) times one frame's n_bins values (value m at
 * values[m * stride]: 1 frame-major, n_frames in a bins-major clip), summed in double in bin
 * order. */
static inline MELSPEC_HOST_DEVICE float melspec_mfcc_value(const double *row, const float *values,
                                                           int64_t stride, int64_t n_bins)
{
    double sum = 0.0;
    for (int64_t m = 0; m < n_bins; m++)
        sum = melspec_add_rn(sum, melspec_mul_rn(row[m], (double)values[m * stride]));
    return (float)sum;
}

#endif
