"""Device arrays: __cuda_array_interface__ in and out, and the CUDA runtime through ctypes.

Never imports torch, cupy or numba: any object exposing __cuda_array_interface__ (version 0 to 3)
is read in place, and results the package allocates come back as DeviceArray, which exposes the
interface itself so torch.as_tensor(result, device="cuda") or cupy.asarray(result) wrap it
without a copy. Memory comes from cudaMalloc in libcudart, loaded with ctypes on first use.
"""
import ctypes
import ctypes.util
import math
import os
import sys
import weakref
from typing import NamedTuple, Optional, Tuple

import numpy as np

from ._errors import BackendUnavailableError, DeviceError, InvalidArgumentError, Status

_LITTLE = sys.byteorder == "little"

# ---- reading __cuda_array_interface__ ----------------------------------------------------------


class CudaArrayView(NamedTuple):
    """What melspec needs from a __cuda_array_interface__: a C-contiguous array's pointer."""

    ptr: int
    shape: Tuple[int, ...]
    typestr: str          # normalized: "<f4", "<c8", ...
    readonly: bool
    stream: Optional[int]  # None, 1 (legacy default), 2 (per-thread default) or a cudaStream_t


def cuda_array_interface(obj, what):
    """obj.__cuda_array_interface__, or None when obj has none. torch's CPU tensors raise
    AttributeError from the property, so they count as having none."""
    try:
        return obj.__cuda_array_interface__
    except AttributeError:
        return None
    except Exception as error:  # a property that raises is the producer's way to refuse
        raise InvalidArgumentError(
            f"{what}.__cuda_array_interface__ raised {type(error).__name__}: {error}") from error


def _normalize_typestr(typestr):
    """'=f4' is '<f4' on a little-endian host: one spelling for the comparisons."""
    if typestr[:1] == "=" and _LITTLE:
        return "<" + typestr[1:]
    return typestr


def cuda_array_view(obj, what):
    """Parses and checks obj's __cuda_array_interface__ (https://numba.readthedocs.io/en/stable/
    cuda/cuda_array_interface.html): C-contiguous, unmasked. Raises InvalidArgumentError naming
    `what` ("y", "out") for anything melspec cannot use in place."""
    interface = cuda_array_interface(obj, what)
    if interface is None:
        raise InvalidArgumentError(f"{what} has no __cuda_array_interface__")
    return parse_cuda_array_interface(interface, what)


def parse_cuda_array_interface(interface, what):
    """The CudaArrayView of an interface dict (see cuda_array_view)."""
    if not isinstance(interface, dict):
        raise InvalidArgumentError(f"{what}.__cuda_array_interface__ is a "
                                   f"{type(interface).__name__}, not a dict")
    missing = [key for key in ("shape", "typestr", "data") if key not in interface]
    if missing:
        raise InvalidArgumentError(f"{what}.__cuda_array_interface__ lacks {', '.join(missing)}")
    shape = interface["shape"]
    if not isinstance(shape, (tuple, list)) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise InvalidArgumentError(f"{what}.__cuda_array_interface__ shape = {shape!r} is not a "
                                   "tuple of non-negative integers")
    shape = tuple(shape)
    typestr = interface["typestr"]
    if not isinstance(typestr, str):
        raise InvalidArgumentError(f"{what}.__cuda_array_interface__ typestr = {typestr!r} is "
                                   "not a string")
    typestr = _normalize_typestr(typestr)
    data = interface["data"]
    if (not isinstance(data, (tuple, list)) or len(data) != 2 or not isinstance(data[0], int)
            or data[0] < 0):
        raise InvalidArgumentError(f"{what}.__cuda_array_interface__ data = {data!r} is not a "
                                   "(pointer, read_only) pair")
    ptr, readonly = data[0], bool(data[1])
    if interface.get("mask") is not None:
        raise InvalidArgumentError(f"{what} is a masked CUDA array: melspec takes plain arrays")
    stream = interface.get("stream")
    if stream is not None:
        if not isinstance(stream, int) or isinstance(stream, bool) or stream < 0:
            raise InvalidArgumentError(f"{what}.__cuda_array_interface__ stream = {stream!r} is "
                                       "not a stream handle")
        if stream == 0:
            raise InvalidArgumentError(
                f"{what}.__cuda_array_interface__ stream = 0, which the interface disallows "
                "(ambiguous): use 1 for the legacy default stream or 2 for per-thread")
    strides = interface.get("strides")
    if strides is not None:
        itemsize = _itemsize(typestr)
        expected = _c_strides(shape, itemsize)
        if len(strides) != len(shape) or any(
                size > 1 and stride != want
                for size, stride, want in zip(shape, strides, expected)):
            raise InvalidArgumentError(
                f"{what} is not C-contiguous (shape {shape}, strides {tuple(strides)}; C order "
                f"needs {expected}): make it contiguous first (e.g. .contiguous() in torch, "
                "cupy.ascontiguousarray)")
    return CudaArrayView(ptr, shape, typestr, readonly, stream)


def _itemsize(typestr):
    try:
        return int(typestr[2:])
    except ValueError:
        raise InvalidArgumentError(f"typestr {typestr!r} is not understood") from None


def _c_strides(shape, itemsize):
    strides, step = [], itemsize
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def stream_handle(stream):
    """A stream argument (int handle, torch.cuda.Stream, cupy Stream) as an int or None."""
    if stream is None:
        return None
    for attribute in ("cuda_stream", "ptr", "handle"):  # torch, cupy, cuda-python
        value = getattr(stream, attribute, None)
        if isinstance(value, int):
            stream = value
            break
    if isinstance(stream, bool) or not isinstance(stream, int) or stream < 0:
        raise InvalidArgumentError(f"stream = {stream!r} is not a CUDA stream handle (an int "
                                   "cudaStream_t, torch.cuda.Stream or cupy Stream)")
    return stream


# ---- the CUDA runtime --------------------------------------------------------------------------

_MEMCPY_DEVICE_TO_HOST = 2
_cudart = None


class _CudaRuntime:
    def __init__(self, cdll):
        self.cdll = cdll
        self.path = getattr(cdll, "_name", "?")
        declarations = {
            "cudaMalloc": [ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t],
            "cudaFree": [ctypes.c_void_p],
            "cudaGetDevice": [ctypes.POINTER(ctypes.c_int)],
            "cudaSetDevice": [ctypes.c_int],
            "cudaMemcpy": [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int],
            "cudaStreamSynchronize": [ctypes.c_void_p],
        }
        for name, argtypes in declarations.items():
            function = getattr(cdll, name)
            function.restype, function.argtypes = ctypes.c_int, argtypes
            setattr(self, name, function)
        for name in ("cudaGetErrorName", "cudaGetErrorString"):
            function = getattr(cdll, name)
            function.restype, function.argtypes = ctypes.c_char_p, [ctypes.c_int]
            setattr(self, name, function)

    def check(self, code, what):
        if code != 0:
            name = self.cudaGetErrorName(code) or b"?"
            text = self.cudaGetErrorString(code) or b"?"
            raise DeviceError(f"{what} failed: {name.decode()} ({text.decode()})",
                              Status.ERROR_DEVICE)

    def current_device(self):
        device = ctypes.c_int()
        self.check(self.cudaGetDevice(ctypes.byref(device)), "cudaGetDevice")
        return device.value

    def malloc(self, nbytes, device):
        previous = self.current_device()
        if previous != device:
            self.check(self.cudaSetDevice(device), f"cudaSetDevice({device})")
        try:
            ptr = ctypes.c_void_p()
            self.check(self.cudaMalloc(ctypes.byref(ptr), nbytes), f"cudaMalloc({nbytes} bytes)")
            return ptr.value
        finally:
            if previous != device:
                self.cudaSetDevice(previous)


def _cudart_candidates():
    explicit = os.environ.get("MELSPEC_CUDART")
    if explicit:
        return [explicit]
    names = []
    found = ctypes.util.find_library("cudart")
    if found:
        names.append(found)
    names += ["libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0"]
    return names


def cuda_runtime():
    """libcudart, loaded once. Already-loaded copies (torch's, the library's) are found by soname."""
    global _cudart
    if _cudart is None:
        errors = []
        for name in _cudart_candidates():
            try:
                _cudart = _CudaRuntime(ctypes.CDLL(name))
                break
            except (OSError, AttributeError) as error:
                errors.append(f"{name} ({error})")
        else:
            raise BackendUnavailableError(
                "melspec needs the CUDA runtime (libcudart) to allocate device results, and "
                "could not load it: tried " + "; ".join(errors) + ". Set MELSPEC_CUDART to its "
                "path, or pass out= (a device array you allocated)",
                Status.ERROR_BACKEND_UNAVAILABLE)
    return _cudart


# ---- device results ----------------------------------------------------------------------------


def _free(runtime, ptr, device):
    # Runs from the garbage collector, possibly during interpreter exit when the runtime is
    # unloading: errors cannot be reported anywhere and are ignored.
    try:
        previous = ctypes.c_int()
        if runtime.cudaGetDevice(ctypes.byref(previous)) == 0 and previous.value != device:
            runtime.cudaSetDevice(device)
            runtime.cudaFree(ptr)
            runtime.cudaSetDevice(previous.value)
        else:
            runtime.cudaFree(ptr)
    except Exception:  # noqa: BLE001 - nothing can be raised from a finalizer
        pass


class DeviceArray:
    """A result in GPU memory, owned by melspec: freed (cudaFree) when garbage-collected.

    Exposes ``__cuda_array_interface__`` (version 3), so ``torch.as_tensor(a, device="cuda")``,
    ``cupy.asarray(a)`` or ``numba.cuda.as_cuda_array(a)`` wrap it without a copy; they keep this
    object alive as long as they use the memory. The interface's ``stream`` is the stream the
    result was computed on: consumers synchronize with it before reading.
    """

    __slots__ = ("shape", "dtype", "ptr", "nbytes", "device", "stream", "_finalizer",
                 "__weakref__")

    def __init__(self, shape, dtype, ptr, device, stream, release=None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.ptr = ptr
        self.nbytes = math.prod(self.shape) * self.dtype.itemsize
        self.device = device
        self.stream = stream  # as in the interface: 1 = legacy default stream
        self._finalizer = weakref.finalize(self, *release) if release else None

    @classmethod
    def allocate(cls, shape, dtype, device, stream):
        runtime = cuda_runtime()
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        ptr = runtime.malloc(nbytes, device)
        return cls(shape, dtype, ptr, device, stream, (_free, runtime, ptr, device))

    @property
    def __cuda_array_interface__(self):
        if self.ptr is None:
            raise ValueError("DeviceArray was freed")
        return {"version": 3, "shape": self.shape, "typestr": self.dtype.str,
                "data": (self.ptr, False), "strides": None, "stream": self.stream}

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    def copy_to_host(self):
        """A numpy copy (waits for the stream the result was computed on)."""
        if self.ptr is None:
            raise ValueError("DeviceArray was freed")
        runtime = cuda_runtime()
        host = np.empty(self.shape, self.dtype)
        handle = None if self.stream in (None, 1) else self.stream
        runtime.check(runtime.cudaStreamSynchronize(handle), "cudaStreamSynchronize")
        runtime.check(runtime.cudaMemcpy(host.ctypes.data, self.ptr, self.nbytes,
                                         _MEMCPY_DEVICE_TO_HOST), "cudaMemcpy")
        return host

    def free(self):
        """Frees the memory now (also done at garbage collection). Safe to call twice."""
        if self._finalizer is not None:
            self._finalizer()
        self.ptr = None

    def __repr__(self):
        return (f"DeviceArray(shape={self.shape}, dtype={self.dtype.name}, device=cuda:"
                f"{self.device}, stream={self.stream})")
