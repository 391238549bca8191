/* Analysis windows, in double. Pure functions: no state, no allocation. */
#ifndef MELSPEC_DSP_WINDOW_H
#define MELSPEC_DSP_WINDOW_H

#include <stdint.h>

#include "melspec.h"

/* Periodic window of win_length samples (scipy.signal.get_window(..., fftbins=True)) placed in
 * the middle of n_fft samples with zeros around it (librosa.util.pad_center: the left pad is
 * (n_fft - win_length) / 2). Returns 0 on success, -1 on bad arguments. */
int melspec_dsp_window(melspec_window kind, int64_t win_length, int64_t n_fft, double *out);

#endif
