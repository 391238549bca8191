"""melspec: mel spectrograms and the STFT with librosa's numbers, on the CPU and NVIDIA GPUs.

A ctypes binding of libmelspec (no compiled extension). Swap ``librosa`` for ``melspec`` in::

    S = melspec.melspectrogram(y, sr=16000, n_fft=400, hop_length=160, n_mels=80)
    C = melspec.cqt(y, sr=22050)

or build a plan once and call it in a loop (the fast path)::

    with melspec.MelSpectrogram(sr=16000, n_fft=800, hop_length=200, n_mels=80) as plan:
        for y in chunks:
            S = plan(y)

See docs/python.md.
"""
import ctypes

from . import feature, filters, presets, util, whisper
from ._audio import load
from ._cqt import CQT, cqt, vqt
from ._db import amplitude_to_db, power_to_db
from ._device import DeviceArray
from ._errors import (BackendUnavailableError, DeviceError, InvalidArgumentError,
                      LibraryMismatchError, MelspecError, OutOfMemoryError, ParameterError,
                      PlanBusyError, Status)
from ._functions import melspectrogram, stft
from ._pitch import estimate_tuning, pitch_tuning, piptrack
from ._library import lib as _lib
from ._plan import STFT, MelSpectrogram, Spectrogram
from .feature import pcen  # librosa.pcen (issue 15)

__version__ = "0.2.0"
library_version = _lib.version_string().decode()
library_path = _lib.path


def cuda_device_count():
    """Usable CUDA devices as the library sees them (0 in a CPU-only build)."""
    return _lib.cuda_device_count()


def cuda_compiled():
    """True when the CUDA backend (the plugin libmelspec_cuda.so) was found and loaded."""
    return bool(_lib.cuda_compiled())


def backend_available(backend="cuda"):
    """(available, reason) for "cpu", "cuda" or "auto": whether plans can run there, and the
    library's words for why (the plugin or driver that is missing, or what AUTO picks)."""
    codes = {"auto": 0, "cpu": 1, "cuda": 2}
    if backend not in codes:
        raise InvalidArgumentError(f"backend = {backend!r}: one of {sorted(codes)}")
    reason = ctypes.create_string_buffer(512)
    status = _lib.backend_available(codes[backend], reason, len(reason))
    return status == Status.OK, reason.value.decode(errors="replace")


def info():
    """What this installation found, as a dict: the package and library versions, the library's
    path, and for each backend whether it is usable and the library's reason (the CUDA plugin's
    path, or what is missing: the plugin, libcudart, a driver or a device)."""
    backends = {}
    for name in ("cpu", "cuda", "auto"):
        available, reason = backend_available(name)
        backends[name] = {"available": available, "reason": reason}
    return {
        "version": __version__,
        "library_version": library_version,
        "library_path": library_path,
        "cuda_plugin_loaded": cuda_compiled(),
        "cuda_device_count": cuda_device_count(),
        "backends": backends,
    }


__all__ = [
    "melspectrogram", "stft", "cqt", "vqt", "power_to_db", "amplitude_to_db", "feature", "filters",
    "MelSpectrogram", "Spectrogram", "STFT", "CQT", "DeviceArray",
    "MelspecError", "InvalidArgumentError", "BackendUnavailableError", "DeviceError",
    "OutOfMemoryError", "LibraryMismatchError", "PlanBusyError", "Status",
    "cuda_device_count", "cuda_compiled", "backend_available", "library_version", "library_path",
    "info", "load", "presets", "whisper",
    "pcen",  # issue 15
    # -- librosa's parameter space (issue 15) --
    "ParameterError", "util", "estimate_tuning", "pitch_tuning", "piptrack",
]

# ---- batches on every core, one plan per worker thread (issue 18; docs/python.md) ----
from ._batch import BatchError, batch, melspectrogram_batch  # noqa: E402
__all__ += ["BatchError", "batch", "melspectrogram_batch"]
