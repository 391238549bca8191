/* Centre padding exactly as librosa.stft does it, shared by the CPU backend, streams and the
 * CUDA kernels (plain inline functions, compiled by the C compiler and by nvcc). */
#ifndef MELSPEC_DSP_PADDING_H
#define MELSPEC_DSP_PADDING_H

#include <stdint.h>

#include "host_device.h"
#include "melspec.h"

/* Sample t of a signal of n samples extended by pad_mode (t may be < 0 or >= n), as numpy.pad:
 * zeros, the edge sample, or the mirror image without the edge, which numpy keeps reflecting when
 * the pad is longer than the signal (the extension is periodic with period 2 (n - 1)). */
static inline MELSPEC_HOST_DEVICE float melspec_padded_sample(const float *signal, int64_t n,
                                                              int64_t t, int32_t pad_mode)
{
    if (t >= 0 && t < n) return signal[t];
    switch (pad_mode) {
    case MELSPEC_PAD_EDGE: return t < 0 ? signal[0] : signal[n - 1];
    case MELSPEC_PAD_REFLECT: {
        if (n == 1) return signal[0];
        const int64_t period = 2 * (n - 1);
        int64_t m = t % period;
        if (m < 0) m += period;
        return signal[m < n ? m : period - m];
    }
    default: return 0.0f; /* MELSPEC_PAD_CONSTANT */
    }
}

/*
 * The first sample that frame `frame`'s padding of the signal's end may reflect. librosa.stft pads
 * the whole signal only while its head and tail frames overlap; otherwise it pads the tail
 * segment alone, from the first frame that reaches past the end (tail_k), so numpy's reflection
 * repeats within that segment when it is shorter than the pad. Which frames that changes depends
 * on the signal's length: it is 0 (the whole signal) for every other frame.
 */
static inline MELSPEC_HOST_DEVICE int64_t melspec_tail_segment_start(int64_t n, int64_t frame,
                                                                     int64_t n_fft, int64_t hop,
                                                                     int64_t pad)
{
    if (pad <= 0) return 0;
    const int64_t head_frames = pad / hop + (pad % hop != 0); /* librosa's start_k, ceil */
    const int64_t reach = n + pad - n_fft;             /* floor division, as Python's // */
    const int64_t tail_k = (reach >= 0 ? reach / hop : -((-reach + hop - 1) / hop)) + 1;
    if (tail_k <= head_frames || frame < tail_k) return 0;
    return tail_k * hop - pad;
}

#endif
