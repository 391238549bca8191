"""melspec for PyTorch: custom operators that torch.compile can trace, and nn.Modules.

    import melspec.torch                                  # imports torch (melspec never does)
    S = melspec.torch.melspectrogram(x, sr=16000, n_mels=80)  # torch.ops.melspec.melspectrogram
    mel = melspec.torch.MelSpectrogram(sample_rate=16000, n_fft=400, n_mels=80)  # torchaudio's args
    S = mel(x)                                              # (..., time) -> (..., n_mels, frames)

The operators ``torch.ops.melspec.melspectrogram``, ``.stft`` and ``.cqt`` are
``torch.library.custom_op``s with a fake (meta) implementation, so torch.compile and
torch.export see their output shapes and dtypes without running them. A CPU tensor is computed
on the CPU backend, a CUDA tensor on its own device on torch.cuda.current_stream(), and the
result is a tensor on the input's device, allocated by torch. Plans are cached per thread by
(configuration, device), so a compiled function (or a module called in a loop) plans once.

The operators are not differentiable: their results never require grad.
"""
from typing import Optional

import torch

from . import _functions
from ._cqt import CQT as _CQTPlan
from ._errors import InvalidArgumentError
from ._plan import STFT as _STFTPlan
from ._plan import MelSpectrogram as _MelPlan
from .presets import get as _get_preset

_PLAN_CACHE = "torch_plans"   # this module's per-thread cache in melspec._functions
_PLAN_CACHE_SIZE = 32         # configurations x devices a model may use at once
Tensor = torch.Tensor


def _device_of(y):
    """Where the plan for y runs: the tensor's own device (a CPU tensor on the CPU backend, as
    torch computes there; melspec.melspectrogram's "auto" would pick the GPU)."""
    if y.device.type == "cuda":
        index = y.device.index
        return f"cuda:{torch.cuda.current_device() if index is None else index}"
    return "cpu"


def _plan(cls, kwargs, device="cpu"):
    # kwargs are built by _mel_kwargs & co. in one fixed order: their values are the key
    key = (cls, device, tuple(kwargs.values()))
    plan, _ = _functions._plan(cls, dict(kwargs, device=device), slot=_PLAN_CACHE,
                               size=_PLAN_CACHE_SIZE, key=key)
    return plan


def _run(cls, y, kwargs):
    return _plan(cls, kwargs, _device_of(y))(y)


def _fake_shape(cls, y, kwargs):
    """The output shape for y without computing: the CPU plan of the same configuration answers
    for a concrete length; a symbolic length (torch.compile with dynamic shapes) uses the
    library's frame rule, 1 + (n + 2 * pad - n_fft) // hop (pad = n_fft // 2 when centred),
    which tests/python/test_torch.py checks against the library for many lengths. The CQT's
    frame count depends on its octave resampling: a symbolic length is specialized."""
    plan = _plan(cls, kwargs)
    n = y.shape[-1]
    if isinstance(n, int):
        return tuple(y.shape[:-1]) + plan.output_shape(n)[-2:]
    params = plan.params
    if cls is _CQTPlan:
        return tuple(y.shape[:-1]) + plan.output_shape(int(n))[-2:]
    n_bins = params["n_mels"] if cls is _MelPlan else 1 + params["n_fft"] // 2
    pad = params["n_fft"] // 2 if params["center"] else 0
    torch._check(n + 2 * pad >= params["n_fft"])
    frames = 1 + (n + 2 * pad - params["n_fft"]) // params["hop_length"]
    dims = (frames, n_bins) if plan._frames_major else (n_bins, frames)
    return tuple(y.shape[:-1]) + dims


def _fake(cls, y, kwargs):
    return y.new_empty(_fake_shape(cls, y, kwargs), dtype=_torch_dtype(_plan(cls, kwargs)))


def _torch_dtype(plan):
    from ._arrays import torch_dtype
    return torch_dtype(torch, plan._dtype)


# ---- the operators -----------------------------------------------------------------------------


def _mel_kwargs(sr, n_fft, hop_length, win_length, window, center, pad_mode, power, n_mels,
                fmin, fmax, htk, norm, layout):
    return dict(sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                window=window, center=center, pad_mode=pad_mode, power=power, n_mels=n_mels,
                fmin=fmin, fmax=fmax, htk=htk, norm=norm, layout=layout)


@torch.library.custom_op("melspec::melspectrogram", mutates_args=())
def _melspectrogram_op(y: Tensor, sr: float, n_fft: int, hop_length: int,
                       win_length: Optional[int], window: str, center: bool, pad_mode: str,
                       power: float, n_mels: int, fmin: float, fmax: Optional[float], htk: bool,
                       norm: Optional[str], layout: str) -> Tensor:
    return _run(_MelPlan, y, _mel_kwargs(sr, n_fft, hop_length, win_length, window, center,
                                         pad_mode, power, n_mels, fmin, fmax, htk, norm, layout))


@_melspectrogram_op.register_fake
def _(y, sr, n_fft, hop_length, win_length, window, center, pad_mode, power, n_mels, fmin,
      fmax, htk, norm, layout):
    return _fake(_MelPlan, y, _mel_kwargs(sr, n_fft, hop_length, win_length, window, center,
                                          pad_mode, power, n_mels, fmin, fmax, htk, norm, layout))


def _stft_kwargs(n_fft, hop_length, win_length, window, center, pad_mode, layout):
    return dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                center=center, pad_mode=pad_mode, layout=layout)


@torch.library.custom_op("melspec::stft", mutates_args=())
def _stft_op(y: Tensor, n_fft: int, hop_length: Optional[int], win_length: Optional[int],
             window: str, center: bool, pad_mode: str, layout: str) -> Tensor:
    return _run(_STFTPlan, y, _stft_kwargs(n_fft, hop_length, win_length, window, center,
                                           pad_mode, layout))


@_stft_op.register_fake
def _(y, n_fft, hop_length, win_length, window, center, pad_mode, layout):
    return _fake(_STFTPlan, y, _stft_kwargs(n_fft, hop_length, win_length, window, center,
                                            pad_mode, layout))


def _cqt_kwargs(sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, gamma,
                norm, sparsity, window, scale, pad_mode, output, layout):
    # norm travels as a float (the schema has no "1, 2, inf or None" type): inf is np.inf
    return dict(sr=sr, hop_length=hop_length, fmin=fmin, n_bins=n_bins,
                bins_per_octave=bins_per_octave, tuning=tuning, filter_scale=filter_scale,
                gamma=gamma, norm=norm, sparsity=sparsity, window=window, scale=scale,
                pad_mode=pad_mode, output=output, layout=layout)


@torch.library.custom_op("melspec::cqt", mutates_args=())
def _cqt_op(y: Tensor, sr: float, hop_length: int, fmin: Optional[float], n_bins: int,
            bins_per_octave: int, tuning: float, filter_scale: float, gamma: Optional[float],
            norm: Optional[float], sparsity: float, window: str, scale: bool, pad_mode: str,
            output: str, layout: str) -> Tensor:
    return _run(_CQTPlan, y, _cqt_kwargs(sr, hop_length, fmin, n_bins, bins_per_octave, tuning,
                                         filter_scale, gamma, norm, sparsity, window, scale,
                                         pad_mode, output, layout))


@_cqt_op.register_fake
def _(y, sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, gamma, norm,
      sparsity, window, scale, pad_mode, output, layout):
    return _fake(_CQTPlan, y, _cqt_kwargs(sr, hop_length, fmin, n_bins, bins_per_octave, tuning,
                                          filter_scale, gamma, norm, sparsity, window, scale,
                                          pad_mode, output, layout))


# ---- librosa-shaped functions over the operators -------------------------------------------------


def _librosa_mel_kwargs(*, sr=22050, n_fft=2048, hop_length=512, win_length=None,
                        window="hann", center=True, pad_mode="constant", power=2.0, n_mels=128,
                        fmin=0.0, fmax=None, htk=False, norm="slaney", layout="bins_major"):
    """melspec.melspectrogram's keyword arguments and defaults as the operator's arguments."""
    return _mel_kwargs(float(sr), n_fft, hop_length, win_length, window, bool(center),
                       pad_mode, float(power), n_mels, float(fmin),
                       None if fmax is None else float(fmax), bool(htk), norm, layout)


_dispatch_modes = getattr(torch._C, "_len_torch_dispatch_stack", lambda: 1)
_function_modes = getattr(torch._C, "_len_torch_function_stack", lambda: 1)


def _plain_eager(y):
    """True when calling an operator would only reach its eager body: a plain tensor, no
    compilation or tracing, no mode, no autograd. The functions and modules then run that body
    directly, skipping the dispatcher's ~30 us (bench/python_overhead.py); anything else
    (torch.compile, export, make_fx, fake or meta tensors) goes through torch.ops.melspec."""
    return (type(y) is torch.Tensor and y.device.type in ("cpu", "cuda")
            and not torch.compiler.is_compiling()
            and not (y.requires_grad and torch.is_grad_enabled())
            and not _dispatch_modes() and not _function_modes())


def _call_mel(y, k):
    if _plain_eager(y):
        return _run(_MelPlan, y, k)
    return torch.ops.melspec.melspectrogram(
        y, k["sr"], k["n_fft"], k["hop_length"], k["win_length"], k["window"], k["center"],
        k["pad_mode"], k["power"], k["n_mels"], k["fmin"], k["fmax"], k["htk"], k["norm"],
        k["layout"])


def melspectrogram(y, **kwargs):
    """melspec.melspectrogram(y, **kwargs) for a tensor (the same keyword arguments and
    defaults, plus layout), through torch.ops.melspec.melspectrogram: traceable by
    torch.compile."""
    return _call_mel(y, _librosa_mel_kwargs(**kwargs))


def stft(y, *, n_fft=2048, hop_length=None, win_length=None, window="hann", center=True,
         pad_mode="constant", layout="bins_major"):
    """melspec.stft for a tensor (complex64), through torch.ops.melspec.stft."""
    if _plain_eager(y):
        return _run(_STFTPlan, y, _stft_kwargs(n_fft, hop_length, win_length, window, center,
                                               pad_mode, layout))
    return torch.ops.melspec.stft(y, n_fft, hop_length, win_length, window, center, pad_mode,
                                  layout)


def _norm_value(norm):
    if norm is None:
        return None
    try:
        return float(norm)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"norm = {norm!r} is not supported (melspec implements 1, "
                                   "2, inf and None)") from None


def cqt(y, *, sr=22050, hop_length=512, fmin=None, n_bins=84, bins_per_octave=12, tuning=0.0,
        filter_scale=1, gamma=0.0, norm=1, sparsity=0.01, window="hann", scale=True,
        pad_mode="constant", output="complex", layout="bins_major"):
    """melspec.cqt for a tensor (gamma None or a number of Hz: melspec.vqt), through
    torch.ops.melspec.cqt: complex64, or float32 magnitudes with output="magnitude"."""
    return _call_cqt(y, _cqt_kwargs(
        float(sr), hop_length, None if fmin is None else float(fmin), n_bins, bins_per_octave,
        float(tuning), float(filter_scale), None if gamma is None else float(gamma),
        _norm_value(norm), float(sparsity), window, bool(scale), pad_mode, output, layout))


def _call_cqt(y, k):
    if _plain_eager(y):
        return _run(_CQTPlan, y, k)
    return torch.ops.melspec.cqt(
        y, k["sr"], k["hop_length"], k["fmin"], k["n_bins"], k["bins_per_octave"], k["tuning"],
        k["filter_scale"], k["gamma"], k["norm"], k["sparsity"], k["window"], k["scale"],
        k["pad_mode"], k["output"], k["layout"])


def traced_call(cls, y, out, kwargs):
    """melspec.melspectrogram / stft / cqt / vqt (melspec._functions) while torch.compile traces
    them: the same arguments through the operators, computed on y's device."""
    kwargs = dict(kwargs)
    kwargs.pop("device", None)
    if cls is _MelPlan:
        result = melspectrogram(y, **kwargs)
    elif cls is _STFTPlan:
        result = stft(y, **kwargs)
    elif cls is _CQTPlan:
        res_type, dtype = kwargs.pop("res_type", None), kwargs.pop("dtype", None)
        if res_type not in ("soxr_hq", None) or dtype not in (None, torch.complex64, "complex64"):
            raise InvalidArgumentError(f"res_type = {res_type!r}, dtype = {dtype!r}: melspec "
                                       "computes the CQT with soxr_hq resampling in complex64")
        result = cqt(y, **kwargs)
    else:
        raise InvalidArgumentError(f"{cls.__name__} has no torch operator: call it outside "
                                   "torch.compile, or through melspec.torch")
    if out is not None:
        out.copy_(result)
        return out
    return result


# ---- modules -----------------------------------------------------------------------------------

_TORCH_PAD_MODES = {"reflect": "reflect", "constant": "constant", "replicate": "edge",
                    "edge": "edge"}


def _window_name(window_fn, wkwargs, win_length):
    """The melspec window that window_fn(win_length, **wkwargs) computes: torch.hann_window,
    hamming_window and torch.ones (periodic; or any function giving the same values), compared
    against the library's own windows."""
    values = window_fn(win_length, **(wkwargs or {}))
    values = torch.as_tensor(values, dtype=torch.float64).cpu().numpy()
    for name in ("hann", "hamming", "boxcar"):
        with _STFTPlan(n_fft=win_length, window=name, device="cpu") as plan:
            reference = plan.window()
        if values.shape == reference.shape and abs(values - reference).max() <= 1e-6:
            return name
    raise InvalidArgumentError(
        f"window_fn = {getattr(window_fn, '__name__', window_fn)!r} (wkwargs {wkwargs!r}) does "
        "not compute a window melspec implements: periodic Hann (torch.hann_window), periodic "
        "Hamming (torch.hamming_window) or rectangular (torch.ones)")


class MelSpectrogram(torch.nn.Module):
    """torchaudio.transforms.MelSpectrogram's constructor and call, with librosa's numbers.

    Arguments (torchaudio's names and defaults): sample_rate, n_fft, win_length (None: n_fft),
    hop_length (None: win_length // 2), f_min, f_max (None: sample_rate / 2), pad (zeros on
    both sides first), n_mels, window_fn (torch.hann_window, torch.hamming_window, torch.ones;
    periodic), power (a positive number: 1 magnitude, 2 power), normalized (False only), wkwargs,
    center, pad_mode ("reflect", "constant", "replicate"), onesided (None or True), norm (None or
    "slaney"), mel_scale ("htk" or "slaney"). Plus layout: "bins_major" (..., n_mels, frames),
    torchaudio's, or "frames_major" (..., frames, n_mels).

    forward(waveform): (..., time) on the CPU or CUDA -> float32 on the same device. There are
    no parameters or buffers to move: .to(device) is free, and the plan for each device the
    module sees is made once (cached per thread by configuration and device).
    """

    def __init__(self, sample_rate=16000, n_fft=400, win_length=None, hop_length=None,
                 f_min=0.0, f_max=None, pad=0, n_mels=128, window_fn=torch.hann_window,
                 power=2.0, normalized=False, wkwargs=None, center=True, pad_mode="reflect",
                 onesided=None, norm=None, mel_scale="htk", *, layout="bins_major"):
        super().__init__()
        if normalized is not False:
            raise InvalidArgumentError(f"normalized = {normalized!r}: melspec computes librosa's "
                                       "unnormalized STFT (normalized=False)")
        if onesided not in (None, True):
            raise InvalidArgumentError(f"onesided = {onesided!r}: melspec computes the one-sided"
                                       " spectrum")
        if power is None:
            raise InvalidArgumentError("power = None (a complex spectrogram) has no mel "
                                       "spectrogram: use melspec.torch.stft")
        if pad_mode not in _TORCH_PAD_MODES:
            raise InvalidArgumentError(f"pad_mode = {pad_mode!r} is not supported (melspec knows"
                                       f" {', '.join(map(repr, _TORCH_PAD_MODES))})")
        if mel_scale not in ("htk", "slaney"):
            raise InvalidArgumentError(f"mel_scale = {mel_scale!r}: 'htk' or 'slaney'")
        if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
            raise InvalidArgumentError(f"pad = {pad!r} must be a non-negative integer")
        win_length = n_fft if win_length is None else win_length
        self.pad = pad
        self.kwargs = _mel_kwargs(
            float(sample_rate), n_fft, win_length // 2 if hop_length is None else hop_length,
            win_length, _window_name(window_fn, wkwargs, win_length), bool(center),
            _TORCH_PAD_MODES[pad_mode], float(power), n_mels, float(f_min),
            None if f_max is None else float(f_max), mel_scale == "htk", norm, layout)
        _plan(_MelPlan, self.kwargs)  # checks the whole configuration now, as torchaudio does

    @classmethod
    def from_preset(cls, name, **overrides):
        """A module for one of melspec.presets' mel presets ("realtime", "whisper-80", ...); the
        overrides in librosa's names, as the presets are (n_mels=..., fmax=..., layout=...)."""
        preset = _get_preset(name)
        if preset.transform != "mel":
            raise InvalidArgumentError(f"preset {name!r} is a {preset.transform} preset: use "
                                       "melspec.torch.CQT")
        module = cls.__new__(cls)
        torch.nn.Module.__init__(module)
        module.pad = 0
        module.kwargs = _librosa_mel_kwargs(**dict(preset.kwargs, **overrides))
        _plan(_MelPlan, module.kwargs)
        return module

    def forward(self, waveform):
        if self.pad:
            waveform = torch.nn.functional.pad(waveform, (self.pad, self.pad))
        return _call_mel(waveform, self.kwargs)

    def extra_repr(self):
        return ", ".join(f"{key}={value!r}" for key, value in self.kwargs.items())


class CQT(torch.nn.Module):
    """The constant-Q (or variable-Q) transform as a module, with librosa.cqt's arguments and
    numbers: forward(waveform (..., time)) -> (..., n_bins, frames) on the input's device.

    output: "magnitude" (float32 |C|, what CQT images and models use; the default here) or
    "complex" (complex64, librosa.cqt's return). gamma: 0 (CQT), a number of Hz, or None
    (librosa.vqt's ERB default). tuning must be a number; res_type is librosa's soxr_hq.
    """

    def __init__(self, sr=22050, hop_length=512, fmin=None, n_bins=84, bins_per_octave=12,
                 tuning=0.0, filter_scale=1, gamma=0.0, norm=1, sparsity=0.01, window="hann",
                 scale=True, pad_mode="constant", output="magnitude", *, layout="bins_major"):
        super().__init__()
        self.kwargs = _cqt_kwargs(
            float(sr), hop_length, None if fmin is None else float(fmin), n_bins,
            bins_per_octave, float(tuning), float(filter_scale),
            None if gamma is None else float(gamma), _norm_value(norm), float(sparsity), window,
            bool(scale), pad_mode, output, layout)
        _plan(_CQTPlan, self.kwargs)  # checks the configuration (and designs the kernels) now

    def forward(self, waveform):
        return _call_cqt(waveform, self.kwargs)

    def extra_repr(self):
        return ", ".join(f"{key}={value!r}" for key, value in self.kwargs.items())


__all__ = ["melspectrogram", "stft", "cqt", "MelSpectrogram", "CQT"]
