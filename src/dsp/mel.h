/* Hz <-> mel conversions and the mel filterbank, in double, exactly as librosa computes them.
 * Pure functions: no state; the filterbank's arrays go through an allocator. */
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

/* A filterbank as one run of weights per band: band m is zero outside columns [first[m],
 * first[m] + length[m]), and its run, which starts and ends on a nonzero weight, is
 * weights[offset[m] ...] (length 0: an empty band). What a plan keeps instead of the dense
 * matrix: a triangle touches a handful of FFT bins. */
typedef struct melspec_mel_runs {
    int64_t n_rows;
    int64_t n_columns;
    int64_t *first;
    int64_t *length;
    int64_t *offset;
    double *weights; /* sum(length) values */
} melspec_mel_runs;

/* librosa.filters.mel in double, as runs (allocated with allocator: NULL for malloc; free with
 * melspec_dsp_mel_runs_free). Returns 0 on success, -1 on bad arguments or when an array cannot
 * be allocated (out is then empty). Bands may come out empty (librosa only warns): see
 * empty_bands. */
int melspec_dsp_mel_filterbank_runs(const melspec_allocator *allocator, double sample_rate,
                                    int64_t n_fft, int64_t n_mels, double fmin, double fmax,
                                    melspec_mel_scale scale, melspec_mel_norm norm,
                                    melspec_mel_runs *out);
void melspec_dsp_mel_runs_free(const melspec_allocator *allocator, melspec_mel_runs *runs);

/* The dense (n_rows, n_columns) row-major matrix of runs. */
void melspec_dsp_mel_runs_expand(const melspec_mel_runs *runs, double *dense);

/* librosa.filters.mel in double, dense: out is (n_mels, 1 + n_fft/2) row-major. Returns 0, or -1
 * as melspec_dsp_mel_filterbank_runs. */
int melspec_dsp_mel_filterbank(const melspec_allocator *allocator, double sample_rate,
                               int64_t n_fft, int64_t n_mels, double fmin, double fmax,
                               melspec_mel_scale scale, melspec_mel_norm norm, double *out);

/* librosa.util.normalize(filterbank, norm=p, axis=-1) in place, on the runs (the zeros outside
 * them count as in the dense rows): each row divided by its p-norm (p > 0: (sum |w|^p)^(1/p);
 * INFINITY: max |w|; -INFINITY: min |w|; 0: the count of nonzero weights). A row whose norm is
 * below threshold (librosa's: the smallest normal value of the output type) is left as it is,
 * so an empty band stays zero. */
void melspec_dsp_normalize_runs(melspec_mel_runs *runs, double p, double threshold);

/* How many bands have no nonzero weight, by librosa's rule: a band whose lower edge is 0 Hz (band
 * 0 when fmin is 0) is not counted, as librosa neither warns about it nor fails. Writes the first
 * `capacity` of their indices into bands (may be NULL when capacity is 0). */
int64_t melspec_dsp_empty_bands(const melspec_mel_runs *runs, double fmin, int64_t *bands,
                                int64_t capacity);

#endif
