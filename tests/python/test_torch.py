"""torch tensors in and out (CPU here; the CUDA tests skip without a GPU), the custom operators
under torch.compile, and the nn.Modules against librosa."""
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import librosa  # noqa: E402

import melspec  # noqa: E402
import melspec.torch as mt  # noqa: E402
from melspec import _library  # noqa: E402
from melspec import _plan as plan_module  # noqa: E402
from conftest import make_signal, normalized_error, run_python  # noqa: E402
from test_device import cuda_plan as device_plan  # noqa: E402,F401 - a fixture, reused

REALTIME = dict(sr=16000, n_fft=800, hop_length=200, n_mels=80, fmin=55.0, fmax=7600.0,
                power=1.0)


def signal(n=16000, sr=16000, channels=(), seed=0):
    return torch.from_numpy(make_signal(n, sr, seed=seed, channels=channels).astype(np.float32))


@pytest.fixture
def executions(monkeypatch):
    """Records the pointers every host execution reads and writes."""
    calls = []
    real = plan_module._execute

    def recording(handle, source, batch, n_samples, target, nbytes):
        calls.append((source, batch, n_samples, target, nbytes))
        return real(handle, source, batch, n_samples, target, nbytes)

    monkeypatch.setattr(plan_module, "_execute", recording)
    return calls


def test_import_melspec_does_not_import_torch():
    result = run_python("""
        import sys, melspec
        melspec.melspectrogram(__import__("numpy").ones(4096, "float32") * 0.5, sr=16000)
        assert "torch" not in sys.modules, "import melspec imported torch"
        assert "cupy" not in sys.modules
        import melspec.ray
        assert "ray" not in sys.modules, "import melspec.ray imported ray"
        import melspec.torch
        assert "torch" in sys.modules
        print("ok")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# ---- tensors through the plans and functions ---------------------------------------------------

def test_cpu_tensor_in_place_in_torch_out(executions):
    y = signal(channels=(2,))
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        S = plan(y)
        assert isinstance(S, torch.Tensor) and S.dtype == torch.float32
        assert S.shape == (2, 80, 81) and S.device.type == "cpu" and not S.requires_grad
        source, batch, n_samples, target, nbytes = executions[-1]
        assert source == y.data_ptr()          # read in place
        assert target == S.data_ptr()          # written into the tensor torch allocated
        assert (batch, n_samples, nbytes) == (2, 16000, S.numel() * 4)
        np.testing.assert_array_equal(S.numpy(), plan(y.numpy()))


def test_cpu_tensor_matches_librosa():
    y = signal(22050, 22050, seed=3)
    S = melspec.melspectrogram(y, sr=22050, device="cpu")
    reference = librosa.feature.melspectrogram(y=y.numpy().astype(np.float64), sr=22050)
    assert isinstance(S, torch.Tensor)
    assert normalized_error(S.numpy(), reference) < 2e-6


def test_conversions_that_copy_give_the_same_numbers(executions):
    y = signal(channels=(3,))
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        expected = plan(y.numpy())
        for variant in (y.double(), y.t().contiguous().t(), y.requires_grad_(True)):
            S = plan(variant)
            assert isinstance(S, torch.Tensor) and not S.requires_grad
            np.testing.assert_allclose(S.numpy(), expected, rtol=1e-6, atol=1e-7)
        y.requires_grad_(False)
        assert executions[-1][0] == y.data_ptr()  # the requires_grad tensor was read in place


def test_out_tensor(executions):
    y = signal()
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        out = torch.full((80, 81), 7.0)
        assert plan(y, out=out) is out
        assert executions[-1][3] == out.data_ptr()
        np.testing.assert_array_equal(out.numpy(), plan(y.numpy()))
        for bad, message in ((torch.empty(80, 80), "shape"),
                             (torch.empty(80, 81, dtype=torch.float64), "dtype"),
                             (torch.empty(81, 80).t(), "contiguous"),
                             (np.empty((80, 81), np.float32), "torch.Tensor")):
            with pytest.raises(melspec.InvalidArgumentError, match=message):
                plan(y, out=bad)
        with pytest.raises(melspec.InvalidArgumentError, match="stream"):
            plan(y, stream=5)


@pytest.mark.parametrize("y,message", [
    (torch.arange(16000), "floating-point"),
    (torch.tensor(0.5), "one-dimensional"),
    (torch.empty(0, 16000), "empty"),
    (torch.empty(3, 0), "empty|short"),
])
def test_tensors_that_are_not_audio(y, message):
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        with pytest.raises(melspec.InvalidArgumentError, match=message):
            plan(y)


def test_meta_tensors_are_refused_by_plans():
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        with pytest.raises(melspec.InvalidArgumentError, match="meta"):
            plan(torch.empty(16000, device="meta"))


def test_stft_cqt_vqt_functions_return_tensors():
    y = signal(16000, 16000, seed=5)
    D = melspec.stft(y, n_fft=512, device="cpu")
    assert isinstance(D, torch.Tensor) and D.dtype == torch.complex64
    np.testing.assert_array_equal(D.numpy(), melspec.stft(y.numpy(), n_fft=512, device="cpu"))
    C = melspec.cqt(y, sr=16000, n_bins=48, device="cpu")
    assert isinstance(C, torch.Tensor) and C.dtype == torch.complex64 and C.shape == (48, 32)
    np.testing.assert_array_equal(C.numpy(), melspec.cqt(y.numpy(), sr=16000, n_bins=48,
                                                         device="cpu"))
    V = melspec.vqt(y, sr=16000, n_bins=48, device="cpu")
    assert isinstance(V, torch.Tensor)
    with melspec.CQT(sr=16000, n_bins=48, output="magnitude", device="cpu") as plan:
        magnitude = plan(y)
        assert magnitude.dtype == torch.float32
        np.testing.assert_allclose(magnitude.numpy(), np.abs(C.numpy()), rtol=1e-5, atol=1e-6)


def test_whisper_log_mel_of_a_tensor_is_a_tensor():
    y = signal(48000, seed=6) * 0.3
    expected = melspec.whisper.log_mel_spectrogram(y.numpy(), padding=160, device="cpu")
    result = melspec.whisper.log_mel_spectrogram(y, padding=160, device="cpu")
    assert isinstance(result, torch.Tensor) and result.dtype == torch.float32
    np.testing.assert_allclose(result.numpy(), expected, rtol=0, atol=2e-6)


def test_stream_pushes_tensors():
    y = signal(channels=(2,))
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        stream = plan.stream()
        parts = [stream.push(y[:, start:start + 777]) for start in range(0, 16000, 777)]
        parts.append(stream.flush())
        assert all(isinstance(part, torch.Tensor) for part in parts)
        np.testing.assert_array_equal(torch.cat(parts, dim=-1).numpy(), plan(y.numpy()))
        stream.reset()
        numpy_parts = [stream.push(y.numpy()), stream.flush()]  # numpy again after a reset
        assert all(isinstance(part, np.ndarray) for part in numpy_parts)


# ---- cupy and DLPack, through fakes (no cupy here) ---------------------------------------------

@pytest.fixture
def cuda_plan(device_plan):
    """test_device's CPU plan dressed as a CUDA plan, with the device entry points faked."""
    plan, calls, _ = device_plan
    return plan, calls


class _FakeCupyDevice:
    id = 0
    entered = 0

    def __enter__(self):
        _FakeCupyDevice.entered += 1

    def __exit__(self, *exc):
        return False


class FakeCupyArray:
    """Looks like cupy.ndarray to melspec: its module is cupy, it exposes the interface."""

    def __init__(self, shape, dtype=np.float32, ptr=0x4000_0000, stream=42):
        self.shape, self.dtype, self.ptr, self.stream = tuple(shape), np.dtype(dtype), ptr, stream
        self.device = _FakeCupyDevice()

    @property
    def __cuda_array_interface__(self):
        return {"version": 3, "shape": self.shape, "typestr": self.dtype.str,
                "data": (self.ptr, False), "strides": None, "stream": self.stream}


FakeCupyArray.__module__ = "cupy._core.core"


def test_cupy_in_cupy_out(cuda_plan, monkeypatch):
    plan, calls = cuda_plan
    made = []

    class FakeCupyModule:
        @staticmethod
        def empty(shape, dtype):
            made.append(FakeCupyArray(shape, dtype, ptr=0x6000_0000 + len(made)))
            return made[-1]

    monkeypatch.setitem(sys.modules, "cupy", FakeCupyModule)
    y = FakeCupyArray((3, 16000))
    result = plan(y)
    assert result is made[0] and result.shape == (3, 80, 81) and result.dtype == np.float32
    assert calls["execute"] == [(y.ptr, 3, 16000, result.ptr, 3 * 80 * 81 * 4)]
    assert calls["stream"] == [42]          # the stream named by the cupy array's interface
    assert _FakeCupyDevice.entered >= 1     # allocated on the input's device


class FakeDLPack:
    """An array known only through DLPack (as jax's), backed by a torch CPU tensor's capsule;
    device_type says where it claims to live (2 = CUDA, for the fake device plan)."""

    def __init__(self, tensor, device_type=1):
        self.tensor, self.device_type, self.streams = tensor, device_type, []

    def __dlpack__(self, stream=None):
        self.streams.append(stream)
        return self.tensor.__dlpack__()

    def __dlpack_device__(self):
        return (self.device_type, 0)


def test_dlpack_cpu_array_is_read_in_place(executions):
    y = signal()
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        S = plan(FakeDLPack(y))
        assert isinstance(S, np.ndarray)
        assert executions[-1][0] == y.data_ptr()
        np.testing.assert_array_equal(S, plan(y.numpy()))


def test_dlpack_cuda_array(cuda_plan):
    plan, calls = cuda_plan
    y = signal(channels=(2,))
    source = FakeDLPack(y, device_type=2)
    result = plan(source, stream=77)
    assert isinstance(result, melspec.DeviceArray) and result.shape == (2, 80, 81)
    assert calls["execute"][-1][:3] == (y.data_ptr(), 2, 16000)
    assert source.streams == [77] and calls["stream"] == [77]
    sliced = FakeDLPack(y[:, ::2], device_type=2)   # strided: refused, not read wrongly
    with pytest.raises(melspec.InvalidArgumentError, match="C-contiguous"):
        plan(sliced)
    with pytest.raises(melspec.InvalidArgumentError, match="float32"):
        plan(FakeDLPack(y.double(), device_type=2))


def test_unknown_objects_are_refused():
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        with pytest.raises(melspec.InvalidArgumentError, match="torch.Tensor"):
            plan([0.1] * 16000)


# ---- the custom operators ----------------------------------------------------------------------

class Symbolic:
    """A stand-in for a SymInt: an integer melspec cannot pass to C (the fake's formula path)."""

    def __init__(self, value):
        self.value = value

    def _wrap(self, other, operation):
        other = other.value if isinstance(other, Symbolic) else other
        return Symbolic(operation(self.value, other))

    def __add__(self, other):
        return self._wrap(other, lambda a, b: a + b)

    __radd__ = __add__

    def __sub__(self, other):
        return self._wrap(other, lambda a, b: a - b)

    def __floordiv__(self, other):
        return self._wrap(other, lambda a, b: a // b)

    def __ge__(self, other):
        return self.value >= (other.value if isinstance(other, Symbolic) else other)


class ShapeOnly:
    def __init__(self, shape):
        self.shape = shape


@pytest.mark.parametrize("cls,kwargs", [
    (melspec.MelSpectrogram, dict(sr=16000, n_fft=800, hop_length=200, n_mels=80)),
    (melspec.MelSpectrogram, dict(sr=16000, n_fft=401, hop_length=160, n_mels=40, center=False)),
    (melspec.MelSpectrogram, dict(sr=16000, n_fft=512, hop_length=128, layout="frames_major")),
    (melspec.STFT, dict(n_fft=400, hop_length=None)),
    (melspec.STFT, dict(n_fft=255, hop_length=64, win_length=200, center=False)),
])
def test_symbolic_frame_rule_is_the_library_rule(cls, kwargs):
    kwargs = dict(kwargs, layout=kwargs.get("layout", "bins_major"))
    plan = mt._plan(cls, kwargs)
    for n in (401, 512, 799, 800, 801, 1000, 4097, 16000, 16001, 22050):
        expected = plan.output_shape((2, n))
        got = mt._fake_shape(cls, ShapeOnly((2, Symbolic(n))), kwargs)
        assert (got[0], got[1] if isinstance(got[1], int) else got[1].value,
                got[2] if isinstance(got[2], int) else got[2].value) == expected, n


def test_meta_tensors_get_shapes_without_computing():
    y = torch.empty(3, 1234, device="meta")
    assert mt.melspectrogram(y, sr=16000, n_mels=40).shape == (3, 40, 3)
    assert mt.stft(y, n_fft=512).dtype == torch.complex64
    assert mt.cqt(y, sr=16000, n_bins=24).shape == melspec.CQT(
        sr=16000, n_bins=24, device="cpu").output_shape((3, 1234))


def test_operators_match_the_functions():
    y = signal(channels=(2,), seed=7)
    np.testing.assert_array_equal(mt.melspectrogram(y, **REALTIME).numpy(),
                                  melspec.melspectrogram(y.numpy(), **REALTIME, device="cpu"))
    np.testing.assert_array_equal(mt.stft(y, n_fft=512).numpy(),
                                  melspec.stft(y.numpy(), n_fft=512, device="cpu"))
    np.testing.assert_array_equal(mt.cqt(y, sr=16000, n_bins=48).numpy(),
                                  melspec.cqt(y.numpy(), sr=16000, n_bins=48, device="cpu"))


def test_eager_shortcut_and_the_operator_agree():
    y = signal(channels=(2,), seed=8)
    mel = mt.MelSpectrogram.from_preset("realtime")
    direct = torch.ops.melspec.melspectrogram(y, *mel.kwargs.values())
    torch.testing.assert_close(mel(y), direct, rtol=0, atol=0)
    # under tracing the modules call the operator: it is what the graph holds
    from torch.fx.experimental.proxy_tensor import make_fx
    graph = make_fx(mel)(y)
    assert "melspec.melspectrogram" in str(graph.code)
    torch.testing.assert_close(graph(y), direct, rtol=0, atol=0)
    cqt = mt.CQT(sr=16000, n_bins=24)
    assert "melspec.cqt" in str(make_fx(cqt)(y).code)


def test_opcheck():
    y = signal(4000, seed=2)
    mel = mt.MelSpectrogram(sample_rate=16000, n_fft=400, n_mels=40)
    torch.library.opcheck(torch.ops.melspec.melspectrogram.default, (y,) + tuple(
        mel.kwargs.values()))
    torch.library.opcheck(torch.ops.melspec.stft.default,
                          (y, 256, None, None, "hann", True, "constant", "bins_major"))
    cqt = mt.CQT(sr=16000, n_bins=24)
    torch.library.opcheck(torch.ops.melspec.cqt.default, (y,) + tuple(cqt.kwargs.values()))


@pytest.mark.parametrize("mode", [None, "reduce-overhead"])
def test_torch_compile_gives_eager_numbers(mode):
    torch._dynamo.reset()
    mel = mt.MelSpectrogram.from_preset("realtime")

    def features(x):
        S = mel(x)
        return S, torch.log(S + 1e-5).mean(dim=-1)

    compiled = torch.compile(features, mode=mode)
    for n in (16000, 12000, 12801):  # a new length recompiles with a symbolic one
        x = signal(n, channels=(2,), seed=n)
        (S, pooled), (S_eager, pooled_eager) = compiled(x), features(x)
        torch.testing.assert_close(S, S_eager, rtol=0, atol=0)  # the operator's own numbers
        torch.testing.assert_close(pooled, pooled_eager)  # inductor's fused log-mean rounds apart
    cqt = mt.CQT(sr=16000, n_bins=36)
    compiled_cqt = torch.compile(cqt, mode=mode)
    for n in (16000, 17000):
        x = signal(n, seed=n)
        torch.testing.assert_close(compiled_cqt(x), cqt(x), rtol=0, atol=0)


def test_torch_compile_traces_the_plain_functions():
    torch._dynamo.reset()

    def features(x):
        return (melspec.melspectrogram(x, sr=16000, n_mels=40, device="cpu") + 1.0,
                melspec.stft(x, n_fft=512, device="cpu"),
                melspec.cqt(x, sr=16000, n_bins=24, device="cpu"),
                melspec.vqt(x, sr=16000, n_bins=24, device="cpu"))

    compiled = torch.compile(features, fullgraph=True)  # no graph break: the operators
    x = signal(seed=12)
    for ours, eager in zip(compiled(x), features(x)):
        torch.testing.assert_close(ours, eager, rtol=0, atol=0)


def test_compiled_calls_do_not_recreate_plans(monkeypatch):
    torch._dynamo.reset()
    mel = mt.MelSpectrogram(sample_rate=16000, n_fft=512, n_mels=64)
    compiled = torch.compile(mel)
    x = signal()
    compiled(x)
    created = []
    original = plan_module._Plan._create

    def counting(self, config):
        created.append(config)
        return original(self, config)

    monkeypatch.setattr(plan_module._Plan, "_create", counting)
    for _ in range(5):
        compiled(x)
    assert created == []


# ---- the modules against librosa ---------------------------------------------------------------

@pytest.mark.parametrize("arguments,librosa_kwargs", [
    # torchaudio's defaults but n_mels (128 mels over 201 bins leave empty bands, which melspec
    # refuses where torchaudio and librosa warn)
    (dict(n_mels=64), dict(n_fft=400, hop_length=200, n_mels=64, htk=True, norm=None,
                           pad_mode="reflect")),
    (dict(n_fft=1024, hop_length=256, n_mels=64, f_min=30.0, f_max=7000.0, norm="slaney",
          mel_scale="slaney", power=1.0, pad_mode="constant"),
     dict(n_fft=1024, hop_length=256, n_mels=64, fmin=30.0, fmax=7000.0, power=1.0)),
    (dict(n_fft=512, win_length=400, hop_length=160, n_mels=40, window_fn=torch.hamming_window,
          center=False), dict(n_fft=512, win_length=400, hop_length=160, n_mels=40,
                              window="hamming", center=False, htk=True, norm=None)),
    (dict(n_fft=256, n_mels=32, window_fn=torch.ones, pad_mode="replicate"),
     dict(n_fft=256, hop_length=128, n_mels=32, window="boxcar", htk=True, norm=None,
          pad_mode="edge")),
])
def test_mel_module_matches_librosa(arguments, librosa_kwargs):
    x = signal(16000, channels=(2, 3), seed=11)
    module = mt.MelSpectrogram(sample_rate=16000, **arguments)
    S = module(x)
    assert S.shape[:2] == (2, 3) and S.dtype == torch.float32
    reference = librosa.feature.melspectrogram(y=x.numpy().astype(np.float64), sr=16000,
                                               **librosa_kwargs)
    assert S.shape == reference.shape
    assert normalized_error(S.numpy(), reference) < 2e-6


def test_mel_module_pad_and_frames_major():
    x = signal(8000, seed=4)
    module = mt.MelSpectrogram(sample_rate=16000, n_fft=400, n_mels=40, pad=100,
                               layout="frames_major")
    reference = librosa.feature.melspectrogram(
        y=np.pad(x.numpy().astype(np.float64), 100), sr=16000, n_fft=400, hop_length=200,
        n_mels=40, htk=True, norm=None, pad_mode="reflect")
    S = module(x)
    assert S.shape == reference.T.shape
    assert normalized_error(S.numpy().T, reference) < 2e-6


def test_realtime_recipe_matches_librosa():
    sr = 16000
    x = signal(sr, channels=(4,), seed=9)
    # the recipe of the issue, in torchaudio's words and as the preset
    module = mt.MelSpectrogram(sample_rate=sr, n_fft=int(sr * 0.05), hop_length=int(sr * 0.0125),
                               f_min=55.0, f_max=7600.0, n_mels=80, norm="slaney",
                               mel_scale="slaney", power=1.0, pad_mode="constant")
    preset = mt.MelSpectrogram.from_preset("realtime")
    reference = librosa.feature.melspectrogram(y=x.numpy().astype(np.float64), sr=sr, n_fft=800,
                                               hop_length=200, n_mels=80, fmin=55, fmax=7600,
                                               power=1.0)
    S = module(x)
    torch.testing.assert_close(preset(x), S, rtol=0, atol=0)
    assert S.shape == (4, 80, 81)
    assert normalized_error(S.numpy(), reference) < 2e-6


def test_cqt_module_matches_librosa():
    x = signal(22050, 22050, channels=(2,), seed=13)
    module = mt.CQT(sr=22050, n_bins=60)
    reference = np.abs(librosa.cqt(x.numpy().astype(np.float64), sr=22050, n_bins=60))
    C = module(x)
    assert C.dtype == torch.float32 and C.shape == reference.shape
    assert normalized_error(C.numpy(), reference) < 1e-3
    complex_module = mt.CQT(sr=22050, n_bins=60, output="complex")
    assert complex_module(x).dtype == torch.complex64


def test_modules_have_nothing_to_move():
    module = mt.MelSpectrogram(sample_rate=16000, n_mels=40)
    assert module.to("cpu") is module and len(module.state_dict()) == 0
    assert "n_mels=40" in repr(module)
    sequential = torch.nn.Sequential(module, torch.nn.Flatten(-2))
    assert sequential(signal()).shape == (40 * 81,)


@pytest.mark.parametrize("arguments,message", [
    (dict(normalized=True), "normalized"),
    (dict(window_fn=torch.blackman_window), "window_fn"),
    (dict(window_fn=torch.hann_window, wkwargs={"periodic": False}), "window_fn"),
    (dict(pad_mode="circular"), "pad_mode"),
    (dict(mel_scale="mel"), "mel_scale"),
    (dict(power=None), "power"),
    (dict(onesided=False), "onesided"),
    (dict(f_max=9000.0), "Nyquist"),
    (dict(pad=-1), "pad"),
])
def test_mel_module_refuses_what_it_cannot_do(arguments, message):
    with pytest.raises(melspec.InvalidArgumentError, match=message):
        mt.MelSpectrogram(sample_rate=16000, **arguments)


def test_from_preset_refuses_cqt_presets():
    with pytest.raises(melspec.InvalidArgumentError, match="CQT"):
        mt.MelSpectrogram.from_preset("ccmusic-cqt")


# ---- CUDA (skipped without a GPU and the CUDA backend) -----------------------------------------

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available() or melspec.cuda_device_count() == 0,
    reason="needs a GPU, torch with CUDA and melspec's CUDA backend")


@pytest.fixture
def device_executions(monkeypatch):
    calls = []
    real = _library.lib.execute_device

    def recording(handle, source, batch, n_samples, target, nbytes):
        calls.append((source, target))
        return real(handle, source, batch, n_samples, target, nbytes)

    monkeypatch.setattr(_library.lib, "execute_device", recording)
    return calls


@needs_cuda
def test_gpu_cuda_tensor_in_cuda_tensor_out(device_executions):
    x = signal(channels=(4,)).cuda()
    with melspec.MelSpectrogram(**REALTIME, device="cuda") as plan:
        plan(x)  # grows the plan's buffers once, outside the no-sync check
        torch.cuda.set_sync_debug_mode("error")
        try:
            S = plan(x)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        assert S.device == x.device and S.dtype == torch.float32 and S.shape == (4, 80, 81)
        assert device_executions[-1] == (x.data_ptr(), S.data_ptr())
        # nothing waits on the host: with ~0.5 s of work queued first, the call returns at once
        import time
        torch.cuda.synchronize()
        torch.cuda._sleep(int(5e8))
        start = time.perf_counter()
        queued = plan(x)
        assert time.perf_counter() - start < 0.1
        torch.cuda.synchronize()
        torch.testing.assert_close(queued, S, rtol=0, atol=0)
        np.testing.assert_allclose(S.cpu().numpy(), melspec.melspectrogram(
            x.cpu().numpy(), **REALTIME, device="cpu"), rtol=1e-4, atol=1e-4 * S.abs().max().item())


@needs_cuda
def test_gpu_runs_on_the_current_stream():
    x = signal(channels=(8,)).cuda()
    expected = mt.melspectrogram(x, **REALTIME)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        S = mt.melspectrogram(x, **REALTIME)   # enqueued on `side`; read after it, on it
        total = S.sum()
    side.synchronize()
    torch.testing.assert_close(S, expected)
    assert torch.isfinite(total)


@needs_cuda
def test_gpu_cuda_graph_capture():
    x = signal(channels=(2,)).cuda()
    mel = mt.MelSpectrogram.from_preset("realtime")
    eager = mel(x)
    static_x = x.clone()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):  # warm-up on the capture stream: plans and buffers made here
            mel(static_x)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, stream=stream):  # captured where the warm-up ran
        static_out = mel(static_x)
    static_x.copy_(x * 0.5)
    graph.replay()
    torch.cuda.synchronize()
    torch.testing.assert_close(static_out, mel(x * 0.5))
    assert not torch.equal(static_out, eager)


@needs_cuda
def test_gpu_opcheck():
    y = signal(4000, seed=2).cuda()
    mel = mt.MelSpectrogram(sample_rate=16000, n_fft=400, n_mels=40)
    torch.library.opcheck(torch.ops.melspec.melspectrogram.default, (y,) + tuple(
        mel.kwargs.values()))
    cqt = mt.CQT(sr=16000, n_bins=24)
    torch.library.opcheck(torch.ops.melspec.cqt.default, (y,) + tuple(cqt.kwargs.values()))


@needs_cuda
def test_gpu_compile_reduce_overhead():
    torch._dynamo.reset()
    mel = mt.MelSpectrogram.from_preset("realtime")

    def features(x):
        return torch.log(mel(x) + 1e-5)

    compiled = torch.compile(features, mode="reduce-overhead")
    x = signal(channels=(2,)).cuda()
    for _ in range(3):
        out = compiled(x)
    torch.testing.assert_close(out, features(x))


@needs_cuda
def test_gpu_modules_and_streams_on_cuda_tensors():
    x = signal(22050, 22050, channels=(2,)).cuda()
    C = mt.CQT(sr=22050, n_bins=60)(x)
    assert C.device == x.device
    torch.testing.assert_close(C.cpu(), mt.CQT(sr=22050, n_bins=60)(x.cpu()), rtol=1e-3,
                               atol=1e-3 * C.abs().max().item())
    with melspec.MelSpectrogram(**REALTIME, device="cuda") as plan:
        stream = plan.stream()
        parts = [stream.push(x[:, :9000]), stream.push(x[:, 9000:16000]), stream.flush()]
        assert all(part.device == x.device for part in parts)
    log_mel = melspec.whisper.log_mel_spectrogram(x[0, :16000])
    assert log_mel.device == x.device
    torch.testing.assert_close(log_mel.cpu(), melspec.whisper.log_mel_spectrogram(
        x[0, :16000].cpu(), device="cpu"), rtol=0, atol=1e-4)
