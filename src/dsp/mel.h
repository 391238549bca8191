/* Hz <-> mel conversions and the mel filterbank, in double, exactly as librosa computes them.
 * Pure functions: no state; the filterbank's one temporary array goes through an allocator. */
#ifndef MELSPEC_DSP_MEL_H
#define MELSPEC_DSP_MEL_H

#include <stdint.h>

#include "melspec.h"

double melspec_dsp_hz_to_mel(double hz, melspec_mel_scale scale);
double melspec_dsp_mel_to_hz(double mel, melspec_mel_scale scale);

/* n frequencies evenly spaced in mel from fmin to fmax (librosa.mel_frequencies). */
void melspec_dsp_mel_frequencies(int64_t n, double fmin, double fmax, melspec_mel_scale scale,
                                 double *out);

/* Frequency of FFT bin k: k * sample_rate / n_fft (numpy.fft.rfftfreq). */
double melspec_dsp_fft_bin_frequency(int64_t k, int64_t n_fft, double sample_rate);

/* librosa.filters.mel in double: out is (n_mels, 1 + n_fft/2) row-major. Returns 0 on success,
 * -1 on bad arguments or when its n_mels + 2 band edges cannot be allocated (allocator: NULL for
 * malloc). Bands may come out empty (librosa only warns): see first_empty_band. */
int melspec_dsp_mel_filterbank(const melspec_allocator *allocator, double sample_rate,
                               int64_t n_fft, int64_t n_mels, double fmin, double fmax,
                               melspec_mel_scale scale, melspec_mel_norm norm, double *out);

/* The first band of a filterbank with no nonzero weight, or -1 when none is. Like librosa, a
 * band whose lower edge is 0 Hz is not counted (librosa neither warns about it nor fails). */
int64_t melspec_dsp_first_empty_band(const double *filterbank, int64_t n_mels, int64_t n_freq,
                                     double fmin);

#endif
