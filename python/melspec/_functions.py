"""librosa-shaped functions. Each call uses a plan from a small per-thread cache keyed by the
arguments, so a loop of identical calls plans once (plans are single-thread objects, hence
per thread)."""
import collections
import threading
import warnings

import numpy as np

from . import _arrays
from ._errors import InvalidArgumentError
from ._plan import EMPTY_FILTERS_WARNING, STFT, MelSpectrogram

_CACHE_SIZE = 4
_local = threading.local()


def _plan(cls, kwargs, slot="plans", size=_CACHE_SIZE, key=None):
    """(plan, cached, hit) for (cls, kwargs) from this thread's cache `slot`: hit when the plan
    was created by an earlier call (melspec.torch keeps its own, larger cache: a model holds
    more configurations than a loop of function calls, and passes a key it built faster than
    sorting kwargs)."""
    try:
        if key is None:
            key = (cls, tuple(sorted(kwargs.items())))
        hash(key)
    except TypeError:  # an unhashable argument (e.g. an array as window): plan without caching
        return cls(**kwargs), False, False
    cache = getattr(_local, slot, None)
    if cache is None:
        cache = collections.OrderedDict()
        setattr(_local, slot, cache)
    plan = cache.get(key)
    if plan is not None:
        cache.move_to_end(key)
        return plan, True, True
    plan = cls(**kwargs)
    cache[key] = plan
    if len(cache) > size:
        cache.popitem(last=False)[1].close()
    return plan, True, False


def _run(cls, y, out, kwargs):
    if type(y) is not np.ndarray:
        if _arrays.compiling(y):  # inside torch.compile: the traceable custom operators
            from .torch import traced_call
            return traced_call(cls, y, out, kwargs)
        # a CUDA tensor's plan runs on its device: one plan per device
        kwargs["device"] = _arrays.plan_device(y, kwargs["device"])
    # librosa.stft's warning: centred frames of a signal shorter than n_fft are mostly padding
    n_fft = kwargs.get("n_fft")
    shape = getattr(y, "shape", ())
    center = kwargs.get("center")  # build() refuses a center that is not a bool
    if len(shape) and type(n_fft) is int and n_fft > shape[-1] \
            and isinstance(center, (bool, int, np.bool_, np.integer)) and center:
        warnings.warn(f"n_fft={n_fft} is too large for input signal of length={shape[-1]}",
                      stacklevel=3)
    plan, cached, hit = _plan(cls, kwargs)
    try:
        if hit and plan.warns_empty_bands:
            warnings.warn(EMPTY_FILTERS_WARNING, UserWarning, stacklevel=3)
        return plan(y, out=out)
    finally:
        if not cached:
            plan.close()


def melspectrogram(y=None, *, sr=22050, S=None, n_fft=2048, hop_length=512, win_length=None,
                   window="hann", center=True, pad_mode="constant", power=2.0, n_mels=128,
                   fmin=0.0, fmax=None, htk=False, norm="slaney", dtype=np.float32,
                   device="auto"):
    """librosa.feature.melspectrogram(y=y, ...): float32 (..., n_mels, t).

    y: float (..., n_samples) numpy array (or a float32 CUDA array on a GPU plan). Values are
    computed in float32 (librosa computes float64 input in float64). device: "auto" (GPU when
    the library has one), "cpu", "cuda" or "cuda:N".

    S: a precomputed spectrogram (..., 1 + n_fft // 2, t) instead of y, as librosa: n_fft is
    inferred from its shape when it does not match, and the result is librosa's product of S
    with filters.mel(..., dtype=dtype) (numpy; in S's dtype promoted with the filterbank's).
    dtype (librosa's filterbank dtype) float64 with y casts the float32 result.
    """
    if S is not None:
        from . import filters
        S = np.asarray(S)
        if S.ndim < 2:
            raise InvalidArgumentError(f"S must be at least 2-dimensional, got S.shape={S.shape}")
        if n_fft is None or n_fft // 2 + 1 != S.shape[-2]:
            n_fft = 2 * (S.shape[-2] - 1)
        basis = filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk,
                            norm=norm, dtype=dtype)
        return np.einsum("...ft,mf->...mt", S, basis, optimize=True)
    if y is None:
        raise InvalidArgumentError("Input signal must be provided to compute a spectrogram")
    cast = None
    if dtype is not np.float32:
        cast = np.dtype(dtype)
        if cast not in (np.float32, np.float64):
            raise InvalidArgumentError(f"dtype = {dtype!r}: the filterbank is float32 or float64")
    result = _run(MelSpectrogram, y, None, dict(
        sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
        center=center, pad_mode=pad_mode, power=power, n_mels=n_mels, fmin=fmin, fmax=fmax,
        htk=htk, norm=norm, device=device))
    # float64: a cast of the float32 result (within the parity tolerance of librosa's float64)
    return result if cast is None or cast == np.float32 else result.astype(cast)


def stft(y, *, n_fft=2048, hop_length=None, win_length=None, window="hann", center=True,
         dtype=None, pad_mode="constant", out=None, device="auto"):
    """librosa.stft(y, ...): complex64 (..., 1 + n_fft // 2, t).

    dtype: None (complex64) or a complex dtype the result is cast to (complex128).
    out: as librosa, a complex array whose shape matches but for a last axis at least t long;
    its first t columns are filled and returned (out itself when it has exactly t).
    """
    kwargs = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                  center=center, pad_mode=pad_mode, device=device)
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.complexfloating):
        raise InvalidArgumentError(f"dtype = {dtype!r} is not a complex type")
    if out is None or not isinstance(out, np.ndarray):
        result = _run(STFT, y, out, kwargs)
        return result if dtype is None else result.astype(dtype, copy=False)
    if not np.iscomplexobj(out):
        raise InvalidArgumentError(f"output with dtype={out.dtype} is not of complex type")
    result = _run(STFT, y, None, kwargs)
    shape = result.shape
    if out.shape[:-1] != shape[:-1] or out.shape[-1] < shape[-1]:
        raise InvalidArgumentError(f"Shape mismatch for provided output array "
                                   f"out.shape={out.shape} and target shape={list(shape)}")
    target = out if out.shape == shape else out[..., :shape[-1]]
    target[...] = result
    return target
