/* The float64 oracle: a direct DFT (no FFT algorithm), and on it a whole spectrogram computed in
 * double from the samples, so that the CPU backend can be checked against something that shares
 * none of its code (tests, and melspec-bench --verify on the CPU).
 *
 * The designed numbers — window and mel filterbank — are inputs, taken from the plan
 * (melspec_plan_window, melspec_plan_mel_filterbank): they are checked against librosa's own by
 * the golden fixtures, and everything the backend does with them (padding, framing, FFT,
 * |X|^power, the filterbank product, scaling, layout) is redone here. */
#ifndef MELSPEC_TESTS_REFERENCE_H
#define MELSPEC_TESTS_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

/* Bins 0..n/2 of the DFT of x[0..n-1], as (re, im) pairs: out holds 2 (1 + n/2) doubles.
 * Returns 0, or -1 when out of memory. */
int reference_rdft(const double *x, int64_t n, double *out);

/* The spectrogram's parameters, librosa's meaning (melspec_config's fields of the same names;
 * the values as the plan resolved them). */
typedef struct reference_params {
    int64_t n_fft, hop_length;
    int center;            /* pad n_fft / 2 both sides */
    int pad_mode;          /* melspec_pad_mode: 0 zeros, 1 reflect, 2 edge */
    double power;          /* |X|^power */
    const float *window;   /* n_fft values, already centred and zero-padded */
    const float *filterbank; /* n_bins x (1 + n_fft / 2), row-major; NULL: linear spectrogram */
    int64_t n_bins;        /* filterbank rows (ignored when filterbank is NULL) */
    int scaling;           /* melspec_scaling: 0 none, 1 power_to_db, 2 amplitude_to_db, 3 log */
    int ref_is_max;        /* dB against the clip's maximum instead of ref */
    double ref, amin, top_db, log_offset;
    int frames_major;      /* output (n_frames, n_bins) instead of (n_bins, n_frames) */
} reference_params;

/* Frames of a signal of n_samples (librosa's count; 0 when too short without centring). */
int64_t reference_n_frames(const reference_params *p, int64_t n_samples);

/* One clip's output into out (n_bins x n_frames doubles, n_bins = 1 + n_fft/2 when linear).
 * Returns 0, or -1 when out of memory. */
int reference_spectrogram(const reference_params *p, const float *signal, int64_t n_samples,
                          double *out);

#endif
