"""melspec._arrays' device paths against a CUDA backend that computes: the plugin built on the CPU
emulation of the CUDA runtime (tests/cuda_emulator), whose device memory is host memory that
Python can fill. CUDA arrays (__cuda_array_interface__), DLPack CUDA capsules and cupy arrays
(a stand-in module) go in; the results are compared with the CPU backend.

Runs only when MELSPEC_EMULATED_BUILD names such a build (libmelspec.so, libmelspec_cuda.so,
libmelspec_cuda_emu_runtime.so), e.g. build-gpu-dry/ after scripts/gpu-run.sh --dry-run, as
.ci/run does; skipped otherwise. In a fresh interpreter: the plugin must bind the emulated
runtime before torch (which loads the real libcudart) is imported.
"""
import os

import pytest

from conftest import run_python, subprocess_env

BUILD = os.environ.get("MELSPEC_EMULATED_BUILD")

pytestmark = pytest.mark.skipif(
    not BUILD or not os.path.isfile(os.path.join(BUILD or "", "libmelspec_cuda_emu_runtime.so")),
    reason="set MELSPEC_EMULATED_BUILD to a build with the CUDA emulation (build-gpu-dry/)")

CHECKS = """
    import ctypes, sys
    import numpy as np
    import melspec
    from melspec import _device

    config = dict(sr=16000, n_fft=800, hop_length=200, n_mels=80, fmin=55.0, fmax=7600.0,
                  power=1.0)
    plan = melspec.MelSpectrogram(**config, device="cuda")  # binds the emulated runtime
    assert plan.backend == "cuda", plan.backend
    runtime = _device.cuda_runtime()
    y = np.random.default_rng(0).standard_normal((2, 16000)).astype(np.float32)
    reference = melspec.melspectrogram(y, **config, device="cpu")

    def close(result):
        host = result.copy_to_host() if isinstance(result, melspec.DeviceArray) else result
        error = np.max(np.abs(np.asarray(host) - reference)) / np.max(reference)
        assert error < 1e-5, error

    def upload(array):
        device = melspec.DeviceArray.allocate(array.shape, np.float32, 0, 1)
        runtime.check(runtime.cudaMemcpy(device.ptr, array.ctypes.data, array.nbytes, 1), "copy")
        return device

    source = upload(y)
    close(plan(source))                                    # __cuda_array_interface__

    import torch  # after the plugin bound the emulated runtime
    alias = torch.frombuffer((ctypes.c_float * y.size).from_address(source.ptr),
                             dtype=torch.float32).reshape(y.shape)

    class CudaDLPack:  # a DLPack-only CUDA array (as jax's): the capsule of the device memory
        def __init__(self, tensor):
            self.tensor, self.streams = tensor, []
        def __dlpack__(self, stream=None):
            self.streams.append(stream)
            return self.tensor.__dlpack__()
        def __dlpack_device__(self):
            return (2, 0)

    dlpack = CudaDLPack(alias)
    result = plan(dlpack)
    assert isinstance(result, melspec.DeviceArray) and dlpack.streams == [1], dlpack.streams
    close(result)

    class Device:
        id = 0
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return False

    class CupyArray:  # what melspec sees of cupy.ndarray, over emulated device memory
        def __init__(self, device_array):
            self.memory, self.device = device_array, Device()
        @property
        def __cuda_array_interface__(self):
            interface = dict(self.memory.__cuda_array_interface__)
            interface["stream"] = 1
            return interface
    CupyArray.__module__ = "cupy._core.core"

    class cupy:
        @staticmethod
        def empty(shape, dtype):
            return CupyArray(melspec.DeviceArray.allocate(shape, dtype, 0, 1))
    sys.modules["cupy"] = cupy
    result = plan(CupyArray(source))
    assert type(result) is CupyArray, type(result)
    close(result.memory)

    tensor = torch.from_numpy(y)                            # a host tensor on a CUDA plan
    result = plan(tensor)
    assert isinstance(result, torch.Tensor) and result.device.type == "cpu"
    close(result.numpy())
    print("ok")
"""


def test_device_paths_on_the_emulated_backend():
    env = subprocess_env()
    env["MELSPEC_LIBRARY"] = os.path.join(BUILD, "libmelspec.so")
    env["MELSPEC_CUDA_PLUGIN"] = os.path.join(BUILD, "libmelspec_cuda.so")
    env["MELSPEC_CUDART"] = os.path.join(BUILD, "libmelspec_cuda_emu_runtime.so")
    result = run_python(CHECKS, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok"), result.stdout
