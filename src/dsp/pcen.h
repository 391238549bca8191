/* librosa.pcen as a stage after the transform: per bin, an IIR smoother over time
 *     M[t] = b ref[t] + (1 - b) M[t-1]
 * (scipy.signal.lfilter([b], [1, b - 1]) with librosa's initial state lfilter_zi, which is the
 * state of a filter that has seen ref = 1 forever: it does not depend on the signal, so a stream
 * starts from it as the offline transform does), then the gain and the compression
 *     P = (S / (eps + M)^gain + bias)^power - bias^power
 * written as librosa writes it (log1p/expm1 forms). ref is S, or with max_size > 1 the maximum
 * over max_size neighbouring bins of the frame (scipy.ndimage.maximum_filter1d over frequency).
 * The parameters are decided once (src/stages.c); the arithmetic below is what every backend,
 * the offline path and the streams apply, frame after frame, in double. */
#ifndef MELSPEC_DSP_PCEN_H
#define MELSPEC_DSP_PCEN_H

#include <math.h>
#include <stdint.h>

#include "host_device.h"

typedef enum melspec_pcen_compression {
    MELSPEC_PCEN_GENERAL = 0, /* bias^power expm1(power log1p(S smooth / bias)) */
    MELSPEC_PCEN_LOG1P = 1,   /* power 0: log1p(S smooth) */
    MELSPEC_PCEN_NO_BIAS = 2  /* bias 0: exp(power (log S + log smooth)) */
} melspec_pcen_compression;

typedef struct melspec_pcen_stage {
    double b;            /* the smoother's coefficient */
    double gain, bias, power, eps;
    double log_eps;      /* log(eps) */
    double bias_power;   /* bias^power */
    double initial_state; /* lfilter_zi([b], [1, b - 1]) */
    int64_t max_size;    /* bins of the reference's maximum filter (1: ref = S) */
    int32_t compression; /* melspec_pcen_compression */
} melspec_pcen_stage;

/* librosa's b for time_constant seconds at sample_rate and hop_length: the root of
 * b^2 + (1 - b)/t - 2 = 0 with t = time_constant sample_rate / hop_length frames. */
double melspec_dsp_pcen_b(double time_constant, double sample_rate, int64_t hop_length);

/* Fills the stage (b already resolved; the other parameters checked by src/config.c). */
void melspec_dsp_pcen_stage(double b, double gain, double bias, double power, double eps,
                            int64_t max_size, melspec_pcen_stage *stage);

/* lfilter_zi of the first-order filter as scipy computes it: (b1 - a1 b0) / (1 + a1) with
 * b1 = 0, a1 = b - 1 (not exactly 1 - b in double). */
static inline MELSPEC_HOST_DEVICE double melspec_pcen_initial_state(double b)
{
    const double a1 = b - 1.0;
    return (0.0 - a1 * b) / (1.0 + a1);
}

/* The reference of bin i of a frame of n_bins values (value j at values[j * stride]): the value
 * itself, or the maximum over bins i - max_size/2 .. i + (max_size - 1)/2 (scipy's window for
 * its default origin; the reflected bins past the edges repeat values already inside that
 * window, so it is clipped). */
static inline MELSPEC_HOST_DEVICE float melspec_pcen_reference(const melspec_pcen_stage *s,
                                                               const float *values,
                                                               int64_t stride, int64_t n_bins,
                                                               int64_t i)
{
    if (s->max_size <= 1) return values[i * stride];
    int64_t first = i - s->max_size / 2, last = i + (s->max_size - 1) / 2;
    if (first < 0) first = 0;
    if (last > n_bins - 1) last = n_bins - 1;
    float m = values[first * stride];
    for (int64_t j = first + 1; j <= last; j++) {
        const float v = values[j * stride];
        m = v > m ? v : m;
    }
    return m;
}

/* One value of the output from the value, its reference, and the bin's smoother state (updated:
 * lfilter's transposed direct form, y = b x + z, then z = -(b - 1) y). */
static inline MELSPEC_HOST_DEVICE float melspec_pcen_value(const melspec_pcen_stage *s,
                                                           float value, float reference,
                                                           double *state)
{
    const double smoothed = melspec_add_rn(melspec_mul_rn(s->b, (double)reference), *state);
    *state = melspec_mul_rn(-(s->b - 1.0), smoothed);
    const double smooth = exp(-s->gain * (s->log_eps + log1p(smoothed / s->eps)));
    const double x = (double)value;
    switch (s->compression) {
    case MELSPEC_PCEN_LOG1P: return (float)log1p(x * smooth);
    case MELSPEC_PCEN_NO_BIAS: return (float)exp(s->power * (log(x) + log(smooth)));
    default: return (float)(s->bias_power * expm1(s->power * log1p(x * smooth / s->bias)));
    }
}

#endif
