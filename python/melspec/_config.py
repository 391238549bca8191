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

# scipy.signal.get_window's names (and aliases) of the windows the library designs in C, with how
# many parameters each takes and scipy's defaults for the optional ones (None: required).
_WINDOWS = {}
for _names, _kind, _defaults in (
        (("hann", "han"), L.WINDOW_HANN, ()),
        (("hamming", "hamm", "ham"), L.WINDOW_HAMMING, ()),
        (("boxcar", "box", "ones", "rect", "rectangular"), L.WINDOW_RECTANGULAR, ()),
        (("blackman", "black", "blk"), L.WINDOW_BLACKMAN, ()),
        (("blackmanharris", "blackharr", "bkh"), L.WINDOW_BLACKMANHARRIS, ()),
        (("nuttall", "nutl", "nut"), L.WINDOW_NUTTALL, ()),
        (("flattop", "flat", "flt"), L.WINDOW_FLATTOP, ()),
        (("bartlett", "bart", "brt"), L.WINDOW_BARTLETT, ()),
        (("triangle", "triang", "tri"), L.WINDOW_TRIANG, ()),
        (("barthann", "brthan", "bth"), L.WINDOW_BARTHANN, ()),
        (("bohman", "bman", "bmn"), L.WINDOW_BOHMAN, ()),
        (("cosine", "halfcosine"), L.WINDOW_COSINE, ()),
        (("parzen", "parz", "par"), L.WINDOW_PARZEN, ()),
        (("lanczos", "sinc"), L.WINDOW_LANCZOS, ()),
        (("exponential", "poisson"), L.WINDOW_EXPONENTIAL, ()),
        (("kaiser", "ksr"), L.WINDOW_KAISER, (None,)),
        (("gaussian", "gauss", "gss"), L.WINDOW_GAUSSIAN, (None,)),
        (("general hamming", "general_hamming"), L.WINDOW_GENERAL_HAMMING, (None,)),
        (("tukey", "tuk"), L.WINDOW_TUKEY, (0.5,)),
        (("general gaussian", "general_gaussian", "general gauss", "general_gauss", "ggs"),
         L.WINDOW_GENERAL_GAUSSIAN, (None, None)),
        (("taylor", "taylorwin"), L.WINDOW_TAYLOR, (4, 30, True)),
):
    for _name in _names:
        _WINDOWS[_name] = (_kind, _defaults)
# "hanning" is numpy's name, kept for callers of melspec 0.1.
_WINDOWS["hanning"] = _WINDOWS["hann"]
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


def _flag(name, value):
    """A bool argument (center, htk, scale): True or False, numpy's bools, or the ints 0 and 1.
    Anything else (a numpy array, whose truth value is ambiguous, None, a string) is refused."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    _fail(f"{name} = {value!r} must be True or False")


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


# -- librosa's parameter space (issue 15): window specifications and numeric mel norms --

def _scipy_window(window, win_length, error):
    """A window scipy.signal.get_window knows but the library does not design (chebwin, dpss,
    general_cosine, ...): scipy's own samples, when scipy is installed (librosa needs it)."""
    try:
        import scipy.signal
    except ImportError:
        raise error from None
    try:
        return scipy.signal.get_window(window, win_length, fftbins=True)
    except ValueError as scipy_error:
        raise InvalidArgumentError(f"window = {window!r}: {scipy_error}") from None


def resolve_window(window, win_length):
    """librosa.filters.get_window's reading of a window spec: (kind, params, samples or None).

    Strings and (name, *params) tuples of scipy.signal.get_window, a number (a kaiser beta), a
    callable (called with win_length, as librosa does) or an array of win_length samples."""
    if callable(window):
        try:
            samples = window(win_length)
        except (TypeError, ValueError) as error:  # e.g. builtins.max: "'int' is not iterable"
            raise InvalidArgumentError(f"window = {window!r}: a callable window is called with "
                                       f"win_length ({win_length}) and failed: {error}") from error
        return L.WINDOW_CUSTOM, (), _window_samples(samples, win_length, window)
    if isinstance(window, (np.ndarray, list)):
        return L.WINDOW_CUSTOM, (), _window_samples(window, win_length, window)
    if isinstance(window, (str, tuple)):
        name = window if isinstance(window, str) else window[0] if window else None
        args = () if isinstance(window, str) else tuple(window[1:])
        if not isinstance(name, str):
            _fail(f"window = {window!r}: the first entry of a window tuple is its name")
        key = name.lower()
        if key.endswith("_periodic"):
            key = key[:-len("_periodic")]
        known = _WINDOWS.get(key)
        refusal = InvalidArgumentError(
            f"window = {window!r} is not supported (melspec designs "
            f"{', '.join(sorted(n for n in _WINDOWS if ' ' not in n))}, takes arrays and "
            "callables, and other scipy.signal.get_window specs when scipy is installed)")
        if known is None or key.endswith("_symmetric"):
            return L.WINDOW_CUSTOM, (), _window_samples(
                _scipy_window(window, win_length, refusal), win_length, window)
        kind, defaults = known
        if len(args) > len(defaults):
            _fail(f"window = {window!r}: '{name}' takes {len(defaults)} parameter(s)")
        params = []
        for i, default in enumerate(defaults):
            value = args[i] if i < len(args) else default
            if value is None:
                _fail(f"window = {window!r}: '{name}' must have parameters, e.g. ('{name}', "
                      f"{', '.join('x' for d in defaults if d is None)})")
            if isinstance(value, (bool, np.bool_)):  # taylor's norm
                value = float(value)
            params.append(_real(f"window = {window!r}: parameter {i + 1}", value))
        return kind, tuple(params), None
    if np.isscalar(window) and not isinstance(window, (bytes, bool)):
        return L.WINDOW_KAISER, (_real("window (a kaiser beta)", window),), None
    _fail(f"Invalid window specification: {window!r}")


def _window_samples(samples, win_length, window):
    samples = np.asarray(samples)
    if samples.ndim != 1 or not np.issubdtype(samples.dtype, np.number) \
            or np.iscomplexobj(samples):
        _fail(f"window: an array window must be one-dimensional and real, got shape "
              f"{samples.shape} and dtype {samples.dtype}")
    if len(samples) != win_length:
        _fail(f"Window size mismatch: {len(samples):d} != {win_length:d}")
    return np.ascontiguousarray(samples, dtype=np.float64)


def mel_norm(norm):
    """(melspec_mel_norm, p) for librosa.filters.mel's norm: None, "slaney" or a number."""
    if norm is None:
        return L.MEL_NORM_NONE, 0.0
    if isinstance(norm, str):
        if norm == "slaney":
            return L.MEL_NORM_SLANEY, 0.0
        _fail(f"Unsupported norm={norm}")
    # librosa.util.normalize: a positive number, 0, or +-inf
    if isinstance(norm, (bool, np.bool_, complex, np.complexfloating)) \
            or not np.issubdtype(type(norm), np.number):
        _fail(f"Unsupported norm: {norm!r}")
    p = float(norm)
    if math.isnan(p) or (math.isfinite(p) and p < 0):
        _fail(f"Unsupported norm: {norm!r}")
    return L.MEL_NORM_P, p


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
    length = config.win_length if config.win_length else config.n_fft
    # an n_fft the library refuses is reported by it; the window cannot be sized then
    kind, params, samples = resolve_window(window, length) if length > 0 else (L.WINDOW_HANN, (),
                                                                               None)
    config.window = kind
    for i, value in enumerate(params):
        config.window_params[i] = value
    if samples is not None:
        config._window_samples = samples  # for melspec_plan_create_with_window (_plan.py)
    config.center = 1 if _flag("center", center) else 0
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
        config.mel_scale = L.MEL_SCALE_HTK if _flag("htk", htk) else L.MEL_SCALE_SLANEY
        config.mel_norm, config.mel_norm_p = mel_norm(norm)
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
