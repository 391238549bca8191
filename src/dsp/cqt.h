/* The constant-Q transform's design, in double, exactly as librosa.cqt (vqt with gamma 0) lays it
 * out: bin frequencies, relative bandwidths, wavelet lengths, the octave plan (early
 * downsampling, halvings, hops) and each octave's sparse FFT-domain basis together with the same
 * operator in the time domain. Shared by both backends; no state, no I/O. */
#ifndef MELSPEC_DSP_CQT_H
#define MELSPEC_DSP_CQT_H

#include <stdint.h>

#include "melspec.h"

/* librosa.note_to_hz("C1"): cqt's default fmin. */
#define MELSPEC_CQT_DEFAULT_FMIN 32.70319566257483

/* One octave of filters and the signal rate it runs at. */
typedef struct melspec_cqt_octave {
    int64_t first_bin;   /* output row of the octave's lowest filter */
    int64_t n_filters;   /* filters in this octave (the lowest octave may have fewer) */
    int64_t halvings;    /* ÷2 resamplings between the analysed signal and this octave's */
    double sample_rate;  /* rate of this octave's signal */
    int64_t hop_length;  /* hop at that rate */
    int64_t n_fft;       /* frame length, a power of two: 2^ceil(log2(longest filter)) */
    /* librosa's sparse basis applied to rfft(frame) (n_filters x (1 + n_fft/2), CSR), with the
     * octave's gain sqrt(sr / octave sr) and, when scale is on, 1/sqrt(filter length) folded in. */
    int64_t nnz;
    int64_t *row_start;  /* n_filters + 1 */
    int64_t *column;     /* nnz */
    double *value;       /* 2 nnz: re, im */
    /* The same operator on the raw frame: response[k] = sum_n frame[n] kernel[k][n], complex,
     * stored (n_filters, n_fft) as re, im pairs. */
    double *kernel;
} melspec_cqt_octave;

typedef struct melspec_cqt_design {
    int64_t n_bins;
    int64_t bins_per_octave;
    int64_t n_octaves;
    double *frequencies;     /* n_bins centre frequencies, ascending (tuning applied) */
    double *alpha;           /* n_bins relative bandwidths */
    double *lengths;         /* n_bins filter lengths at the analysed rate (scale divides by) */
    double filter_cutoff;    /* Hz: the highest frequency the top filter reaches */
    int64_t early_factor;    /* librosa's early downsampling: the input is resampled by
                                1/early_factor before the octaves (1: none) */
    double sample_rate;      /* the analysed rate, sample_rate / early_factor */
    int64_t hop_length;      /* the hop at that rate */
    melspec_cqt_octave *octaves; /* n_octaves, the top octave first */
    melspec_allocator allocator; /* what made the arrays above, and frees them */
} melspec_cqt_design;

/* Window bandwidth librosa's table gives (filters.window_bandwidth): 1.50018310546875 for Hann. */
double melspec_dsp_cqt_window_bandwidth(melspec_window window);

/* Bin frequencies fmin * 2^(tuning / bpo) * 2^(k / bpo), built as librosa.interval_frequencies
 * builds them. */
void melspec_dsp_cqt_frequencies(double fmin, double tuning, int64_t n_bins,
                                 int64_t bins_per_octave, double *out);

/* Relative bandwidths: filters._relative_bandwidth (n_bins >= 2) or the equal-temperament value
 * for a single bin. */
void melspec_dsp_cqt_alpha(const double *frequencies, int64_t n_bins, int64_t bins_per_octave,
                           double *out);

/* One filter's length in samples at sample_rate (filters.wavelet_lengths): Q sr / (f + gamma /
 * alpha) with Q = filter_scale / alpha, gamma the config's or, in ERB mode, alpha 24.7 / 0.108. */
double melspec_dsp_cqt_filter_length(const melspec_cqt_config *config, double frequency,
                                     double alpha, double sample_rate);

/* filters.wavelet_lengths: every bin's length at sample_rate into lengths (may be NULL); returns
 * the cutoff max(f (1 + bandwidth alpha / (2 filter_scale)) + gamma / 2). */
double melspec_dsp_cqt_wavelet_lengths(const melspec_cqt_config *config, const double *frequencies,
                                       const double *alpha, int64_t n, double sample_rate,
                                       double *lengths);

/* librosa's __early_downsample_count. */
int64_t melspec_dsp_cqt_early_downsample_count(double nyquist, double filter_cutoff,
                                               int64_t hop_length, int64_t n_octaves);

/* Designs everything for a config whose fields are resolved and validated (see cqt_plan.c), with
 * every allocation (temporaries included) through allocator (NULL: malloc). NULL when out of
 * memory. */
melspec_cqt_design *melspec_dsp_cqt_design_create(const melspec_cqt_config *config,
                                                  const melspec_allocator *allocator);

/* -- librosa's parameter space (issue 15): vqt(intervals=array) -- */

/* librosa.interval_frequencies(n_bins, fmin * 2^(tuning / n_intervals), intervals, sort=True):
 * the octave's ratios (n_intervals of them) times 2^octave, the first n_bins sorted, times the
 * tuned fmin. Returns -1 when n_intervals < 1. */
int melspec_dsp_cqt_interval_frequencies(double fmin, double tuning, int64_t n_bins,
                                         const double *intervals, int64_t n_intervals,
                                         double *out);

/* The bins' frequencies of a config: equal temperament, or the intervals when not NULL. */
int melspec_dsp_cqt_bin_frequencies(const melspec_cqt_config *config, const double *intervals,
                                    double *out);

/* design_create with intervals (bins_per_octave of them; NULL: equal temperament). */
melspec_cqt_design *melspec_dsp_cqt_design_create_with_intervals(
    const melspec_cqt_config *config, const double *intervals,
    const melspec_allocator *allocator);
void melspec_dsp_cqt_design_destroy(melspec_cqt_design *design);

/* Length of the analysed signal (after early downsampling) for n_samples of input, and of octave
 * o's signal; librosa.resample's ceil(n * ratio) each time. */
int64_t melspec_dsp_cqt_octave_length(const melspec_cqt_design *design, int64_t n_samples,
                                      int64_t octave);

/* Output frames for n_samples of input: the least over octaves of 1 + length / hop. */
int64_t melspec_dsp_cqt_frame_count(const melspec_cqt_design *design, int64_t n_samples);

/* In-place radix-2 complex FFT of n = 2^k points (re, im pairs), forward (e^-i) when sign < 0.
 * Twiddles are computed directly, so the error is a few ulps times log2(n). Returns -1 unless n is
 * a power of two, or when its twiddle table cannot be allocated (allocator: NULL for malloc). */
int melspec_dsp_fft_pow2(const melspec_allocator *allocator, double *data, int64_t n, int sign);

#endif
