"""The raw layer: finds libmelspec, declares every C function, mirrors melspec_config.

Nothing here is Pythonic on purpose: _config.py maps keyword arguments onto Config and _plan.py
wraps the calls. The struct mirror is checked against the library's own sizeof at import, so a
library built from a different header fails loudly here instead of corrupting memory later.
"""
import ctypes
import ctypes.util
import os
import sys

from ._errors import LibraryMismatchError

# The library version this package was written against: MAJOR.MINOR must match the loaded
# library's (the config struct and the function set may change with the minor version).
PACKAGE_VERSION = (0, 2, 0)

_LIBRARY_ENV = "MELSPEC_LIBRARY"
_HERE = os.path.dirname(os.path.abspath(__file__))

if sys.platform == "darwin":
    _FILE_NAMES = ("libmelspec.dylib", "libmelspec.0.dylib")
elif sys.platform == "win32":
    _FILE_NAMES = ("melspec.dll", "libmelspec.dll")
else:
    _FILE_NAMES = ("libmelspec.so", "libmelspec.so.0")


def _candidate_paths():
    """Files tried after $MELSPEC_LIBRARY: a copy in the package, then the build trees."""
    folders = [
        _HERE,                                               # a copy inside the package
        os.path.join(_HERE, os.pardir, os.pardir, "build"),  # python/melspec -> <repo>/build
        os.path.join(_HERE, os.pardir, "build"),             # python/build
    ]
    return [os.path.normpath(os.path.join(folder, name))
            for folder in folders for name in _FILE_NAMES]


def load_library():
    """Loads libmelspec: $MELSPEC_LIBRARY, the package, the build tree, then the system."""
    explicit = os.environ.get(_LIBRARY_ENV)
    if explicit:
        try:
            return ctypes.CDLL(explicit)
        except OSError as error:
            raise ImportError(f"melspec: ${_LIBRARY_ENV} = {explicit!r} cannot be loaded: "
                              f"{error}") from error
    tried = []
    for path in _candidate_paths():
        if os.path.isfile(path):
            try:
                return ctypes.CDLL(path)
            except OSError as error:
                tried.append(f"{path} ({error})")
        else:
            tried.append(path)
    system = ctypes.util.find_library("melspec")
    if system is not None:
        try:
            return ctypes.CDLL(system)
        except OSError as error:
            tried.append(f"{system} ({error})")
    tried.append("the system library path (ctypes.util.find_library('melspec'): not found)")
    raise ImportError(
        "melspec: libmelspec was not found. Build it (cmake -S . -B build && cmake --build build),"
        f" then set ${_LIBRARY_ENV} to the .so, copy it into {_HERE}, or install it "
        "(cmake --install build). Tried: " + "; ".join(tried))


# ---- the config struct: field for field the C declaration of melspec_config -------------------

class Config(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("transform", ctypes.c_int32),
        ("sample_rate", ctypes.c_double),
        ("n_fft", ctypes.c_int64),
        ("hop_length", ctypes.c_int64),
        ("win_length", ctypes.c_int64),
        ("window", ctypes.c_int32),
        ("center", ctypes.c_int32),
        ("pad_mode", ctypes.c_int32),
        ("mel_scale", ctypes.c_int32),
        ("power", ctypes.c_double),
        ("n_mels", ctypes.c_int64),
        ("fmin", ctypes.c_double),
        ("fmax", ctypes.c_double),
        ("mel_norm", ctypes.c_int32),
        ("scaling", ctypes.c_int32),
        ("ref", ctypes.c_double),
        ("amin", ctypes.c_double),
        ("top_db", ctypes.c_double),
        ("log_offset", ctypes.c_double),
        ("ref_mode", ctypes.c_int32),
        ("layout", ctypes.c_int32),
        ("backend", ctypes.c_int32),
        ("device_ordinal", ctypes.c_int32),
        ("output_dtype", ctypes.c_int32),
        ("fixed_memory", ctypes.c_int32),
        ("max_batch", ctypes.c_int64),
        ("max_samples", ctypes.c_int64),
        ("mel_product", ctypes.c_int32),
        # the feature stage (issue 15)
        ("feature", ctypes.c_int32),
        ("mfcc_dct_type", ctypes.c_int32),
        ("mfcc_norm", ctypes.c_int32),
        ("n_mfcc", ctypes.c_int64),
        ("mfcc_lifter", ctypes.c_double),
        ("pcen_gain", ctypes.c_double),
        ("pcen_bias", ctypes.c_double),
        ("pcen_power", ctypes.c_double),
        ("pcen_time_constant", ctypes.c_double),
        ("pcen_eps", ctypes.c_double),
        ("pcen_b", ctypes.c_double),
        ("pcen_max_size", ctypes.c_int64),
        # -- librosa's parameter space (issue 15) --
        ("window_params", ctypes.c_double * 3),
        ("mel_norm_p", ctypes.c_double),
    ]

    def as_dict(self):
        values = {name: getattr(self, name) for name, _ in self._fields_}
        return {name: list(v) if isinstance(v, ctypes.Array) else v for name, v in values.items()}


CONFIG_SIZE = ctypes.sizeof(Config)

# Enum values of include/melspec.h.
TRANSFORM_MEL, TRANSFORM_LINEAR, TRANSFORM_STFT = 0, 1, 2
WINDOW_HANN, WINDOW_HAMMING, WINDOW_RECTANGULAR = 0, 1, 2
# -- librosa's parameter space (issue 15): the other scipy windows, numeric mel norms --
(WINDOW_BLACKMAN, WINDOW_BLACKMANHARRIS, WINDOW_NUTTALL, WINDOW_FLATTOP, WINDOW_BARTLETT,
 WINDOW_TRIANG, WINDOW_BARTHANN, WINDOW_BOHMAN, WINDOW_COSINE, WINDOW_PARZEN, WINDOW_LANCZOS,
 WINDOW_EXPONENTIAL, WINDOW_KAISER, WINDOW_GAUSSIAN, WINDOW_GENERAL_HAMMING, WINDOW_TUKEY,
 WINDOW_GENERAL_GAUSSIAN, WINDOW_TAYLOR, WINDOW_CUSTOM) = range(3, 22)
MEL_NORM_P = 2
PAD_CONSTANT, PAD_REFLECT, PAD_EDGE = 0, 1, 2
MEL_SCALE_SLANEY, MEL_SCALE_HTK = 0, 1
MEL_NORM_SLANEY, MEL_NORM_NONE = 0, 1
SCALING_NONE, SCALING_POWER_TO_DB, SCALING_AMPLITUDE_TO_DB, SCALING_LOG = 0, 1, 2, 3
REF_VALUE, REF_MAX = 0, 1
LAYOUT_BINS_MAJOR, LAYOUT_FRAMES_MAJOR = 0, 1
BACKEND_AUTO, BACKEND_CPU, BACKEND_CUDA = 0, 1, 2
DTYPE_FLOAT32, DTYPE_FLOAT16, DTYPE_BFLOAT16 = 0, 1, 2
MEL_PRODUCT_AUTO, MEL_PRODUCT_SPARSE, MEL_PRODUCT_GEMM = 0, 1, 2
FEATURE_NONE, FEATURE_MFCC, FEATURE_PCEN = 0, 1, 2
DCT_NORM_ORTHO, DCT_NORM_NONE = 0, 1

# ---- function declarations ---------------------------------------------------------------------

_p = ctypes.c_void_p          # melspec_plan *, melspec_stream *, float *, void *, cudaStream_t
_i64 = ctypes.c_int64
_i64p = ctypes.POINTER(ctypes.c_int64)
_size = ctypes.c_size_t
_status = ctypes.c_int        # melspec_status (a C enum: int)

# name: (restype, argtypes). Required: the library is unusable without them.
_REQUIRED = {
    "melspec_version_number": (ctypes.c_uint, []),
    "melspec_version_string": (ctypes.c_char_p, []),
    "melspec_status_string": (ctypes.c_char_p, [_status]),
    "melspec_status_name": (ctypes.c_char_p, [_status]),
    "melspec_config_init": (None, [ctypes.POINTER(Config)]),
    "melspec_config_size": (_size, []),
    "melspec_plan_create": (_status, [ctypes.POINTER(_p), ctypes.POINTER(Config), ctypes.c_char_p,
                                      _size]),
    "melspec_plan_destroy": (None, [_p]),
    "melspec_plan_last_error": (ctypes.c_char_p, [_p]),
    "melspec_plan_config": (_status, [_p, ctypes.POINTER(Config)]),
    "melspec_plan_backend": (ctypes.c_int, [_p]),
    "melspec_plan_output_shape": (_status, [_p, _i64, _i64p, _i64p]),
    "melspec_plan_output_bytes": (_status, [_p, _i64, _i64, ctypes.POINTER(_size)]),
    "melspec_plan_frame_bytes": (_status, [_p, ctypes.POINTER(_size)]),
    "melspec_execute": (_status, [_p, _p, _i64, _i64, _p, _size]),
    "melspec_plan_reserve": (_status, [_p, _i64, _i64]),
    "melspec_plan_mel_filterbank": (_status, [_p, _p, _size]),
    "melspec_plan_window": (_status, [_p, _p, _size]),
    "melspec_cuda_compiled": (ctypes.c_int, []),
    "melspec_cuda_device_count": (ctypes.c_int, []),
    "melspec_backend_available": (_status, [ctypes.c_int, ctypes.c_char_p, _size]),
    "melspec_stream_create": (_status, [ctypes.POINTER(_p), _p]),
    "melspec_stream_destroy": (None, [_p]),
    "melspec_stream_push": (_status, [_p, _p, _i64, _p, _size, _i64p]),
    "melspec_stream_flush": (_status, [_p, _p, _size, _i64p]),
    "melspec_stream_reset": (_status, [_p]),
    "melspec_stream_latency": (_status, [_p, _i64p]),
    "melspec_stream_frame_bytes": (_status, [_p, ctypes.POINTER(_size)]),
    "melspec_stream_push_many": (_status, [ctypes.POINTER(_p), _i64, ctypes.POINTER(_p), _i64p,
                                           ctypes.POINTER(_p), ctypes.POINTER(_size), _i64p]),
    # -- librosa's parameter space (issue 15) --
    "melspec_plan_create_with_window": (_status, [ctypes.POINTER(_p), ctypes.POINTER(Config),
                                                  _p, _i64, ctypes.c_char_p, _size]),
    "melspec_plan_mel_filterbank_f64": (_status, [_p, _p, _size]),
    "melspec_plan_empty_mel_bands": (_status, [_p, _p, _size, _i64p]),
    "melspec_plan_set_cuda_stream": (_status, [_p, _p]),
    "melspec_execute_device": (_status, [_p, _p, _i64, _i64, _p, _size]),
}

# Optional: none at present (every entry point exists in every build of this version; the CUDA
# ones answer BACKEND_UNAVAILABLE without the CUDA backend). Missing ones are None.
_OPTIONAL = {
}


class Binding:
    """The loaded library with every function declared, as attributes without the prefix."""

    def __init__(self, cdll):
        self.cdll = cdll
        self.path = getattr(cdll, "_name", "?")
        for name, (restype, argtypes) in _REQUIRED.items():
            try:
                function = getattr(cdll, name)
            except AttributeError as error:
                raise LibraryMismatchError(
                    f"{self.path} has no {name}: not a melspec library this package knows "
                    f"(it needs version {PACKAGE_VERSION[0]}.{PACKAGE_VERSION[1]})") from error
            function.restype, function.argtypes = restype, argtypes
            setattr(self, name[len("melspec_"):], function)
        for name, (restype, argtypes) in _OPTIONAL.items():
            function = getattr(cdll, name, None)
            if function is not None:
                function.restype, function.argtypes = restype, argtypes
            setattr(self, name[len("melspec_"):], function)

    def status_name(self, status):
        return self.cdll.melspec_status_name(status).decode()

    def status_string(self, status):
        return self.cdll.melspec_status_string(status).decode()


def check_abi(binding, config_size=None, package_version=None):
    """Fails loudly when the library's config struct or version differs from this package's.

    The parameters exist for the tests (they pass a different expected size or version)."""
    config_size = CONFIG_SIZE if config_size is None else config_size
    package_version = PACKAGE_VERSION if package_version is None else package_version
    theirs = binding.config_size()
    if theirs != config_size:
        raise LibraryMismatchError(
            f"{binding.path}: sizeof(melspec_config) is {theirs} bytes in the library but "
            f"{config_size} in this Python package: the library was built from a different "
            "include/melspec.h than python/melspec/_library.py mirrors; rebuild one to match the "
            "other", -11)
    number = binding.version_number()
    major, minor = number // 10000, number // 100 % 100
    if (major, minor) != tuple(package_version[:2]):
        raise LibraryMismatchError(
            f"{binding.path} is melspec {binding.version_string().decode()} but this Python "
            f"package needs {package_version[0]}.{package_version[1]}.x", -11)


def _bind():
    binding = Binding(load_library())
    check_abi(binding)
    return binding


lib = _bind()
