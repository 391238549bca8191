"""librosa-shaped functions. Each call uses a plan from a small per-thread cache keyed by the
arguments, so a loop of identical calls plans once (plans are single-thread objects, hence
per thread)."""
import collections
import threading

import numpy as np

from . import _arrays
from ._plan import STFT, MelSpectrogram

_CACHE_SIZE = 4
_local = threading.local()


def _plan(cls, kwargs, slot="plans", size=_CACHE_SIZE, key=None):
    """The cached plan for (cls, kwargs) in this thread's cache `slot` (melspec.torch keeps its
    own, larger one: a model holds more configurations than a loop of function calls, and
    passes a key it built faster than sorting kwargs)."""
    try:
        if key is None:
            key = (cls, tuple(sorted(kwargs.items())))
        hash(key)
    except TypeError:  # an unhashable argument (e.g. an array as window): plan without caching
        return cls(**kwargs), False
    cache = getattr(_local, slot, None)
    if cache is None:
        cache = collections.OrderedDict()
        setattr(_local, slot, cache)
    plan = cache.get(key)
    if plan is not None:
        cache.move_to_end(key)
        return plan, True
    plan = cls(**kwargs)
    cache[key] = plan
    if len(cache) > size:
        cache.popitem(last=False)[1].close()
    return plan, True


def _run(cls, y, out, kwargs):
    if type(y) is not np.ndarray:
        if _arrays.compiling(y):  # inside torch.compile: the traceable custom operators
            from .torch import traced_call
            return traced_call(cls, y, out, kwargs)
        # a CUDA tensor's plan runs on its device: one plan per device
        kwargs["device"] = _arrays.plan_device(y, kwargs["device"])
    plan, cached = _plan(cls, kwargs)
    try:
        return plan(y, out=out)
    finally:
        if not cached:
            plan.close()


def melspectrogram(y, *, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann",
                   center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None,
                   htk=False, norm="slaney", device="auto"):
    """librosa.feature.melspectrogram(y=y, ...): float32 (..., n_mels, t).

    y: float (..., n_samples) numpy array (or a float32 CUDA array on a GPU plan). Values are
    computed in float32 (librosa computes float64 input in float64). device: "auto" (GPU when
    the library has one), "cpu", "cuda" or "cuda:N".
    """
    return _run(MelSpectrogram, y, None, dict(
        sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
        center=center, pad_mode=pad_mode, power=power, n_mels=n_mels, fmin=fmin, fmax=fmax,
        htk=htk, norm=norm, device=device))


def stft(y, *, n_fft=2048, hop_length=None, win_length=None, window="hann", center=True,
         pad_mode="constant", out=None, device="auto"):
    """librosa.stft(y, ...): complex64 (..., 1 + n_fft // 2, t)."""
    return _run(STFT, y, out, dict(
        n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center,
        pad_mode=pad_mode, device=device))
