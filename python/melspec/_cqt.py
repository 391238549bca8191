"""The constant-Q transform: ``melspec.cqt`` (librosa.cqt's numbers), ``melspec.vqt``
(librosa.vqt's) and the reusable plan ``melspec.CQT``.

The C side is melspec_cqt_plan_create with a melspec_cqt_config (include/melspec.h); execution,
output shapes and errors are the plan family's, so CQT is a _Plan subclass that only differs in
how it is created and described. The config mirror is checked against the library's
melspec_cqt_config_size() at import, like melspec_config's.
"""
import ctypes
import warnings
import weakref

import numpy as np

from . import _config
from . import _library as L
from ._errors import InvalidArgumentError, LibraryMismatchError, Status, error_for_status
from ._functions import _run
from ._plan import _MESSAGE_CAPACITY, _Plan


class CqtConfig(ctypes.Structure):
    """Field for field the C declaration of melspec_cqt_config."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("output", ctypes.c_int32),
        ("sample_rate", ctypes.c_double),
        ("hop_length", ctypes.c_int64),
        ("fmin", ctypes.c_double),
        ("n_bins", ctypes.c_int64),
        ("bins_per_octave", ctypes.c_int64),
        ("tuning", ctypes.c_double),
        ("filter_scale", ctypes.c_double),
        ("gamma", ctypes.c_double),
        ("gamma_mode", ctypes.c_int32),
        ("norm", ctypes.c_int32),
        ("window", ctypes.c_int32),
        ("scale", ctypes.c_int32),
        ("sparsity", ctypes.c_double),
        ("pad_mode", ctypes.c_int32),
        ("scaling", ctypes.c_int32),
        ("ref_mode", ctypes.c_int32),
        ("ref", ctypes.c_double),
        ("amin", ctypes.c_double),
        ("top_db", ctypes.c_double),
        ("log_offset", ctypes.c_double),
        ("layout", ctypes.c_int32),
        ("backend", ctypes.c_int32),
        ("device_ordinal", ctypes.c_int32),
        ("fixed_memory", ctypes.c_int32),
        ("max_batch", ctypes.c_int64),
        ("max_samples", ctypes.c_int64),
        # -- librosa's parameter space (issue 15) --
        ("res_type", ctypes.c_int32),
    ]

    def as_dict(self):
        return {name: getattr(self, name) for name, _ in self._fields_}


CQT_CONFIG_SIZE = ctypes.sizeof(CqtConfig)
OUTPUT_COMPLEX, OUTPUT_MAGNITUDE = 0, 1
NORM_L1, NORM_L2, NORM_MAX, NORM_NONE = 0, 1, 2, 3
GAMMA_FIXED, GAMMA_ERB = 0, 1
_OUTPUTS = {"complex": OUTPUT_COMPLEX, "magnitude": OUTPUT_MAGNITUDE}

_p = ctypes.c_void_p
_FUNCTIONS = {
    "melspec_cqt_config_init": (None, [ctypes.POINTER(CqtConfig)]),
    "melspec_cqt_config_size": (ctypes.c_size_t, []),
    "melspec_cqt_plan_create": (ctypes.c_int, [ctypes.POINTER(_p), ctypes.POINTER(CqtConfig),
                                               ctypes.c_char_p, ctypes.c_size_t]),
    "melspec_cqt_plan_config": (ctypes.c_int, [_p, ctypes.POINTER(CqtConfig)]),
    "melspec_cqt_plan_create_with_intervals": (ctypes.c_int, [
        ctypes.POINTER(_p), ctypes.POINTER(CqtConfig), _p, ctypes.c_int64, ctypes.c_char_p,
        ctypes.c_size_t]),
    "melspec_cqt_plan_frequencies": (ctypes.c_int, [_p, _p, ctypes.c_size_t]),
}


# -- librosa's parameter space (issue 15): the resamplers melspec reproduces --
RES_TYPES = {"soxr_hq": 0, "soxr_vhq": 1, "soxr_mq": 2, "soxr_lq": 3, "soxr_qq": 4,
             "polyphase": 5}


def _res_type(res_type):
    if res_type is None:  # librosa 0.10: deprecated, means soxr_hq (cqt/vqt warn)
        return RES_TYPES["soxr_hq"]
    if isinstance(res_type, str) and res_type in RES_TYPES:
        return RES_TYPES[res_type]
    raise InvalidArgumentError(
        f"res_type = {res_type!r} is not supported: melspec reproduces "
        f"{', '.join(repr(k) for k in RES_TYPES)} (libsoxr, and scipy's resample_poly); "
        "'fft'/'scipy' (scipy.signal.resample), resampy's and samplerate's are not implemented")


def _estimated_tuning(y, sr, bins_per_octave):
    """librosa's tuning=None: estimate_tuning over the signal (every channel together)."""
    from ._pitch import estimate_tuning  # _pitch imports the plans
    if not isinstance(y, np.ndarray):
        raise InvalidArgumentError("tuning = None estimates the tuning from y on the host: pass y "
                                   "as a numpy array, or a tuning number")
    return estimate_tuning(y=y, sr=sr, bins_per_octave=bins_per_octave)


def _warn_res_type_none(res_type):
    if res_type is None:
        warnings.warn("Support for VQT with res_type=None is deprecated in librosa 0.10\n"
                      "and will be removed in version 1.0.", category=FutureWarning,
                      stacklevel=3)


def _pythagorean_intervals(bins_per_octave):
    """librosa.pythagorean_intervals(bins_per_octave, sort=True): powers of 3 folded into one
    octave, sorted."""
    log_ratios, _ = np.modf(np.arange(bins_per_octave) * np.log2(3))
    log_ratios[log_ratios < 0] += 1
    return np.power(2, np.sort(log_ratios))


def resolve_intervals(intervals, bins_per_octave):
    """(ratios or None for equal temperament, bins_per_octave) for librosa.vqt's intervals."""
    if isinstance(intervals, str):
        if intervals == "equal":
            return None, bins_per_octave
        if intervals == "pythagorean":
            bpo = _config._integer("bins_per_octave", bins_per_octave, positive=True)
            return _pythagorean_intervals(bpo), bpo
        raise InvalidArgumentError(
            f"intervals = {intervals!r} is not supported (melspec takes 'equal', 'pythagorean' "
            "and arrays of ratios; for just intonation pass librosa.plimit_intervals(...) as the "
            "array)")
    ratios = np.asarray(intervals, dtype=np.float64)
    if ratios.ndim != 1 or len(ratios) == 0:
        raise InvalidArgumentError(f"intervals must be a 1-d sequence of frequency ratios, got "
                                   f"shape {ratios.shape}")
    return np.ascontiguousarray(ratios), len(ratios)


def _numpy_dtype(dtype):
    """np.dtype(dtype), refused as an InvalidArgumentError when it is not a dtype (a number...)."""
    try:
        return np.dtype(dtype)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"dtype = {dtype!r} is not a dtype") from None


def _complex_dtype(dtype):
    """None, complex64 or complex128: the functions compute complex64 and cast to the latter."""
    if dtype is None:
        return None
    dtype = _numpy_dtype(dtype)
    if dtype not in (np.complex64, np.complex128):
        raise InvalidArgumentError(f"dtype = {dtype}: cqt/vqt return complex64 or complex128")
    return dtype


def _cast(result, dtype):
    return result if dtype is None or result.dtype == dtype else result.astype(dtype)


def _cqt_window(window):
    """The wavelets' window: the three kinds librosa's bandwidth table and the library's basis
    design know (other windows would need their bandwidth measured as librosa does)."""
    if isinstance(window, str) and window.lower() not in ("tukey", "tuk", "taylor", "taylorwin"):
        kind, params, samples = _config.resolve_window(window, 4)
        if samples is None and not params:
            return kind
    raise InvalidArgumentError(f"window = {window!r} is not supported by cqt/vqt (melspec takes "
                               "the scipy windows without parameters there: hann, hamming, "
                               "boxcar, blackman, blackmanharris, nuttall, flattop, bartlett, "
                               "triang, barthann, bohman, cosine, parzen, lanczos, exponential)")


def _bind(cdll):
    """The CQT functions of the loaded library, or None when it predates them."""
    functions = {}
    for name, (restype, argtypes) in _FUNCTIONS.items():
        function = getattr(cdll, name, None)
        if function is None:
            return None
        function.restype, function.argtypes = restype, argtypes
        functions[name[len("melspec_"):]] = function
    theirs = functions["cqt_config_size"]()
    if theirs != CQT_CONFIG_SIZE:
        raise LibraryMismatchError(
            f"{getattr(cdll, '_name', '?')} has sizeof(melspec_cqt_config) = {theirs}, this "
            f"package expects {CQT_CONFIG_SIZE}: rebuild the library and the package from the "
            "same sources", Status.ERROR_STRUCT_SIZE)
    return functions


_cqt = _bind(L.lib.cdll)


def _norm(norm):
    """librosa's norm: 1, 2, np.inf or None (the norms the wavelets support)."""
    if norm is None:
        return NORM_NONE
    if not isinstance(norm, (bool, str, bytes)):
        try:
            value = float(norm)
        except (TypeError, ValueError):
            value = None
        if value == 1.0:
            return NORM_L1
        if value == 2.0:
            return NORM_L2
        if value == np.inf:
            return NORM_MAX
    raise InvalidArgumentError(f"norm = {norm!r} is not supported (melspec implements 1, 2, "
                               "np.inf and None)")


def build(*, sr=22050, hop_length=512, fmin=None, n_bins=84, bins_per_octave=12, tuning=0.0,
          filter_scale=1, gamma=0.0, norm=1, sparsity=0.01, window="hann", scale=True,
          pad_mode="constant", res_type="soxr_hq", dtype=None, output="complex", scaling=None,
          ref=1.0, amin=None, top_db=80.0, log_offset=1e-6, layout="bins_major", device="auto",
          max_batch=None, max_samples=None):
    """A melspec_cqt_config from librosa.cqt's (or vqt's) keyword arguments and the plan options.
    gamma: 0 for the CQT, a number of Hz, or None for librosa.vqt's ERB-based default."""
    if _cqt is None:
        raise InvalidArgumentError(f"{L.lib.path} has no constant-Q transform (a library from "
                                   "before melspec_cqt_plan_create): update libmelspec",
                                   Status.ERROR_UNSUPPORTED)
    config = CqtConfig()
    _cqt["cqt_config_init"](config)
    config.output = _config._choice("output", output, _OUTPUTS)
    config.sample_rate = _config._real("sr", sr)
    config.hop_length = _config._integer("hop_length", hop_length, positive=True)
    if fmin is not None:
        # 0 is the C API's "default"; librosa refuses it, so do we
        config.fmin = _config._real("fmin", fmin)
        if not config.fmin > 0.0:
            raise InvalidArgumentError(f"fmin = {fmin!r} Hz: frequencies must be strictly "
                                       "positive (None means C1)")
    config.n_bins = _config._integer("n_bins", n_bins, positive=True)
    config.bins_per_octave = _config._integer("bins_per_octave", bins_per_octave, positive=True)
    if tuning is None:
        raise InvalidArgumentError("tuning = None: a CQT plan is made for one tuning; the "
                                   "functions cqt/vqt estimate it from y (as librosa), or pass "
                                   "melspec.estimate_tuning(y=y, sr=sr, bins_per_octave=...)")
    config.tuning = _config._real("tuning", tuning)
    config.filter_scale = _config._real("filter_scale", filter_scale)
    if not config.filter_scale > 0.0:
        raise InvalidArgumentError(f"filter_scale = {filter_scale!r} must be positive")
    if gamma is None:
        config.gamma_mode = GAMMA_ERB
    else:
        config.gamma = _config._real("gamma", gamma)
        if not config.gamma >= 0.0:
            raise InvalidArgumentError(f"gamma = {gamma!r} must be non-negative")
    config.norm = _norm(norm)
    config.sparsity = _config._real("sparsity", sparsity)
    config.window = _cqt_window(window)
    config.scale = 1 if _config._flag("scale", scale) else 0
    config.pad_mode = _config._choice("pad_mode", pad_mode, _config._PAD_MODES)
    config.res_type = _res_type(res_type)
    if dtype is not None and _numpy_dtype(dtype) != np.complex64:
        raise InvalidArgumentError(f"dtype = {dtype!r}: a CQT plan computes complex64 (the "
                                   "functions cqt/vqt cast to dtype=np.complex128)")
    config.scaling = _config._choice("scaling", scaling, _config._SCALINGS)
    config.ref_mode, config.ref = _config._ref(ref)
    if amin is not None:
        config.amin = _config._real("amin", amin)
        if not config.amin > 0.0:
            raise InvalidArgumentError(f"amin = {amin!r} must be strictly positive (None means "
                                       "librosa's default)")
    config.top_db = np.inf if top_db is None else _config._real("top_db", top_db)
    config.log_offset = _config._real("log_offset", log_offset)
    config.layout = _config._choice("layout", layout, _config._LAYOUTS)
    config.backend, config.device_ordinal = _config._device(device)
    if max_batch is not None:
        config.max_batch = _config._integer("max_batch", max_batch, positive=True)
    if max_samples is not None:
        config.max_samples = _config._integer("max_samples", max_samples, positive=True)
    return config


class CQT(_Plan):
    """A reusable constant-Q transform plan: ``plan = CQT(sr=22050, ...)``, then ``plan(y)`` as
    many times as needed, with librosa.cqt's numbers: complex64 (..., n_bins, t).

    Keyword arguments are librosa.cqt's (tuning must be a number: the functions cqt/vqt estimate
    it for None; res_type one of RES_TYPES), intervals (librosa.vqt's), plus:
    gamma (0 for the CQT; a number of Hz or None, librosa's ERB rule, for librosa.vqt),
    output ("complex", or "magnitude" for float32 np.abs(C)), the scaling stage for magnitudes
    (scaling None / "amplitude_to_db" / "power_to_db" / "log", ref a number or np.max per clip,
    amin, top_db, log_offset), layout ("bins_major" or "frames_major"), device ("auto", "cpu",
    "cuda", "cuda:N") and max_batch / max_samples (the sizes the plan's buffers start with;
    larger calls grow them).
    """

    def __init__(self, *, sr=22050, hop_length=512, fmin=None, n_bins=84, bins_per_octave=12,
                 tuning=0.0, filter_scale=1, gamma=0.0, norm=1, sparsity=0.01, window="hann",
                 scale=True, pad_mode="constant", res_type="soxr_hq", dtype=None,
                 output="complex", scaling=None, ref=1.0, amin=None, top_db=80.0,
                 log_offset=1e-6, layout="bins_major", device="auto", max_batch=None,
                 max_samples=None, intervals="equal"):
        ratios, bins_per_octave = resolve_intervals(intervals, bins_per_octave)
        self._create(ratios, build(
            sr=sr, hop_length=hop_length, fmin=fmin, n_bins=n_bins,
            bins_per_octave=bins_per_octave, tuning=tuning, filter_scale=filter_scale,
            gamma=gamma, norm=norm,
            sparsity=sparsity, window=window, scale=scale, pad_mode=pad_mode, res_type=res_type,
            dtype=dtype, output=output, scaling=scaling, ref=ref, amin=amin, top_db=top_db,
            log_offset=log_offset, layout=layout, device=device, max_batch=max_batch,
            max_samples=max_samples))

    def _create(self, ratios, config):
        message = ctypes.create_string_buffer(_MESSAGE_CAPACITY)
        handle = ctypes.c_void_p()
        if ratios is None:
            status = _cqt["cqt_plan_create"](ctypes.byref(handle), ctypes.byref(config),
                                             message, _MESSAGE_CAPACITY)
        else:
            status = _cqt["cqt_plan_create_with_intervals"](
                ctypes.byref(handle), ctypes.byref(config), ratios.ctypes.data, len(ratios),
                message, _MESSAGE_CAPACITY)
        if status != Status.OK:
            detail = message.value.decode(errors="replace") or L.lib.status_string(status)
            raise error_for_status(status, detail)
        self._handle = handle.value
        self._finalizer = weakref.finalize(self, L.lib.plan_destroy, handle.value)
        resolved = CqtConfig()
        self._check(_cqt["cqt_plan_config"](self._handle, ctypes.byref(resolved)))
        self._config = resolved
        self._backend = L.lib.plan_backend(self._handle)
        self._frames_major = resolved.layout == L.LAYOUT_FRAMES_MAJOR
        self._dtype = np.dtype(np.complex64 if resolved.output == OUTPUT_COMPLEX
                               else np.float32)
        self._reserved = (resolved.max_batch, resolved.max_samples)
        self._dims = {}
        self._stream = None

    def frequencies(self):
        """The centre frequency of every bin in Hz (librosa.cqt_frequencies, tuning applied)."""
        handle = self._live_handle()
        frequencies = np.empty(self._config.n_bins, np.float64)
        self._check(_cqt["cqt_plan_frequencies"](handle, frequencies.ctypes.data,
                                                 frequencies.nbytes))
        return frequencies

    def window(self):
        raise InvalidArgumentError("a CQT plan has one wavelet per bin, not one analysis window",
                                   Status.ERROR_UNSUPPORTED)

    def __repr__(self):
        c = getattr(self, "_config", None)
        if c is None:
            return "<melspec.CQT (not created)>"
        state = "closed" if self.closed else self.backend
        gamma = "ERB" if c.gamma_mode == GAMMA_ERB else f"{c.gamma:g}"
        return (f"<melspec.CQT {state} sr={c.sample_rate:g} hop_length={c.hop_length} "
                f"fmin={c.fmin:.6g} n_bins={c.n_bins} bins_per_octave={c.bins_per_octave} "
                f"gamma={gamma}>")


def cqt(y, *, sr=22050, hop_length=512, fmin=None, n_bins=84, bins_per_octave=12, tuning=0.0,
        filter_scale=1, norm=1, sparsity=0.01, window="hann", scale=True, pad_mode="constant",
        res_type="soxr_hq", dtype=None, device="auto"):
    """librosa.cqt(y, ...): complex64 (..., n_bins, t).

    y: float (..., n_samples) numpy array, computed in float32 (librosa computes float64 input
    in float64). tuning must be a number (librosa's None estimates it from y: call
    librosa.estimate_tuning and pass the result). device: "auto", "cpu", "cuda" or "cuda:N".
    """
    dtype = _complex_dtype(dtype)
    _warn_res_type_none(res_type)
    if tuning is None:
        tuning = _estimated_tuning(y, sr, bins_per_octave)
    return _cast(_run(CQT, y, None, dict(
        sr=sr, hop_length=hop_length, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave,
        tuning=tuning, filter_scale=filter_scale, norm=norm, sparsity=sparsity, window=window,
        scale=scale, pad_mode=pad_mode, res_type=res_type, device=device)), dtype)


def vqt(y, *, sr=22050, hop_length=512, fmin=None, n_bins=84, intervals="equal", gamma=None,
        bins_per_octave=12, tuning=0.0, filter_scale=1, norm=1, sparsity=0.01, window="hann",
        scale=True, pad_mode="constant", res_type="soxr_hq", dtype=None, device="auto"):
    """librosa.vqt(y, ...): complex64 (..., n_bins, t) (dtype=np.complex128 casts). gamma None
    is librosa's default (filter bandwidths a constant fraction of the ERB); 0 gives the CQT.
    intervals: "equal", "pythagorean" or an array of frequency ratios within an octave (then
    bins_per_octave = len(intervals), as librosa). tuning None estimates it from y."""
    if not isinstance(intervals, str):  # hashable, so that the plan cache keeps the plan
        intervals = tuple(float(r) for r in np.asarray(intervals, dtype=np.float64).ravel()) \
            if np.ndim(intervals) == 1 else intervals
    _, bins_per_octave = resolve_intervals(intervals, bins_per_octave)
    dtype = _complex_dtype(dtype)
    _warn_res_type_none(res_type)
    if tuning is None:
        tuning = _estimated_tuning(y, sr, bins_per_octave)
    return _cast(_run(CQT, y, None, dict(
        sr=sr, hop_length=hop_length, fmin=fmin, n_bins=n_bins, bins_per_octave=bins_per_octave,
        tuning=tuning, filter_scale=filter_scale, gamma=gamma, norm=norm, sparsity=sparsity,
        window=window, scale=scale, pad_mode=pad_mode, res_type=res_type, device=device,
        intervals=intervals)), dtype)
