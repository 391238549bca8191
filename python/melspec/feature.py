"""librosa.feature equivalents, so that ``melspec.feature.melspectrogram(y=y, ...)`` reads as
``librosa.feature.melspectrogram(y=y, ...)``; and the features computed next to mel (issue 15):
MFCC and PCEN as plan stages from the signal (in the library, streamable), and ``mfcc(S=...)``,
``pcen(S)`` and ``delta`` on a given array (numpy/scipy, librosa's formulas in float64).
"""
import importlib

import numpy as np

from . import _config
from . import _library as L
from ._errors import InvalidArgumentError
from ._functions import _run, melspectrogram
from ._plan import _Plan

__all__ = ["melspectrogram", "mfcc", "pcen", "delta", "MFCC", "PCEN"]

def _scipy(name):
    """scipy.<name>, imported on first use: only the functions on given arrays need scipy (the
    plans do not), and melspec itself depends on numpy alone."""
    try:
        return importlib.import_module("scipy." + name)
    except ImportError as error:
        raise ImportError(f"melspec.feature needs scipy for this function (pip install scipy): "
                          f"{error}") from error


# librosa.feature.melspectrogram's keyword arguments that mfcc(y=...) passes on (**kwargs)
_MEL_KEYWORDS = ("n_fft", "hop_length", "win_length", "window", "center", "pad_mode", "power",
                 "n_mels", "fmin", "fmax", "htk")


class MFCC(_Plan):
    """A reusable MFCC plan: librosa.feature.mfcc(y=y, ...) computed in the library,
    ``(..., n_mfcc, t)`` float32: the mel power spectrogram, power_to_db (ref, amin, top_db:
    librosa's 1.0, 1e-10, 80 per clip), then the DCT (dct_type 1-3, norm "ortho" or None), the
    first n_mfcc rows and the lifter, as one matrix. Streams need top_db=None (a stream cannot
    know the clip's maximum). Other keyword arguments as MelSpectrogram (mel_norm is the
    filterbank's norm, librosa's mfcc(mel_norm=...)).
    """

    _transform = L.TRANSFORM_MEL

    def __init__(self, *, sr=22050, n_mfcc=20, dct_type=2, norm="ortho", lifter=0.0,
                 n_fft=2048, hop_length=512, win_length=None, window="hann", center=True,
                 pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None, htk=False,
                 mel_norm="slaney", ref=1.0, amin=1e-10, top_db=80.0, layout="bins_major",
                 dtype="float32", device="auto", max_batch=None, max_samples=None):
        config = _config.build(
            L.TRANSFORM_MEL, sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
            window=window, center=center, pad_mode=pad_mode, power=power, n_mels=n_mels,
            fmin=fmin, fmax=fmax, htk=htk, norm=mel_norm, scaling="power_to_db", ref=ref,
            amin=amin, top_db=top_db, layout=layout, dtype=dtype, device=device,
            max_batch=max_batch, max_samples=max_samples)
        self._create(_config.mfcc(config, n_mfcc=n_mfcc, dct_type=dct_type, norm=norm,
                                  lifter=lifter))


class PCEN(_Plan):
    """A reusable PCEN plan: librosa.pcen(librosa.feature.melspectrogram(y=y, ...), ...) in the
    library, ``(..., n_mels, t)`` float32. ``power`` is the spectrogram's exponent (as
    melspectrogram's); PCEN's own is ``pcen_power``. The smoother starts from librosa's state
    (zi=None) for each clip; a stream carries it from frame to frame, so streamed frames equal
    the offline ones. ``linear=True`` computes PCEN of |STFT|**power instead of the mel bands.
    """

    def __init__(self, *, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann",
                 center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None,
                 htk=False, norm="slaney", gain=0.98, bias=2.0, pcen_power=0.5,
                 time_constant=0.4, eps=1e-6, b=None, max_size=1, linear=False,
                 layout="bins_major", dtype="float32", device="auto", max_batch=None,
                 max_samples=None):
        self._transform = L.TRANSFORM_LINEAR if linear else L.TRANSFORM_MEL
        config = _config.build(
            self._transform, sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
            window=window, center=center, pad_mode=pad_mode, power=power, n_mels=n_mels,
            fmin=fmin, fmax=fmax, htk=htk, norm=norm, layout=layout, dtype=dtype, device=device,
            max_batch=max_batch, max_samples=max_samples)
        self._create(_config.pcen(config, gain=gain, bias=bias, power=pcen_power,
                                  time_constant=time_constant, eps=eps, b=b, max_size=max_size))


def mfcc(*, y=None, sr=22050, S=None, n_mfcc=20, dct_type=2, norm="ortho", lifter=0,
         mel_norm="slaney", device="auto", **kwargs):
    """librosa.feature.mfcc: (..., n_mfcc, t).

    From y: one library plan (mel, power_to_db with top_db 80, DCT, lifter), float32;
    ``**kwargs`` are melspectrogram's (n_fft, hop_length, n_mels, fmin, ...). From S (a log-power
    mel spectrogram): scipy.fft.dct along axis -2 in S's precision, as librosa. As librosa,
    n_mfcc above the number of bands gives one row per band.
    """
    if S is None:
        if y is None:
            raise InvalidArgumentError("mfcc needs y (audio) or S (a log-power mel spectrogram)")
        unknown = sorted(set(kwargs) - set(_MEL_KEYWORDS))
        if unknown:
            raise InvalidArgumentError(
                f"mfcc: keyword argument(s) {', '.join(unknown)} not supported (melspectrogram's "
                f"are {', '.join(_MEL_KEYWORDS)})")
        n_mels = kwargs.get("n_mels", 128)
        if isinstance(n_mels, (int, np.integer)) and not isinstance(n_mfcc, bool):
            try:
                n_mfcc = min(int(n_mfcc), int(n_mels))  # librosa slices [:n_mfcc]
            except (TypeError, ValueError):
                pass
        return _run(MFCC, y, None, dict(sr=sr, n_mfcc=n_mfcc, dct_type=dct_type, norm=norm,
                                        lifter=lifter, mel_norm=mel_norm, device=device,
                                        **kwargs))
    if kwargs:
        raise InvalidArgumentError(
            f"mfcc(S=...): keyword argument(s) {', '.join(sorted(kwargs))} apply to y only")
    if not lifter >= 0:
        raise InvalidArgumentError(f"MFCC lifter={lifter} must be a non-negative number")
    M = _scipy("fft").dct(np.asarray(S), axis=-2, type=dct_type, norm=norm)[..., :n_mfcc, :]
    if lifter > 0:
        lift = np.sin(np.pi * np.arange(1, 1 + M.shape[-2], dtype=M.dtype) / lifter)
        M *= (1 + (lifter / 2) * lift)[:, np.newaxis]
    return M


def _pcen_b(time_constant, sr, hop_length):
    t_frames = time_constant * sr / float(hop_length)
    return (np.sqrt(1 + 4 * t_frames ** 2) - 1) / (2 * t_frames ** 2)


def pcen(S, *, sr=22050, hop_length=512, gain=0.98, bias=2.0, power=0.5, time_constant=0.400,
         eps=1e-6, b=None, max_size=1, ref=None, axis=-1, max_axis=None, zi=None,
         return_zf=False):
    """librosa.pcen on a given spectrogram S (numpy, float64 like librosa): librosa's
    signature, checks and numbers, zi / return_zf included. From the signal, in the library and
    streamable: melspec.feature.PCEN."""
    if power < 0:
        raise InvalidArgumentError(f"power={power} must be nonnegative")
    if gain < 0:
        raise InvalidArgumentError(f"gain={gain} must be non-negative")
    if bias < 0:
        raise InvalidArgumentError(f"bias={bias} must be non-negative")
    if eps <= 0:
        raise InvalidArgumentError(f"eps={eps} must be strictly positive")
    if time_constant <= 0:
        raise InvalidArgumentError(f"time_constant={time_constant} must be strictly positive")
    if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)) or max_size < 1:
        raise InvalidArgumentError(f"max_size={max_size} must be a positive integer")
    if b is None:
        b = _pcen_b(time_constant, sr, hop_length)
    if not 0 <= b <= 1:
        raise InvalidArgumentError(f"b={b} must be between 0 and 1")
    S = np.asarray(S)
    if np.iscomplexobj(S):
        import warnings
        warnings.warn("pcen was called on complex input so phase information will be "
                      "discarded. To suppress this warning, call pcen(np.abs(D)) instead.",
                      stacklevel=2)
        S = np.abs(S)
    if ref is None:
        if max_size == 1:
            ref = S
        elif S.ndim == 1:
            raise InvalidArgumentError("Max-filtering cannot be applied to 1-dimensional input")
        else:
            if max_axis is None:
                if S.ndim != 2:
                    raise InvalidArgumentError(
                        f"Max-filtering a {S.ndim:d}-dimensional spectrogram requires you to "
                        "specify max_axis")
                max_axis = np.mod(1 - axis, 2)
            ref = _scipy("ndimage").maximum_filter1d(S, max_size, axis=max_axis)
    if zi is None:
        # the steady state of the smoother for a constant input of 1 (librosa's default)
        zi = np.full((1,) * np.ndim(ref), _scipy("signal").lfilter_zi([b], [1, b - 1])[0])
    smoothed, zf = _scipy("signal").lfilter([b], [1, b - 1], ref, zi=zi, axis=axis)
    smooth = np.exp(-gain * (np.log(eps) + np.log1p(smoothed / eps)))
    if power == 0:
        out = np.log1p(S * smooth)
    elif bias == 0:
        out = np.exp(power * (np.log(S) + np.log(smooth)))
    else:
        out = (bias ** power) * np.expm1(power * np.log1p(S * smooth / bias))
    return (out, zf) if return_zf else out


def delta(data, *, width=9, order=1, axis=-1, mode="interp", **kwargs):
    """librosa.feature.delta: the local derivative of the given order along axis, by a
    Savitzky-Golay filter of `width` points (scipy.signal.savgol_filter, deriv=order). Numpy
    only: it needs width // 2 frames after each frame (and the whole signal's ends in "interp"
    mode), so it is not a streaming stage."""
    data = np.atleast_1d(data)
    if mode == "interp" and width > data.shape[axis]:
        raise InvalidArgumentError(
            f"when mode='interp', width={width} cannot exceed data.shape[axis]="
            f"{data.shape[axis]}")
    if width < 3 or np.mod(width, 2) != 1:
        raise InvalidArgumentError("width must be an odd integer >= 3")
    if order <= 0 or not isinstance(order, (int, np.integer)):
        raise InvalidArgumentError("order must be a positive integer")
    kwargs.pop("deriv", None)
    kwargs.setdefault("polyorder", order)
    return _scipy("signal").savgol_filter(data, width, deriv=order, axis=axis, mode=mode, **kwargs)
