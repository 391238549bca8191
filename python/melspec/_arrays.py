"""Arrays in, arrays out: the one place where melspec decides what kind of array it was given and
what kind it returns. Every entry point (plans, the librosa-shaped functions, CQT, streams) goes
through here for anything that is not a plain numpy array.

    numpy                              -> numpy (read in place when float32 C-contiguous)
    torch.Tensor on the CPU            -> torch.Tensor on the CPU: the input read in place through
                                          Tensor.numpy(), the output from torch.empty
    torch.Tensor on CUDA               -> torch.Tensor on the same device, allocated by torch (its
                                          caching allocator), computed on
                                          torch.cuda.current_stream(): nothing waits on the host
    cupy array                         -> cupy array (cupy.empty on the input's device)
    other __cuda_array_interface__     -> melspec.DeviceArray (itself a CUDA array interface)
    __dlpack__ only (jax, ...)         -> CPU: numpy (np.from_dlpack, no copy); CUDA: DeviceArray

Never imports torch or cupy: an object of theirs can only exist once they are loaded, so they are
looked up in sys.modules. Conversions that copy (float64 or non-contiguous input) are the same as
numpy's: the input is converted to float32 C order first, as the numpy path does.
"""
import ctypes
import sys

import numpy as np

from ._device import cuda_array_interface
from ._errors import InvalidArgumentError

_FLOAT32 = np.dtype(np.float32)

# ---- torch -------------------------------------------------------------------------------------


def _torch_of(y):
    """The torch module when y is a torch.Tensor, else None (without importing torch)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(y, torch.Tensor):
        return torch
    return None


def is_torch(y):
    return _torch_of(y) is not None


_TORCH_DTYPES = {}  # numpy dtype -> torch dtype, filled on first use


def torch_dtype(torch, dtype):
    try:
        return _TORCH_DTYPES[dtype]
    except KeyError:
        table = {np.dtype(np.float32): torch.float32, np.dtype(np.float16): torch.float16,
                 np.dtype(np.complex64): torch.complex64}
        _TORCH_DTYPES.update(table)
        return table[dtype]


def _torch_audio(torch, y):
    """y as a float32 contiguous tensor without autograd history (melspec is not differentiable;
    the result never requires grad), or the librosa-style error for what is not audio."""
    if y.requires_grad:
        y = y.detach()
    if y.dtype is not torch.float32 or not y.is_contiguous():
        if not (y.is_floating_point()):
            raise InvalidArgumentError(f"Audio data must be floating-point, got dtype {y.dtype}")
        y = y.to(torch.float32).contiguous()  # a copy, as numpy's path converts float64
    if y.dim() == 0:
        raise InvalidArgumentError(
            f"Audio data must be at least one-dimensional, given y.shape={tuple(y.shape)}")
    if y.numel() == 0:
        raise InvalidArgumentError(f"Audio data is empty: y.shape={tuple(y.shape)}")
    return y


def _check_torch_out(torch, out, shape, dtype, device):
    if not isinstance(out, torch.Tensor):
        raise InvalidArgumentError(f"out must be a torch.Tensor for torch input, got "
                                   f"{type(out).__name__}")
    if tuple(out.shape) != shape or out.dtype is not dtype or out.device != device:
        raise InvalidArgumentError(
            f"out has shape {tuple(out.shape)}, dtype {out.dtype} on {out.device}; this call "
            f"writes shape {shape} of {dtype} on {device}")
    if not out.is_contiguous():
        raise InvalidArgumentError("out must be contiguous")


def _torch_stream(torch, device, stream):
    if stream is not None:
        return stream
    handle = torch.cuda.current_stream(device).cuda_stream
    return handle or 1  # torch's 0 is the legacy default stream, which the interface calls 1


def _call_torch(torch, plan, y, out, stream):
    y = _torch_audio(torch, y)
    device = y.device
    if device.type not in ("cpu", "cuda"):
        raise InvalidArgumentError(f"y is a tensor on {device}: melspec reads CPU and CUDA "
                                   "tensors")
    n_samples = y.shape[-1]
    shape = tuple(y.shape[:-1]) + (plan._dims.get(n_samples) or plan._signal_dims(n_samples))
    dtype = torch_dtype(torch, plan._dtype)
    if out is None:
        out = torch.empty(shape, dtype=dtype, device=device)
    else:
        _check_torch_out(torch, out, shape, dtype, device)
    if device.type == "cpu":
        if stream is not None:
            raise InvalidArgumentError("stream= applies to CUDA arrays; y is a CPU tensor")
        plan._execute_host(y.data_ptr(), y.numel() // n_samples, n_samples, out.data_ptr(),
                           out.nbytes)
        return out
    ordinal = plan._config.device_ordinal
    if device.index is not None and device.index != ordinal and plan.backend == "cuda":
        raise InvalidArgumentError(f"y is on {device} but this plan runs on cuda:{ordinal}: "
                                   f"create the plan with device='{device}'")
    source = {"shape": tuple(y.shape), "typestr": "<f4", "data": (y.data_ptr(), False),
              "strides": None}
    target = {"shape": shape, "typestr": plan._dtype.str, "data": (out.data_ptr(), False),
              "strides": None}
    plan._call_device(source, out, _torch_stream(torch, device, stream), out_interface=target)
    return out


# ---- cupy and other CUDA arrays ----------------------------------------------------------------


def _cupy_of(y):
    if type(y).__module__.partition(".")[0] != "cupy":
        return None
    return sys.modules.get("cupy")


def _call_cuda_interface(plan, y, interface, out, stream):
    cupy = _cupy_of(y) if out is None else None
    if cupy is not None:
        shape = plan.output_shape(tuple(interface["shape"]))
        with y.device:  # the input's device, as cupy allocates on the current one
            out = cupy.empty(shape, dtype=plan._dtype)
        plan._call_device(interface, out, stream)
        return out
    return plan._call_device(interface, out, stream)


# ---- DLPack ------------------------------------------------------------------------------------

_DL_CPU, _DL_CUDA, _DL_CUDA_MANAGED = 1, 2, 13
_DL_FLOAT = 2


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype, _capsule_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object,
                                                                        ctypes.c_char_p]


def dlpack_interface(capsule, what):
    """A legacy "dltensor" capsule (DLManagedTensor, whose first member is the DLTensor) as a
    __cuda_array_interface__ dict. The capsule is not consumed: when it is garbage-collected its
    producer's destructor releases the tensor, so the memory lives as long as the producer's array
    (which the caller holds during the call, as with __cuda_array_interface__)."""
    try:
        address = _capsule_pointer(capsule, b"dltensor")
    except ValueError as error:
        raise InvalidArgumentError(f"{what}.__dlpack__() did not return a 'dltensor' capsule: "
                                   f"{error}") from None
    tensor = _DLTensor.from_address(address)
    kind = tensor.dtype
    if (kind.code, kind.bits, kind.lanes) != (_DL_FLOAT, 32, 1):
        raise InvalidArgumentError(
            f"{what} is a DLPack tensor of dtype code {kind.code}, {kind.bits} bits x "
            f"{kind.lanes}: melspec reads float32 device arrays in place; convert it first")
    shape = tuple(tensor.shape[i] for i in range(tensor.ndim))
    strides = None
    if tensor.strides:  # DLPack strides count elements; the interface counts bytes
        strides = tuple(4 * tensor.strides[i] for i in range(tensor.ndim))
    return {"shape": shape, "typestr": "<f4", "strides": strides,
            "data": ((tensor.data or 0) + tensor.byte_offset, False),
            "device": (tensor.device.device_type, tensor.device.device_id)}


def _call_dlpack(plan, y, out, stream):
    try:
        device_type, _ = y.__dlpack_device__()
    except Exception as error:  # noqa: BLE001 - the producer's refusal, passed on with its words
        raise InvalidArgumentError(f"y.__dlpack_device__() raised {type(error).__name__}: "
                                   f"{error}") from error
    if device_type == _DL_CPU:
        return plan(np.from_dlpack(y), out=out)
    if device_type not in (_DL_CUDA, _DL_CUDA_MANAGED):
        raise InvalidArgumentError(f"y is a DLPack array on device type {device_type}: melspec "
                                   "reads CPU (1) and CUDA (2) arrays")
    from ._device import stream_handle
    handle = stream_handle(stream) if stream is not None else 1
    capsule = y.__dlpack__(stream=handle)  # the producer orders its work before this stream
    interface = dlpack_interface(capsule, "y")
    interface.pop("device")
    result = plan._call_device(interface, out, handle)
    del capsule
    return result


# ---- the entry points --------------------------------------------------------------------------


def call(plan, y, out, stream):
    """plan(y, out=out, stream=stream) for any y that is not a numpy array."""
    torch = _torch_of(y)
    if torch is not None:
        return _call_torch(torch, plan, y, out, stream)
    interface = cuda_array_interface(y, "y")
    if interface is not None:
        return _call_cuda_interface(plan, y, interface, out, stream)
    if hasattr(y, "__dlpack__") and hasattr(y, "__dlpack_device__"):
        return _call_dlpack(plan, y, out, stream)
    raise InvalidArgumentError(
        f"Audio data must be of type numpy.ndarray, a torch.Tensor or a CUDA array "
        f"(__cuda_array_interface__ or __dlpack__), got {type(y).__name__}")


def compiling(y):
    """True while torch.compile traces a call on tensor y: ctypes and the plan cache cannot be
    traced, so the functions then go through melspec.torch's custom operators."""
    torch = _torch_of(y)
    return torch is not None and torch.compiler.is_compiling()


def plan_device(y, device):
    """The device a function's plan should run on for y: "auto" follows a CUDA tensor's device
    (so a tensor on cuda:1 gets a plan on cuda:1; the function caches one plan per device)."""
    if device != "auto":
        return device
    torch = _torch_of(y)
    if torch is not None and y.device.type == "cuda":
        return f"cuda:{y.device.index or 0}"
    if _cupy_of(y) is not None:
        return f"cuda:{y.device.id}"
    return device


class HostChunk:
    """A stream chunk as a float32 C-contiguous numpy array, and how to give results back in the
    chunk's own kind (numpy, or torch on the chunk's device)."""

    __slots__ = ("samples", "_torch", "_device")

    def __init__(self, chunk):
        torch = _torch_of(chunk)
        self._torch = torch
        if torch is None:
            from ._plan import host_audio
            self.samples = host_audio(chunk)
            return
        if chunk.requires_grad:
            chunk = chunk.detach()
        if not chunk.is_floating_point():
            raise InvalidArgumentError(f"Audio data must be floating-point, got dtype "
                                       f"{chunk.dtype}")
        self._device = chunk.device
        # The streaming API reads host samples: a CUDA chunk is copied to the host (this waits
        # for the device); a CPU float32 contiguous chunk is read in place.
        chunk = chunk.to("cpu", torch.float32).contiguous()
        if chunk.dim() == 0:
            raise InvalidArgumentError("Audio data must be at least one-dimensional, given "
                                       "y.shape=()")
        self.samples = chunk.numpy()

    @staticmethod
    def numpy(frames):
        return frames

    def give_back(self, frames):
        if self._torch is None:
            return frames
        result = self._torch.from_numpy(frames)
        if self._device.type != "cpu":
            result = result.to(self._device)
        return result


__all__ = ["call", "compiling", "plan_device", "HostChunk", "is_torch", "dlpack_interface"]
