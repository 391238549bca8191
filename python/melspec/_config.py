"""The one place where Python keyword arguments become a melspec_config.

Names and defaults are librosa's; values the C struct encodes as 0 = "default" are spelled None
here, and an explicit 0 is refused (librosa refuses hop_length=0 too) instead of being silently
read as the default.
"""
import math
import operator

import numpy as np

from . import _library as L
from ._errors import InvalidArgumentError

_WINDOWS = {
    "hann": L.WINDOW_HANN, "hanning": L.WINDOW_HANN,
    "hamming": L.WINDOW_HAMMING, "hamm": L.WINDOW_HAMMING,
    "boxcar": L.WINDOW_RECTANGULAR, "box": L.WINDOW_RECTANGULAR, "ones": L.WINDOW_RECTANGULAR,
    "rect": L.WINDOW_RECTANGULAR, "rectangular": L.WINDOW_RECTANGULAR,
}
_PAD_MODES = {"constant": L.PAD_CONSTANT, "reflect": L.PAD_REFLECT, "edge": L.PAD_EDGE}
_SCALINGS = {
    None: L.SCALING_NONE, "none": L.SCALING_NONE,
    "power_to_db": L.SCALING_POWER_TO_DB, "amplitude_to_db": L.SCALING_AMPLITUDE_TO_DB,
    "log": L.SCALING_LOG,
}
_LAYOUTS = {"bins_major": L.LAYOUT_BINS_MAJOR, "frames_major": L.LAYOUT_FRAMES_MAJOR}
_DTYPES = {"float32": L.DTYPE_FLOAT32, "float16": L.DTYPE_FLOAT16}

_INT64_MAX = 2 ** 63 - 1


def _fail(message):
    raise InvalidArgumentError(message)


def _integer(name, value, *, positive=False):
    if isinstance(value, bool):
        _fail(f"{name} = {value!r} must be an integer")
    try:
        value = operator.index(value)
    except TypeError:
        _fail(f"{name} = {value!r} must be an integer")
    if not -_INT64_MAX <= value <= _INT64_MAX:
        _fail(f"{name} = {value} does not fit in 64 bits")
    if positive and value <= 0:
        _fail(f"{name} = {value} must be a positive integer")
    return value


def _real(name, value):
    if isinstance(value, (str, bytes, bool)) or value is None:
        _fail(f"{name} = {value!r} must be a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        _fail(f"{name} = {value!r} must be a number")


def _choice(name, value, table):
    key = value.lower() if isinstance(value, str) else value
    try:
        return table[key]
    except (KeyError, TypeError):
        pass
    known = ", ".join(repr(k) for k in table if k is not None)
    _fail(f"{name} = {value!r} is not supported (melspec knows {known})")


def _device(device):
    if not isinstance(device, str):
        _fail(f"device = {device!r} must be 'auto', 'cpu', 'cuda' or 'cuda:N'")
    name, _, ordinal = device.lower().partition(":")
    if name == "cuda" and ordinal:
        if not ordinal.isdigit() or int(ordinal) > 2 ** 31 - 1:
            _fail(f"device = {device!r}: the CUDA device number must be a non-negative integer")
        return L.BACKEND_CUDA, int(ordinal)
    if not ordinal and name in ("auto", "cpu", "cuda"):
        return {"auto": L.BACKEND_AUTO, "cpu": L.BACKEND_CPU, "cuda": L.BACKEND_CUDA}[name], 0
    _fail(f"device = {device!r} must be 'auto', 'cpu', 'cuda' or 'cuda:N'")


def _ref(ref):
    """ref is a number (REF_VALUE) or np.max (REF_MAX), as in librosa.power_to_db."""
    if ref is np.max or ref is np.amax or ref is max or (isinstance(ref, str) and ref == "max"):
        return L.REF_MAX, 1.0
    if callable(ref):
        _fail(f"ref = {ref!r}: the library computes a number or np.max (each clip's maximum); "
              "for another statistic, scale the output with melspec.power_to_db(S, ref=...)")
    return L.REF_VALUE, abs(_real("ref", ref))


def _dtype(dtype):
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in _DTYPES:
        _fail(f"dtype = {dtype!r} is not supported (float32 or float16)")
    return _DTYPES[name]


def build(transform, *, sr=22050.0, n_fft=2048, hop_length=None, win_length=None, window="hann",
          center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None,
          htk=False, norm="slaney", scaling=None, ref=1.0, amin=None, top_db=80.0,
          log_offset=1e-6, layout="bins_major", dtype="float32", device="auto", max_batch=None,
          max_samples=None):
    """A melspec_config for one transform from librosa-style keyword arguments."""
    config = L.Config()
    L.lib.config_init(config)
    config.transform = transform
    config.sample_rate = _real("sr", sr)
    config.n_fft = _integer("n_fft", n_fft)
    if hop_length is not None:
        config.hop_length = _integer("hop_length", hop_length, positive=True)
    if win_length is not None:
        config.win_length = _integer("win_length", win_length, positive=True)
    config.window = _choice("window", window, _WINDOWS)
    config.center = 1 if center else 0
    config.pad_mode = _choice("pad_mode", pad_mode, _PAD_MODES)
    if transform != L.TRANSFORM_STFT:
        config.power = _real("power", power)
    if transform == L.TRANSFORM_MEL:
        config.n_mels = _integer("n_mels", n_mels)
        config.fmin = _real("fmin", fmin)
        if fmax is not None:
            config.fmax = _real("fmax", fmax)
            if not config.fmax > 0.0:
                _fail(f"fmax = {fmax!r} Hz must be positive (None means sr / 2)")
        config.mel_scale = L.MEL_SCALE_HTK if htk else L.MEL_SCALE_SLANEY
        if norm is None:
            config.mel_norm = L.MEL_NORM_NONE
        elif isinstance(norm, str) and norm == "slaney":
            config.mel_norm = L.MEL_NORM_SLANEY
        else:
            _fail(f"norm = {norm!r} is not supported (melspec implements 'slaney' and None)")
    config.scaling = _choice("scaling", scaling, _SCALINGS)
    config.ref_mode, config.ref = _ref(ref)
    if amin is not None:
        config.amin = _real("amin", amin)
        if not config.amin > 0.0:
            _fail(f"amin = {amin!r} must be strictly positive (None means librosa's default)")
    config.top_db = math.inf if top_db is None else _real("top_db", top_db)
    config.log_offset = _real("log_offset", log_offset)
    config.layout = _choice("layout", layout, _LAYOUTS)
    if transform != L.TRANSFORM_STFT:
        config.output_dtype = _dtype(dtype)
    config.backend, config.device_ordinal = _device(device)
    if max_batch is not None:
        config.max_batch = _integer("max_batch", max_batch, positive=True)
    if max_samples is not None:
        config.max_samples = _integer("max_samples", max_samples, positive=True)
    return config


# ---- the feature stage (issue 15): librosa.feature.mfcc's and librosa.pcen's arguments -----------

_DCT_NORMS = {"ortho": L.DCT_NORM_ORTHO, None: L.DCT_NORM_NONE, "backward": L.DCT_NORM_NONE}


def mfcc(config, *, n_mfcc=20, dct_type=2, norm="ortho", lifter=0.0):
    """Adds librosa.feature.mfcc's DCT stage to a config made by build()."""
    config.feature = L.FEATURE_MFCC
    config.n_mfcc = _integer("n_mfcc", n_mfcc, positive=True)
    config.mfcc_dct_type = _integer("dct_type", dct_type)
    if config.mfcc_dct_type not in (1, 2, 3):
        _fail(f"dct_type = {dct_type!r} must be 1, 2 or 3")
    if not (norm is None or isinstance(norm, str)) or norm not in _DCT_NORMS:
        _fail(f"norm = {norm!r} is not supported for the DCT (melspec implements 'ortho' and None)")
    config.mfcc_norm = _DCT_NORMS[norm]
    config.mfcc_lifter = _real("lifter", lifter)
    if not config.mfcc_lifter >= 0.0:
        _fail(f"MFCC lifter={lifter} must be a non-negative number")
    return config


def pcen(config, *, gain=0.98, bias=2.0, power=0.5, time_constant=0.4, eps=1e-6, b=None,
         max_size=1):
    """Adds librosa.pcen's stage to a config made by build() (b None: from time_constant)."""
    config.feature = L.FEATURE_PCEN
    config.pcen_gain = _real("gain", gain)
    config.pcen_bias = _real("bias", bias)
    config.pcen_power = _real("power", power)
    config.pcen_time_constant = _real("time_constant", time_constant)
    config.pcen_eps = _real("eps", eps)
    if b is not None:
        config.pcen_b = _real("b", b)
        if not 0.0 <= config.pcen_b <= 1.0:
            _fail(f"b={b} must be between 0 and 1")
    config.pcen_max_size = _integer("max_size", max_size, positive=True)
    return config
