"""melspec.load: librosa.load's numbers from libmelspec_audio (include/melspec_audio.h).

The decoder is C (libsndfile, then libsoxr HQ as librosa resamples), loaded on the first call so
that `import melspec` works where libmelspec_audio.so is absent (it needs libsndfile).
"""
import ctypes
import os
import threading
import warnings
import weakref

import numpy as np

from ._cqt import RES_TYPES
from ._errors import InvalidArgumentError, MelspecError, Status, error_for_status
from ._library import lib as _core

_AUDIO_ENV = "MELSPEC_AUDIO_LIBRARY"
_FILE_NAMES = ("libmelspec_audio.so", "libmelspec_audio.so.0")


class _Options(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("mono", ctypes.c_int32),
                ("sample_rate", ctypes.c_double), ("offset", ctypes.c_double),
                ("duration", ctypes.c_double), ("strict", ctypes.c_int32),
                ("res_type", ctypes.c_int32)]


_WARNING_CAPACITY = 256  # MELSPEC_AUDIO_WARNING_CAPACITY


class _Audio(ctypes.Structure):
    _fields_ = [("samples", ctypes.POINTER(ctypes.c_float)), ("n_channels", ctypes.c_int64),
                ("n_samples", ctypes.c_int64), ("sample_rate", ctypes.c_double),
                ("native_rate", ctypes.c_double), ("native_frames", ctypes.c_int64),
                ("warning", ctypes.c_char * _WARNING_CAPACITY)]


_lock = threading.Lock()
_audio_lib = None


def _load_audio_library():
    """$MELSPEC_AUDIO_LIBRARY, else beside the libmelspec that was loaded (the package folder
    of an installed wheel, or the build tree)."""
    global _audio_lib
    with _lock:
        if _audio_lib is not None:
            return _audio_lib
        explicit = os.environ.get(_AUDIO_ENV)
        candidates = [explicit] if explicit else [
            os.path.join(os.path.dirname(_core.path), name)  # no folder: the system search
            for name in _FILE_NAMES]
        tried = []
        for path in candidates:
            try:
                cdll = ctypes.CDLL(path)
                break
            except OSError as error:
                tried.append(f"{path} ({error})")
        else:
            raise MelspecError(
                "melspec.load needs libmelspec_audio.so (built with the library where libsndfile "
                "is found; Debian: libsndfile1-dev), or set $" + _AUDIO_ENV + ". Tried: " +
                "; ".join(tried), Status.ERROR_BACKEND_UNAVAILABLE)
        cdll.melspec_audio_options_init.restype = None
        cdll.melspec_audio_options_init.argtypes = [ctypes.POINTER(_Options)]
        cdll.melspec_audio_load.restype = ctypes.c_int
        cdll.melspec_audio_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(_Options),
                                            ctypes.POINTER(_Audio), ctypes.c_char_p,
                                            ctypes.c_size_t]
        cdll.melspec_audio_load_memory.restype = ctypes.c_int
        cdll.melspec_audio_load_memory.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                                   ctypes.POINTER(_Options),
                                                   ctypes.POINTER(_Audio), ctypes.c_char_p,
                                                   ctypes.c_size_t]
        cdll.melspec_audio_free.restype = None
        cdll.melspec_audio_free.argtypes = [ctypes.POINTER(_Audio)]
        # the mirror of melspec_audio_options must be the library's (init writes its own size)
        probe = (ctypes.c_uint32 * 256)()  # room for any size it may write
        cdll.melspec_audio_options_init(ctypes.cast(probe, ctypes.POINTER(_Options)))
        if probe[0] != ctypes.sizeof(_Options):
            raise MelspecError(
                f"{path}: melspec_audio_options is {probe[0]} bytes there, "
                f"{ctypes.sizeof(_Options)} in this package: the library and the package are "
                "from different versions", Status.ERROR_STRUCT_SIZE)
        _audio_lib = cdll
        return cdll


def _free_audio(cdll, audio):
    cdll.melspec_audio_free(ctypes.byref(audio))


def _array_owning(cdll, audio, n_values):
    """audio's float32 samples as a writable numpy array that frees them (melspec_audio_free)
    once no view of them is left: a minute of 44.1 kHz stereo is 21 MB not copied."""
    address = ctypes.cast(audio.samples, ctypes.c_void_p).value
    buffer = (ctypes.c_float * n_values).from_address(address)
    # at exit the process's memory goes anyway; no call into a library being torn down
    weakref.finalize(buffer, _free_audio, cdll, audio).atexit = False
    return np.frombuffer(buffer, dtype=np.float32)


# librosa.load's res_type values the loader has: libsoxr's qualities, not the CQT's polyphase
_LOAD_RES_TYPES = {name: value for name, value in RES_TYPES.items() if name.startswith("soxr_")}


def _seconds(name, value, none_means):
    """offset/duration: a real number >= 0 (None where it means something)."""
    if value is None and none_means is not None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)) or not value >= 0:
        raise InvalidArgumentError(f"{name} = {value!r}: 0 or more seconds"
                                   + (f", or None for {none_means}" if none_means else ""))
    return float(value)


def load(path, *, sr=22050, mono=True, offset=0.0, duration=None, dtype=np.float32,
         res_type="soxr_hq", strict=False):
    """librosa.load: returns ``(y, sr)``.

    ``y`` is ``(n,)`` for mono (or a one-channel file), ``(channels, n)`` otherwise; ``sr=None``
    keeps the file's rate. ``path`` is a path or a binary file-like object (its ``read()`` is
    decoded from memory, as soundfile reads one). WAV, FLAC, OGG/Vorbis, Opus and MP3 as the
    system's libsndfile decodes them. A missing file raises FileNotFoundError; an unreadable one
    melspec.InvalidArgumentError saying why. A damaged file (cut short, a decoding error part-way)
    gives the samples that decode, as librosa.load does for a cut WAV, with a UserWarning saying
    what was wrong; ``strict=True`` raises InvalidArgumentError instead. Decoding and resampling
    are float32 (librosa's default); another ``dtype`` is a cast of that result. ``res_type``:
    libsoxr's qualities as librosa names them ("soxr_hq", librosa's default, "soxr_vhq",
    "soxr_mq", "soxr_lq", "soxr_qq"); "polyphase" and resampy's or samplerate's are not
    implemented here.
    """
    data = None
    if hasattr(path, "read"):
        data = path.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidArgumentError(f"{path!r}.read() gave {type(data).__name__}: open the "
                                       "file in binary mode")
        data = bytes(data)
        name = getattr(path, "name", "<file-like object>")
    else:
        path = os.fspath(path)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such file or directory", path)
        name = path
    if sr is not None and (isinstance(sr, (bool, np.bool_)) or not (
            isinstance(sr, (int, float, np.integer, np.floating)) and sr > 0)):
        raise InvalidArgumentError(f"sr = {sr!r}: a positive rate, or None for the file's")
    offset = _seconds("offset", offset, None)
    duration = _seconds("duration", duration, "to the end")
    if not (isinstance(res_type, str) and res_type in _LOAD_RES_TYPES):
        raise InvalidArgumentError(
            f"res_type = {res_type!r} is not supported by load: "
            f"{', '.join(repr(name) for name in _LOAD_RES_TYPES)} (libsoxr's qualities)")
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise InvalidArgumentError(f"dtype = {dtype!r} is not a dtype ({error})") from None
    cdll = _load_audio_library()
    options = _Options()
    cdll.melspec_audio_options_init(ctypes.byref(options))
    options.mono = 1 if mono else 0
    options.sample_rate = 0.0 if sr is None else float(sr)
    options.offset = offset
    options.duration = -1.0 if duration is None else duration
    options.strict = 1 if strict else 0
    options.res_type = _LOAD_RES_TYPES[res_type]
    audio = _Audio()
    message = ctypes.create_string_buffer(1024)
    if data is None:
        status = cdll.melspec_audio_load(os.fsencode(path), ctypes.byref(options),
                                         ctypes.byref(audio), message, len(message))
    else:
        status = cdll.melspec_audio_load_memory(data, len(data), ctypes.byref(options),
                                                ctypes.byref(audio), message, len(message))
    if status != Status.OK:
        reason = message.value.decode(errors="replace")
        if strict and audio.warning:  # refused for the damage alone
            reason += " (strict=True)"
        cdll.melspec_audio_free(ctypes.byref(audio))
        raise error_for_status(status, f"{name}: {reason}")
    channels, n_samples, rate = audio.n_channels, audio.n_samples, audio.sample_rate
    damage = audio.warning.decode(errors="replace")
    if dtype == np.float32:
        y = _array_owning(cdll, audio, channels * n_samples)  # the C buffer itself, no copy
    else:
        try:  # the cast is the one copy; the C buffer is freed at once
            y = np.ctypeslib.as_array(audio.samples, shape=(channels * n_samples,)).astype(dtype)
        finally:
            cdll.melspec_audio_free(ctypes.byref(audio))
    if damage:
        warnings.warn(f"{name}: {damage}", UserWarning, stacklevel=2)
    y = y.reshape(channels, n_samples)
    if channels == 1:
        y = y[0]
    return y, (int(rate) if float(rate).is_integer() else rate)


# Loaded with the package, not at the first load(): libmelspec_audio asks the loader for
# "libsndfile.so.1", and the loader answers with any library of that name already in the process.
# soundfile's wheel bundles its own libsndfile under that name, so once soundfile was imported
# (librosa.load imports it) melspec.load decoded with soundfile's copy instead of the one this
# package was built and tested with (on a minute of stereo FLAC 48 ms instead of 39 here). Loaded
# first, each keeps its own. Where it cannot load, load() says why when it is called.
try:
    _load_audio_library()
except MelspecError:
    pass
