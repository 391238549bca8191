/*
 * librosa's resampling step (soxr at any quality, or scipy's resample_poly, by an integer factor
 * M) as an explicit linear operator, measured from libsoxr or designed as scipy designs it: what
 * the GPU backend applies, what the CPU backend applies for "polyphase", and what it can apply
 * instead of libsoxr to check it.
 *
 * libsoxr's decimation is linear and, after its first few outputs, time-invariant with period M:
 *     y[m] = sum_i taps[i] x[M m - (first + i)]                  (x zero outside 0..n-1)
 * For M >= 4 its pipeline starts differently: the first `correction_rows` outputs get an extra
 * sum_j correction[m][j] x[j] over the first `correction_columns` inputs (M = 2 needs none). soxr
 * emits floor(n/M + 1/2) samples and librosa pads them with zeros to ceil(n/M). The taps are
 * soxr's float32 output for impulses, so the model matches libsoxr to its float32 rounding
 * (about 1e-7 of the signal's peak). resample_poly's FIR is exact (no correction) and gives all
 * ceil(n/M) samples (full_length).
 */
#ifndef MELSPEC_SRC_CQT_DECIMATOR_H
#define MELSPEC_SRC_CQT_DECIMATOR_H

#include <stdint.h>

#include "melspec.h"

typedef struct melspec_decimator_fir {
    int64_t factor;             /* M */
    int64_t first;              /* offset of taps[0] */
    int64_t n_taps;
    double *taps;
    int64_t correction_rows;    /* first outputs that differ from the steady state */
    int64_t correction_columns; /* inputs they depend on beyond the taps */
    double *correction;         /* correction_rows x correction_columns */
    int32_t full_length;        /* 1: ceil(n/M) outputs computed (polyphase); 0: soxr's count */
    melspec_allocator allocator; /* what made taps and correction, and frees them */
} melspec_decimator_fir;

/* The 1/factor resampler (factor >= 2) of res_type (melspec_cqt_res_type): libsoxr's at that
 * quality measured by feeding it impulses (about factor^2 * 1e-5 s), or scipy's resample_poly
 * filter designed. Returns 0, or -1 when out of memory, libsoxr fails or res_type is unknown.
 * melspec's arrays (the taps, the correction, the probes) come from allocator (NULL: malloc);
 * libsoxr's own state from malloc. */
int melspec_decimator_fir_measure(int64_t factor, int32_t res_type,
                                  const melspec_allocator *allocator, melspec_decimator_fir *fir);

/* Frees what measure allocated and zeroes *fir. NULL and zeroed structs are accepted. */
void melspec_decimator_fir_free(melspec_decimator_fir *fir);

/* librosa.resample(x, orig_sr=M, target_sr=1, res_type=..., scale=False) of n samples, in
 * double: writes ceil(n / M) values to y. */
void melspec_decimator_fir_apply(const melspec_decimator_fir *fir, const float *x, int64_t n,
                                 double *y);

#endif
