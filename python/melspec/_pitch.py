"""librosa.estimate_tuning, piptrack and pitch_tuning over melspec's STFT (issue 15): what
cqt/vqt run for tuning=None. The spectrogram is the library's (|STFT| in float32, as librosa's
for float32 audio); the peak picking and the histogram are librosa's arithmetic in numpy, in the
same dtypes, so that the estimate is librosa's (it is quantised to `resolution`, so the float32
rounding of the spectrogram moves it only when a histogram count or the median ties)."""
import warnings

import numpy as np

from ._errors import InvalidArgumentError
from ._functions import _run
from ._plan import Spectrogram, host_audio

__all__ = ["estimate_tuning", "piptrack", "pitch_tuning"]


def _parabolic_shift(S):
    """librosa's _parabolic_interpolation along the frequency axis (-2): -b/a of the parabola
    through each bin and its neighbours, 0 where it would move more than a bin, and at the ends."""
    shift = np.zeros_like(S)
    left, centre, right = S[..., :-2, :], S[..., 1:-1, :], S[..., 2:, :]
    a = right + left - 2 * centre
    b = (right - left) / 2
    inner = np.abs(b) < np.abs(a)
    np.divide(-b, a, out=shift[..., 1:-1, :], where=inner)
    return shift


def _localmax(x):
    """librosa.util.localmax along axis -2: x[k] > x[k-1] and x[k] >= x[k+1]; the first bin is
    never one, the last is when it exceeds its neighbour."""
    peaks = np.zeros(x.shape, bool)
    peaks[..., 1:-1, :] = (x[..., 1:-1, :] > x[..., :-2, :]) & (x[..., 1:-1, :] >= x[..., 2:, :])
    peaks[..., -1, :] = x[..., -1, :] > x[..., -2, :]
    return peaks


def piptrack(*, y=None, sr=22050, S=None, n_fft=2048, hop_length=None, fmin=150.0, fmax=4000.0,
             threshold=0.1, win_length=None, window="hann", center=True, pad_mode="constant",
             ref=None):
    """librosa.piptrack: (pitches, magnitudes), each shaped like the magnitude spectrogram."""
    if S is not None:
        S = np.abs(np.asarray(S))
        if n_fft is None or n_fft // 2 + 1 != S.shape[-2]:
            n_fft = 2 * (S.shape[-2] - 1)
    else:
        if y is None:
            raise InvalidArgumentError("Input signal must be provided to compute a spectrogram")
        S = _run(Spectrogram, host_audio(y), None, dict(
            n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
            center=center, pad_mode=pad_mode, power=1.0, sr=sr, device="cpu"))
    fmin = np.maximum(fmin, 0)
    fmax = np.minimum(fmax, float(sr) / 2)
    fft_freqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    avg = np.gradient(S, axis=-2)
    shift = _parabolic_shift(S)
    dskew = 0.5 * avg * shift
    pitches = np.zeros_like(S)
    mags = np.zeros_like(S)
    freq_mask = ((fmin <= fft_freqs) & (fft_freqs < fmax))[:, np.newaxis]
    if ref is None:
        ref = np.max
    if callable(ref):
        ref_value = np.expand_dims(threshold * ref(S, axis=-2), -2)
    else:
        ref_value = np.abs(ref)
    idx = np.nonzero(freq_mask & _localmax(S * (S > ref_value)))
    pitches[idx] = (idx[-2] + shift[idx]) * float(sr) / n_fft
    mags[idx] = S[idx] + dskew[idx]
    return pitches, mags


def pitch_tuning(frequencies, *, resolution=0.01, bins_per_octave=12):
    """librosa.pitch_tuning: the histogram peak of the frequencies' deviation from A440 equal
    temperament, in fractions of a bin."""
    frequencies = np.atleast_1d(frequencies)
    frequencies = frequencies[frequencies > 0]
    if not np.any(frequencies):
        warnings.warn("Trying to estimate tuning from empty frequency set.", stacklevel=2)
        return 0.0
    octaves = np.log2(frequencies / (float(440.0) / 16))  # librosa.hz_to_octs, tuning 0
    residual = np.mod(bins_per_octave * octaves, 1.0)
    residual[residual >= 0.5] -= 1.0
    bins = np.linspace(-0.5, 0.5, int(np.ceil(1.0 / resolution)) + 1)
    counts, tuning = np.histogram(residual, bins)
    return tuning[np.argmax(counts)]


def estimate_tuning(*, y=None, sr=22050, S=None, n_fft=2048, resolution=0.01,
                    bins_per_octave=12, **kwargs):
    """librosa.estimate_tuning: piptrack's pitches above the median magnitude, pitch_tuning."""
    pitch, mag = piptrack(y=y, sr=sr, S=S, n_fft=n_fft, **kwargs)
    pitch_mask = pitch > 0
    threshold = np.median(mag[pitch_mask]) if pitch_mask.any() else 0.0
    return pitch_tuning(pitch[(mag >= threshold) & pitch_mask], resolution=resolution,
                        bins_per_octave=bins_per_octave)
