"""Plans: one C plan per object, built once and executed many times.

_Plan holds the handle and everything shared (close, context manager, cleanup at garbage
collection, host and device execution); a subclass per transform only states its keyword
arguments. Later transforms (cqt) and plan.stream() belong here as further subclasses and
methods.
"""
import ctypes
import math
import weakref

import numpy as np

from . import _arrays, _config
from . import _library as L
from ._device import (DeviceArray, cuda_array_interface, parse_cuda_array_interface,
                      stream_handle)
from ._errors import BackendUnavailableError, InvalidArgumentError, Status, error_for_status

_lib = L.lib
_execute = _lib.execute
_addressof = ctypes.addressof
_from_buffer = ctypes.c_char.from_buffer
_FLOAT32 = np.dtype(np.float32)
_NUMPY_DTYPES = {L.DTYPE_FLOAT32: np.dtype(np.float32), L.DTYPE_FLOAT16: np.dtype(np.float16)}
_MESSAGE_CAPACITY = 512


def _address(array):
    """The data pointer of a C-contiguous ndarray (c_char.from_buffer is ~5x faster than
    array.ctypes.data, but needs a writable, non-empty buffer)."""
    try:
        return _addressof(_from_buffer(array))
    except (TypeError, ValueError):
        return array.ctypes.data


def host_audio(y):
    """y as a C-contiguous float32 ndarray, or the librosa-style error for what is not audio."""
    if not isinstance(y, np.ndarray):
        raise InvalidArgumentError(
            f"Audio data must be of type numpy.ndarray (or a CUDA array exposing "
            f"__cuda_array_interface__), got {type(y).__name__}")
    if y.dtype.kind != "f":
        raise InvalidArgumentError(f"Audio data must be floating-point, got dtype {y.dtype}")
    if y.ndim == 0:
        raise InvalidArgumentError(
            f"Audio data must be at least one-dimensional, given y.shape={y.shape}")
    if y.dtype == _FLOAT32 and y.flags.c_contiguous and type(y) is np.ndarray:
        return y
    with np.errstate(over="ignore"):  # float64 beyond float32's range becomes Inf: the library
        return np.ascontiguousarray(y, dtype=_FLOAT32).view(np.ndarray)  # names the sample


class _Plan:
    """Base of every plan: a C melspec_plan, its resolved config, and execution."""

    _transform = None
    _handle = None  # until created, and after close()

    def _create(self, config):
        message = ctypes.create_string_buffer(_MESSAGE_CAPACITY)
        handle = ctypes.c_void_p()
        status = _lib.plan_create(ctypes.byref(handle), ctypes.byref(config), message,
                                  _MESSAGE_CAPACITY)
        if status != Status.OK:
            detail = message.value.decode(errors="replace") or _lib.status_string(status)
            raise error_for_status(status, detail)
        self._handle = handle.value
        self._finalizer = weakref.finalize(self, _lib.plan_destroy, handle.value)
        resolved = L.Config()
        self._check(_lib.plan_config(self._handle, ctypes.byref(resolved)))
        self._config = resolved
        self._backend = _lib.plan_backend(self._handle)
        self._frames_major = resolved.layout == L.LAYOUT_FRAMES_MAJOR
        if resolved.transform == L.TRANSFORM_STFT:
            self._dtype = np.dtype(np.complex64)
        else:
            self._dtype = _NUMPY_DTYPES[resolved.output_dtype]
        self._reserved = (resolved.max_batch, resolved.max_samples)
        self._dims = {}       # n_samples -> output (rows, columns) of one signal
        self._stream = None   # the stream last given to melspec_plan_set_cuda_stream (None = NULL)

    # ---- lifecycle -----------------------------------------------------------------------------

    def close(self):
        """Frees the C plan now (also done at garbage collection), and its streams first. Closing
        twice is harmless."""
        for stream in list(getattr(self, "_streams", ())):
            stream.close()
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None:
            finalizer()
        self._handle = None

    @property
    def closed(self):
        return self._handle is None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _closed_error(self):
        return InvalidArgumentError(f"this {type(self).__name__} plan is closed",
                                    Status.ERROR_NULL_POINTER)

    def _live_handle(self):
        if self._handle is None:
            raise self._closed_error()
        return self._handle

    def stream(self):
        """A Stream of this plan: push chunks of audio of any size, get each frame as soon as it
        is complete; pushes and flush, concatenated, equal plan(y). See melspec._stream.Stream."""
        from ._stream import Stream  # _stream imports this module
        stream = Stream(self)
        if getattr(self, "_streams", None) is None:
            self._streams = weakref.WeakSet()
        self._streams.add(stream)
        return stream

    # ---- errors --------------------------------------------------------------------------------

    def _error(self, status):
        detail = _lib.plan_last_error(self._handle) or b""
        return error_for_status(status, detail.decode(errors="replace")
                                or _lib.status_string(status))

    def _check(self, status):
        if status != Status.OK:
            raise self._error(status)

    # ---- queries -------------------------------------------------------------------------------

    @property
    def backend(self):
        """"cpu" or "cuda": the backend the plan actually runs on."""
        return "cuda" if self._backend == L.BACKEND_CUDA else "cpu"

    @property
    def params(self):
        """The plan's config with every default resolved (hop_length, win_length, fmax...)."""
        return self._config.as_dict()

    def _signal_dims(self, n_samples):
        """(rows, columns) of one signal's output, from the library (which checks n_samples)."""
        handle = self._live_handle()
        n_bins, n_frames = ctypes.c_int64(), ctypes.c_int64()
        status = _lib.plan_output_shape(handle, n_samples, ctypes.byref(n_bins),
                                        ctypes.byref(n_frames))
        if status != Status.OK:
            # The const queries leave no message; execute refuses the same length first of all
            # (before reading any sample), with the library's reason.
            probe = (ctypes.c_float * 1)()
            _lib.execute(handle, ctypes.addressof(probe), 1, n_samples, ctypes.addressof(probe), 0)
            raise self._error(status)
        dims = ((n_frames.value, n_bins.value) if self._frames_major
                else (n_bins.value, n_frames.value))
        if len(self._dims) >= 64:
            self._dims.clear()
        self._dims[n_samples] = dims
        return dims

    def output_shape(self, input_shape):
        """The output's shape for an input of this shape (an int means one signal)."""
        if isinstance(input_shape, int):
            input_shape = (input_shape,)
        input_shape = tuple(input_shape)
        if not input_shape:
            raise InvalidArgumentError("the input shape needs at least one dimension")
        return input_shape[:-1] + self._signal_dims(input_shape[-1])

    def window(self):
        """The analysis window, n_fft float32 values (zero-padded centred to n_fft)."""
        handle = self._live_handle()
        window = np.empty(self._config.n_fft, np.float32)
        self._check(_lib.plan_window(handle, window.ctypes.data, window.nbytes))
        return window

    def reserve(self, n_signals, n_samples):
        """Grows the plan's buffers for calls of up to n_signals x n_samples (the CUDA backend
        allocates here so that calls never do; done automatically by the first larger call)."""
        handle = self._live_handle()
        batch, samples = max(n_signals, self._reserved[0]), max(n_samples, self._reserved[1])
        self._check(_lib.plan_reserve(handle, batch, samples))
        self._reserved = (batch, samples)

    # ---- execution -----------------------------------------------------------------------------

    def __call__(self, y, *, out=None, stream=None):
        """The transform of y, shape (..., n_samples) -> (..., rows, frames) in the plan's layout.

        y: a numpy float array (float32 C-contiguous is used in place, others are converted), a
        torch.Tensor (CPU or CUDA; the result is a tensor on the same device), or a CUDA array
        exposing __cuda_array_interface__ or __dlpack__ (float32, C-contiguous) on a CUDA plan;
        see melspec._arrays for what comes back for each.
        out: optional destination of y's kind (numpy, torch, a CUDA array) of the exact output
        shape and dtype; otherwise a fresh array is returned.
        stream: CUDA stream for device arrays (int handle, torch or cupy stream); default: for a
        torch tensor torch.cuda.current_stream(), else the stream named by y's (or out's)
        __cuda_array_interface__, else the legacy default stream.
        """
        handle = self._handle
        if handle is None:
            raise self._closed_error()
        if type(y) is not np.ndarray or y.dtype is not _FLOAT32 or not y.flags.c_contiguous:
            if not isinstance(y, np.ndarray):  # torch, cupy, CUDA and DLPack arrays
                return _arrays.call(self, y, out, stream)
            y = host_audio(y)
        if stream is not None:
            raise InvalidArgumentError("stream= applies to CUDA arrays; y is a numpy array")
        shape = y.shape
        if len(shape) == 1:
            lead, batch = (), 1
        else:
            if not shape:
                host_audio(y)  # raises: audio must be at least one-dimensional
            lead = shape[:-1]
            batch = math.prod(lead)
            if batch == 0:
                raise InvalidArgumentError(f"Audio data is empty: y.shape={shape}")
        n_samples = shape[-1]
        dims = self._dims.get(n_samples)
        if dims is None:
            dims = self._signal_dims(n_samples)
        reserved = self._reserved
        if batch > reserved[0] or n_samples > reserved[1]:
            self.reserve(batch, n_samples)
        if out is None:
            out = np.empty(lead + dims, self._dtype)
        else:
            self._check_host_out(out, lead + dims)
        status = _execute(handle, _address(y), batch, n_samples, _addressof(_from_buffer(out)),
                          out.nbytes)
        if status:
            raise self._error(status)
        return out

    def _execute_host(self, source, batch, n_samples, target, nbytes):
        """melspec_execute on host pointers whose shapes the caller checked (melspec._arrays'
        tensors: no numpy views to make)."""
        handle = self._live_handle()
        reserved = self._reserved
        if batch > reserved[0] or n_samples > reserved[1]:
            self.reserve(batch, n_samples)
        status = _execute(handle, source, batch, n_samples, target, nbytes)
        if status:
            raise self._error(status)

    def _check_host_out(self, out, shape):
        if not isinstance(out, np.ndarray):
            raise InvalidArgumentError(f"out must be a numpy array for numpy input, got "
                                       f"{type(out).__name__}")
        if out.shape != shape or out.dtype != self._dtype:
            raise InvalidArgumentError(f"out has shape {out.shape} and dtype {out.dtype}; this "
                                       f"call writes shape {shape} of {self._dtype}")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise InvalidArgumentError("out must be C-contiguous and writable")

    def _call_device(self, interface, out, stream, out_interface=None):
        """Device execution. out_interface: out's interface when the caller built it already
        (melspec._arrays does for torch tensors, whose property is slow)."""
        handle = self._handle
        if _lib.execute_device is None or _lib.plan_set_cuda_stream is None:
            raise BackendUnavailableError(
                f"y is a CUDA array, but {_lib.path} has no melspec_execute_device (a library "
                "from before the CUDA backend): pass a numpy array or update libmelspec",
                Status.ERROR_BACKEND_UNAVAILABLE)
        if self._backend != L.BACKEND_CUDA:
            raise BackendUnavailableError(
                "y is a CUDA array (__cuda_array_interface__) but this plan runs on the CPU "
                "backend: create it with device='cuda' (or 'auto' on a machine with a GPU), or "
                "pass a numpy array", Status.ERROR_BACKEND_UNAVAILABLE)
        source = parse_cuda_array_interface(interface, "y")
        if source.typestr != "<f4":
            raise InvalidArgumentError(f"y is a CUDA array of typestr {source.typestr!r}: "
                                       "melspec reads float32 ('<f4') device arrays in place; "
                                       "convert it first (e.g. y.float() in torch)")
        if not source.shape:
            raise InvalidArgumentError("Audio data must be at least one-dimensional, given "
                                       "y.shape=()")
        lead, n_samples = source.shape[:-1], source.shape[-1]
        batch = math.prod(lead)
        if batch == 0 or n_samples == 0:
            raise InvalidArgumentError(f"Audio data is empty: y.shape={source.shape}")
        shape = lead + (self._dims.get(n_samples) or self._signal_dims(n_samples))
        if batch > self._reserved[0] or n_samples > self._reserved[1]:
            self.reserve(batch, n_samples)

        target = None
        if out is not None:
            if out_interface is None and not isinstance(out, np.ndarray):
                out_interface = cuda_array_interface(out, "out")
            if out_interface is None:
                raise InvalidArgumentError("out must be a CUDA array (__cuda_array_interface__) "
                                           "when y is one")
            target = parse_cuda_array_interface(out_interface, "out")
            if target.shape != shape or target.typestr != self._dtype.str:
                raise InvalidArgumentError(
                    f"out has shape {target.shape} and typestr {target.typestr!r}; this call "
                    f"writes shape {shape} of {self._dtype.str!r} ({self._dtype.name})")
            if target.readonly:
                raise InvalidArgumentError("out is a read-only CUDA array")

        if stream is not None:
            stream = stream_handle(stream)
        elif source.stream is not None:
            stream = source.stream
        elif target is not None:
            stream = target.stream
        # The interface's 1 is the legacy default stream, which the C API spells NULL.
        c_stream = None if stream in (None, 1) else stream
        if c_stream != self._stream:
            self._check(_lib.plan_set_cuda_stream(handle, c_stream))
            self._stream = c_stream

        if target is None:
            result = DeviceArray.allocate(shape, self._dtype, self._config.device_ordinal,
                                          1 if c_stream is None else c_stream)
            pointer, nbytes = result.ptr, result.nbytes
        else:
            result, pointer = out, target.ptr
            nbytes = math.prod(shape) * self._dtype.itemsize
        self._check(_lib.execute_device(handle, source.ptr, batch, n_samples, pointer, nbytes))
        return result

    def __repr__(self):
        c = getattr(self, "_config", None)
        if c is None:  # creation failed
            return f"<melspec.{type(self).__name__} (not created)>"
        state = "closed" if self.closed else self.backend
        return (f"<melspec.{type(self).__name__} {state} n_fft={c.n_fft} "
                f"hop_length={c.hop_length} win_length={c.win_length}>")


class MelSpectrogram(_Plan):
    """A reusable mel spectrogram plan: ``plan = MelSpectrogram(sr=16000, ...)``, then
    ``plan(y)`` as many times as needed (librosa.feature.melspectrogram's numbers).

    Keyword arguments are librosa.feature.melspectrogram's, plus the scaling stage:
    scaling (None, "power_to_db", "amplitude_to_db", "log"), ref (a number or np.max, per
    clip), amin (None = librosa's default for the scaling), top_db (None = no clamp; per clip),
    log_offset (for "log": log(S + log_offset)), layout ("bins_major" (..., n_mels, t) or
    "frames_major" (..., t, n_mels)), dtype (float32 or float16, on every backend), device
    ("auto", "cpu", "cuda", "cuda:N") and max_batch / max_samples (sizes the CUDA backend
    allocates for up front; larger calls grow the plan).
    """

    _transform = L.TRANSFORM_MEL

    def __init__(self, *, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann",
                 center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None,
                 htk=False, norm="slaney", scaling=None, ref=1.0, amin=None, top_db=80.0,
                 log_offset=1e-6, layout="bins_major", dtype="float32", device="auto",
                 max_batch=None, max_samples=None):
        self._create(_config.build(
            L.TRANSFORM_MEL, sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
            window=window, center=center, pad_mode=pad_mode, power=power, n_mels=n_mels,
            fmin=fmin, fmax=fmax, htk=htk, norm=norm, scaling=scaling, ref=ref, amin=amin,
            top_db=top_db, log_offset=log_offset, layout=layout, dtype=dtype, device=device,
            max_batch=max_batch, max_samples=max_samples))

    def filterbank(self):
        """The plan's mel filterbank, float32 (n_mels, 1 + n_fft // 2): librosa.filters.mel's."""
        handle = self._live_handle()
        c = self._config
        bank = np.empty((c.n_mels, 1 + c.n_fft // 2), np.float32)
        self._check(_lib.plan_mel_filterbank(handle, bank.ctypes.data, bank.nbytes))
        return bank


class Spectrogram(_Plan):
    """A reusable linear spectrogram plan: |STFT|**power, (..., 1 + n_fft // 2, t).

    Keyword arguments as librosa.stft (hop_length None = win_length // 4) plus power and the
    scaling, layout, dtype and device options of MelSpectrogram.
    """

    _transform = L.TRANSFORM_LINEAR

    def __init__(self, *, n_fft=2048, hop_length=None, win_length=None, window="hann",
                 center=True, pad_mode="constant", power=2.0, scaling=None, ref=1.0, amin=None,
                 top_db=80.0, log_offset=1e-6, layout="bins_major", dtype="float32",
                 device="auto", sr=22050, max_batch=None, max_samples=None):
        self._create(_config.build(
            L.TRANSFORM_LINEAR, sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
            window=window, center=center, pad_mode=pad_mode, power=power, scaling=scaling,
            ref=ref, amin=amin, top_db=top_db, log_offset=log_offset, layout=layout, dtype=dtype,
            device=device, max_batch=max_batch, max_samples=max_samples))


class STFT(_Plan):
    """A reusable complex STFT plan: complex64 (..., 1 + n_fft // 2, t), librosa.stft's numbers.

    sr only sizes the default max_samples (60 s of audio) for the CUDA backend.
    """

    _transform = L.TRANSFORM_STFT

    def __init__(self, *, n_fft=2048, hop_length=None, win_length=None, window="hann",
                 center=True, pad_mode="constant", layout="bins_major", device="auto",
                 sr=22050, max_batch=None, max_samples=None):
        self._create(_config.build(
            L.TRANSFORM_STFT, sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
            window=window, center=center, pad_mode=pad_mode, layout=layout, device=device,
            max_batch=max_batch, max_samples=max_samples))
