"""Device arrays without a GPU: __cuda_array_interface__ parsing, validation, stream handling
and result allocation, driven through fake arrays, a fake device entry point and a fake CUDA
runtime. (The real path needs the CUDA backend and a GPU: tests/python does not reach it.)"""
import gc

import numpy as np
import pytest

import melspec
from melspec import _device, _library
from melspec import _plan as plan_module


class FakeCudaArray:
    """Anything exposing __cuda_array_interface__, as torch, cupy and numba arrays do."""

    def __init__(self, shape, typestr="<f4", ptr=0x7000_0000, strides=None, stream=None,
                 readonly=False, version=3, **extra):
        self.interface = {"shape": tuple(shape), "typestr": typestr, "data": (ptr, readonly),
                          "version": version, "strides": strides, **extra}
        if stream is not None:
            self.interface["stream"] = stream

    @property
    def __cuda_array_interface__(self):
        return self.interface


def test_view_of_a_contiguous_array():
    view = _device.cuda_array_view(FakeCudaArray((2, 100), stream=5), "y")
    assert view == (0x7000_0000, (2, 100), "<f4", False, 5)
    # explicit C strides and size-1 dimensions with any stride are contiguous too
    assert _device.cuda_array_view(FakeCudaArray((2, 100), strides=(400, 4)), "y").shape == (2, 100)
    assert _device.cuda_array_view(FakeCudaArray((1, 100), strides=(8, 4)), "y").shape == (1, 100)
    assert _device.cuda_array_view(FakeCudaArray((100,), typestr="=f4"), "y").typestr == "<f4"


@pytest.mark.parametrize("array,message", [
    (FakeCudaArray((2, 100), strides=(4, 8)), "not C-contiguous"),
    (FakeCudaArray((100,), strides=(8,)), "not C-contiguous"),
    (FakeCudaArray((100,), stream=0), "stream = 0"),
    (FakeCudaArray((100,), stream="fast"), "stream"),
    (FakeCudaArray((100,), mask=object()), "masked"),
    (FakeCudaArray((100,), ptr=-1), "pointer"),
    (FakeCudaArray((-1,)), "shape"),
    (FakeCudaArray((100,), typestr=7), "typestr"),
])
def test_view_refuses_what_cannot_be_used_in_place(array, message):
    with pytest.raises(melspec.InvalidArgumentError, match=message):
        _device.cuda_array_view(array, "y")


def test_view_of_broken_interfaces():
    class Raising:
        @property
        def __cuda_array_interface__(self):
            raise RuntimeError("not on this device")

    class NotADict:
        __cuda_array_interface__ = [1, 2]

    class Missing:
        __cuda_array_interface__ = {"shape": (3,)}

    with pytest.raises(melspec.InvalidArgumentError, match="not on this device"):
        _device.cuda_array_view(Raising(), "y")
    with pytest.raises(melspec.InvalidArgumentError, match="not a dict"):
        _device.cuda_array_view(NotADict(), "y")
    with pytest.raises(melspec.InvalidArgumentError, match="lacks typestr, data"):
        _device.cuda_array_view(Missing(), "out")


def test_stream_arguments():
    class TorchStream:
        cuda_stream = 1234

    class CupyStream:
        ptr = 99

    assert _device.stream_handle(None) is None
    assert _device.stream_handle(77) == 77
    assert _device.stream_handle(TorchStream()) == 1234
    assert _device.stream_handle(CupyStream()) == 99
    with pytest.raises(melspec.InvalidArgumentError, match="stream"):
        _device.stream_handle("default")


class FakeRuntime:
    """Stands in for libcudart: hands out fake pointers and records frees."""

    def __init__(self):
        self.allocated, self.freed, self.next = [], [], 0x9000_0000

    def malloc(self, nbytes, device):
        self.next += 0x10_0000
        self.allocated.append((self.next, nbytes, device))
        return self.next

    def cudaGetDevice(self, pointer):
        return 0

    def cudaFree(self, ptr):
        self.freed.append(ptr)
        return 0


@pytest.fixture
def cuda_plan(monkeypatch):
    """A CPU plan dressed as a CUDA plan, with melspec_execute_device and set_stream faked."""
    calls = {"execute": [], "stream": []}

    def execute_device(handle, source, batch, n_samples, target, nbytes):
        calls["execute"].append((source, batch, n_samples, target, nbytes))
        return 0

    def set_stream(handle, stream):
        calls["stream"].append(stream)
        return 0

    runtime = FakeRuntime()
    monkeypatch.setattr(_library.lib, "execute_device", execute_device)
    monkeypatch.setattr(_library.lib, "plan_set_cuda_stream", set_stream)
    monkeypatch.setattr(_device, "cuda_runtime", lambda: runtime)
    plan = melspec.MelSpectrogram(sr=16000, n_fft=800, hop_length=200, n_mels=80, device="cpu")
    plan._backend = _library.BACKEND_CUDA
    yield plan, calls, runtime
    plan.close()


def test_device_call_allocates_a_result(cuda_plan):
    plan, calls, runtime = cuda_plan
    result = plan(FakeCudaArray((3, 16000), ptr=0x1234_0000, stream=77))
    assert isinstance(result, melspec.DeviceArray)
    assert result.shape == (3, 80, 81) and result.dtype == np.float32
    interface = result.__cuda_array_interface__
    assert interface == {"version": 3, "shape": (3, 80, 81), "typestr": "<f4",
                         "data": (runtime.allocated[0][0], False), "strides": None, "stream": 77}
    assert runtime.allocated[0][1] == 3 * 80 * 81 * 4
    assert calls["stream"] == [77]
    assert calls["execute"] == [(0x1234_0000, 3, 16000, runtime.allocated[0][0], 3 * 80 * 81 * 4)]
    # the result is itself a valid device array for melspec (and torch, cupy)
    assert _device.cuda_array_view(result, "out").shape == (3, 80, 81)
    pointer = result.ptr
    del result, interface
    gc.collect()
    assert runtime.freed == [pointer]


def test_device_call_streams(cuda_plan):
    plan, calls, _ = cuda_plan
    y = FakeCudaArray((16000,), stream=77)
    plan(y)
    plan(y)
    assert calls["stream"] == [77]  # set once, then remembered
    result = plan(FakeCudaArray((16000,)))  # no stream in the interface: legacy default
    assert calls["stream"] == [77, None] and result.stream == 1
    plan(FakeCudaArray((16000,), stream=1))  # 1 is the legacy default stream: NULL
    assert calls["stream"] == [77, None]
    plan(FakeCudaArray((16000,), stream=2), stream=555)  # an explicit stream wins
    assert calls["stream"] == [77, None, 555]


def test_device_call_into_out(cuda_plan):
    plan, calls, runtime = cuda_plan
    out = FakeCudaArray((2, 80, 81), ptr=0x5555_0000, stream=9)
    assert plan(FakeCudaArray((2, 16000)), out=out) is out
    assert calls["execute"][-1] == (0x7000_0000, 2, 16000, 0x5555_0000, 2 * 80 * 81 * 4)
    assert calls["stream"] == [9] and runtime.allocated == []


@pytest.mark.parametrize("y,out,message", [
    (FakeCudaArray((16000,), typestr="<f8"), None, "float32"),
    (FakeCudaArray((2, 16000), strides=(4, 8)), None, "C-contiguous"),
    (FakeCudaArray(()), None, "one-dimensional"),
    (FakeCudaArray((0, 16000)), None, "empty"),
    (FakeCudaArray((16000,)), FakeCudaArray((80, 80)), "shape"),
    (FakeCudaArray((16000,)), FakeCudaArray((80, 81), typestr="<f2"), "typestr"),
    (FakeCudaArray((16000,)), FakeCudaArray((80, 81), readonly=True), "read-only"),
    (FakeCudaArray((16000,)), np.empty((80, 81), np.float32), "CUDA array"),
    (FakeCudaArray((100,)), None, "shorter than n_fft|n_samples"),
])
def test_device_call_validation(cuda_plan, y, out, message):
    plan, calls, runtime = cuda_plan
    if message.startswith("shorter"):
        plan = melspec.MelSpectrogram(sr=16000, n_fft=800, center=False, device="cpu")
        plan._backend = _library.BACKEND_CUDA
    with pytest.raises(melspec.InvalidArgumentError, match=message):
        plan(y, out=out)
    assert calls["execute"] == [] and runtime.allocated == []


def test_device_array_on_a_cpu_plan():
    with melspec.MelSpectrogram(device="cpu") as plan:
        with pytest.raises(melspec.BackendUnavailableError, match="CUDA"):
            plan(FakeCudaArray((16000,)))


def test_device_api_missing_from_the_library(monkeypatch):
    monkeypatch.setattr(_library.lib, "execute_device", None)
    with melspec.MelSpectrogram(device="cpu") as plan:
        with pytest.raises(melspec.BackendUnavailableError, match="melspec_execute_device"):
            plan(FakeCudaArray((16000,)))


def test_missing_cuda_runtime_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("MELSPEC_CUDART", "/nonexistent/libcudart.so")
    monkeypatch.setattr(_device, "_cudart", None)
    with pytest.raises(melspec.BackendUnavailableError, match="MELSPEC_CUDART"):
        _device.cuda_runtime()


def test_device_array_free_is_idempotent():
    runtime = FakeRuntime()
    array = melspec.DeviceArray((2, 3), np.float32, 0xabc000, 0, 1,
                                (_device._free, runtime, 0xabc000, 0))
    assert array.nbytes == 24 and array.ndim == 2 and array.size == 6
    array.free()
    array.free()
    assert runtime.freed == [0xabc000]
    with pytest.raises(ValueError, match="freed"):
        array.__cuda_array_interface__


# ---- the real CUDA runtime (loads here when libcudart is installed; computes only on a GPU) --

def _real_runtime():
    try:
        return _device.cuda_runtime()
    except melspec.BackendUnavailableError:
        pytest.skip("libcudart is not installed")


def test_real_runtime_allocates_or_explains():
    runtime = _real_runtime()
    try:
        array = melspec.DeviceArray.allocate((4, 5), np.float32, 0, 1)
    except melspec.DeviceError as error:  # no driver or no device: a clear CUDA message
        assert "failed: cuda" in str(error)
        return
    assert array.ptr and array.nbytes == 80
    array.free()
    assert runtime is _device.cuda_runtime()


_HOST_TO_DEVICE = 1


def _upload(y):
    runtime = _device.cuda_runtime()
    array = melspec.DeviceArray.allocate(y.shape, np.float32, 0, 1)
    runtime.check(runtime.cudaMemcpy(array.ptr, y.ctypes.data, y.nbytes, _HOST_TO_DEVICE),
                  "cudaMemcpy")
    return array


@pytest.mark.skipif(melspec.cuda_device_count() == 0 or _library.lib.execute_device is None,
                    reason="needs the CUDA backend and a GPU")
def test_gpu_device_arrays_match_librosa():
    import librosa
    from conftest import make_signal, normalized_error
    y = make_signal(16000, 16000, seed=21, channels=(2,)).astype(np.float32)
    kwargs = dict(sr=16000, n_fft=800, hop_length=200, n_mels=80, fmin=55, fmax=7600, power=1.0)
    reference = librosa.feature.melspectrogram(y=y.astype(np.float64), **kwargs)
    with melspec.MelSpectrogram(**kwargs, device="cuda") as plan:
        assert plan.backend == "cuda"
        device_y = _upload(y)
        result = plan(device_y)
        assert isinstance(result, melspec.DeviceArray) and result.shape == reference.shape
        assert normalized_error(result.copy_to_host(), reference) <= 2e-6
        out = melspec.DeviceArray.allocate(reference.shape, np.float32, 0, 1)
        assert plan(device_y, out=out) is out
        assert np.array_equal(out.copy_to_host(), result.copy_to_host())
        host = plan(y)  # host arrays on a CUDA plan: synchronous, numpy out
        assert normalized_error(host, reference) <= 2e-6
