/* Analysis windows, in double. Pure functions: no state, no allocation but the Taylor window's
 * few coefficients. */
#ifndef MELSPEC_DSP_WINDOW_H
#define MELSPEC_DSP_WINDOW_H

#include <stdint.h>

#include "melspec.h"

/* Periodic window of win_length samples (scipy.signal.get_window(..., fftbins=True)) placed in
 * the middle of n_fft samples with zeros around it (librosa.util.pad_center: the left pad is
 * (n_fft - win_length) / 2). params holds the kind's parameters (melspec_config.window_params:
 * kaiser beta, tukey alpha, gaussian std, ...); NULL means all zero. MELSPEC_WINDOW_CUSTOM is not
 * designed here (the caller's samples are). Returns 0 on success, -1 on bad arguments or when the
 * parameters give a sample that is not finite. Allocates nothing. */
/* The taylor window's largest nbar (its coefficients live on the stack while it is designed). */
#define MELSPEC_DSP_TAYLOR_MAX_NBAR 4096

int melspec_dsp_window_with_params(melspec_window kind, const double *params, int64_t win_length,
                                   int64_t n_fft, double *out);

/* The same with every parameter zero (the kinds without parameters). */
int melspec_dsp_window(melspec_window kind, int64_t win_length, int64_t n_fft, double *out);

/* How many of window_params a kind reads (0 to 3), or -1 for a value that is not a designed kind. */
int melspec_dsp_window_param_count(melspec_window kind);

/* scipy.signal.windows.kaiser(length, beta, sym=True), for filter design (firwin). */
int melspec_dsp_symmetric_kaiser(double beta, int64_t length, double *out);

#endif
