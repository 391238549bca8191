"""Every bad input raises a MelspecError with a useful message, never crashes the interpreter.

The cases run in a child interpreter, one after another, each announced before it runs: a crash
(segfault, abort) ends the child, and the case it was running fails with the return code, as do
the cases after it (they did not run), instead of taking pytest down."""
import json
import subprocess
import sys

import numpy as np
import pytest

import melspec
from conftest import make_signal, run_python, subprocess_env

# (id, statement, exception class name, text the message must contain)
CASES = [
    ("n_fft_zero", "melspec.melspectrogram(y, n_fft=0)", "InvalidArgumentError", "n_fft = 0"),
    ("n_fft_negative", "melspec.stft(y, n_fft=-5)", "InvalidArgumentError", "n_fft = -5"),
    ("n_fft_float", "melspec.stft(y, n_fft=512.5)", "InvalidArgumentError", "integer"),
    ("n_fft_huge", "melspec.stft(y, n_fft=2**70)", "InvalidArgumentError", "64 bits"),
    ("hop_zero", "melspec.melspectrogram(y, hop_length=0)", "InvalidArgumentError",
     "hop_length = 0"),
    ("hop_negative", "melspec.stft(y, hop_length=-3)", "InvalidArgumentError", "hop_length"),
    ("sr_zero", "melspec.melspectrogram(y, sr=0)", "InvalidArgumentError", "sample_rate"),
    ("sr_negative", "melspec.melspectrogram(y, sr=-16000)", "InvalidArgumentError",
     "sample_rate"),
    ("sr_nan", "melspec.melspectrogram(y, sr=float('nan'))", "InvalidArgumentError",
     "sample_rate"),
    ("n_mels_zero", "melspec.melspectrogram(y, n_mels=0)", "InvalidArgumentError", "n_mels"),
    ("n_mels_negative", "melspec.melspectrogram(y, n_mels=-4)", "InvalidArgumentError",
     "n_mels"),
    ("win_longer_than_n_fft", "melspec.melspectrogram(y, n_fft=512, win_length=513)",
     "InvalidArgumentError", "win_length = 513"),
    ("win_zero", "melspec.stft(y, win_length=0)", "InvalidArgumentError", "win_length"),
    ("fmin_above_fmax", "melspec.melspectrogram(y, sr=16000, fmin=4000, fmax=3000)",
     "InvalidArgumentError", "fmin"),
    ("fmin_equals_fmax", "melspec.melspectrogram(y, sr=16000, fmin=3000, fmax=3000)",
     "InvalidArgumentError", "fmin"),
    ("fmax_above_nyquist", "melspec.melspectrogram(y, sr=16000, fmax=9000)",
     "InvalidArgumentError", "Nyquist"),
    ("fmax_zero", "melspec.melspectrogram(y, fmax=0)", "InvalidArgumentError", "fmax"),
    ("fmin_negative", "melspec.melspectrogram(y, fmin=-1)", "InvalidArgumentError", "fmin"),
    ("power_zero", "melspec.melspectrogram(y, power=0)", "InvalidArgumentError", "power"),
    ("power_negative", "melspec.melspectrogram(y, power=-2)", "InvalidArgumentError", "power"),
    ("power_spectrogram_nan", "melspec.Spectrogram(power=float('nan'))",
     "InvalidArgumentError", "power"),
    ("unknown_window", "melspec.melspectrogram(y, window='kaiser')", "InvalidArgumentError",
     "window"),
    ("window_array", "melspec.stft(y, n_fft=16, window=np.ones(15))", "InvalidArgumentError",
     "Window size mismatch"),
    ("unknown_pad_mode", "melspec.stft(y, pad_mode='wrap')", "InvalidArgumentError",
     "pad_mode"),
    ("norm_unknown", "melspec.melspectrogram(y, norm='l2')", "InvalidArgumentError", "norm"),
    ("unknown_device", "melspec.melspectrogram(y, device='tpu')", "InvalidArgumentError",
     "device"),
    ("nan_sample", "y[1234] = np.nan; melspec.melspectrogram(y)", "InvalidArgumentError",
     "NaN"),
    ("inf_sample", "y[7] = -np.inf; melspec.stft(y)", "InvalidArgumentError", "infinite"),
    ("nan_in_second_channel",
     "z = np.stack([y, y]); z[1, 99] = np.nan; melspec.melspectrogram(z)",
     "InvalidArgumentError", "signal 1"),
    ("float64_overflow", "melspec.melspectrogram(np.full(3000, 1e300))", "InvalidArgumentError",
     "infinite"),
    ("empty_input", "melspec.melspectrogram(np.zeros(0, np.float32))", "InvalidArgumentError",
     "empty"),
    ("empty_batch", "melspec.melspectrogram(np.zeros((0, 1000), np.float32))",
     "InvalidArgumentError", "empty"),
    ("scalar_input", "melspec.melspectrogram(np.ones((), np.float32))",
     "InvalidArgumentError", "one-dimensional"),
    ("no_center_too_short", "melspec.melspectrogram(y[:1000], n_fft=2048, center=False)",
     "InvalidArgumentError", "shorter than n_fft"),
    ("integer_input", "melspec.melspectrogram(np.arange(16000))", "InvalidArgumentError",
     "floating-point"),
    ("int16_input", "melspec.stft((y * 1000).astype(np.int16))", "InvalidArgumentError",
     "floating-point"),
    ("complex_input", "melspec.melspectrogram(y.astype(np.complex64))",
     "InvalidArgumentError", "floating-point"),
    ("object_input", "melspec.melspectrogram(np.array([0.5, None] * 2000))",
     "InvalidArgumentError", "floating-point"),
    ("list_input", "melspec.melspectrogram([0.1] * 4000)", "InvalidArgumentError",
     "numpy.ndarray"),
    ("none_input", "melspec.stft(None)", "InvalidArgumentError", "numpy.ndarray"),
    ("none_mel_input", "melspec.melspectrogram(None)", "InvalidArgumentError", "Input signal"),
    # empty mel bands are computed with librosa's warning (tests/python/test_librosa_params.py)
    ("filters_bad_n_fft", "melspec.filters.mel(sr=16000, n_fft=0)", "InvalidArgumentError",
     "n_fft"),
    ("ref_median", "melspec.MelSpectrogram(scaling='power_to_db', ref=np.median)",
     "InvalidArgumentError", "ref"),
    ("ref_zero", "melspec.MelSpectrogram(scaling='power_to_db', ref=0.0)",
     "InvalidArgumentError", "ref"),
    ("amin_zero", "melspec.MelSpectrogram(scaling='power_to_db', amin=0)",
     "InvalidArgumentError", "amin"),
    ("top_db_negative", "melspec.MelSpectrogram(scaling='power_to_db', top_db=-1)",
     "InvalidArgumentError", "top_db"),
    ("unknown_scaling", "melspec.MelSpectrogram(scaling='decibels')", "InvalidArgumentError",
     "scaling"),
    ("unknown_layout", "melspec.STFT(layout='time_major')", "InvalidArgumentError", "layout"),
    ("unknown_dtype", "melspec.MelSpectrogram(dtype='float64', device='cpu')",
     "InvalidArgumentError", "float16"),
    ("unknown_dtype", "melspec.MelSpectrogram(dtype='int8')", "InvalidArgumentError", "dtype"),
    ("use_after_close", "p = melspec.STFT(n_fft=64); p.close(); p(y)", "InvalidArgumentError",
     "closed"),
    ("wrong_out", "melspec.stft(y, n_fft=64, out=np.empty((3, 3), np.complex64))",
     "InvalidArgumentError", "shape"),
    ("device_array_on_cpu_plan",
     "class A:\n    __cuda_array_interface__ = {'shape': (100,), 'typestr': '<f4', "
     "'data': (4096, False), 'version': 3}\nmelspec.MelSpectrogram(device='cpu')(A())",
     "BackendUnavailableError", "CUDA"),
]


RUNNER = """
import json
import sys
import numpy as np
import melspec

for name, statement in json.loads(sys.stdin.read()):
    print("BEGIN", name, flush=True)
    namespace = {"np": np, "melspec": melspec,
                 "y": (0.5 * np.sin(np.arange(16000) * 0.05)).astype(np.float32)}
    try:
        exec(statement, namespace)
        result = {"raised": None}
    except melspec.MelspecError as error:
        result = {"raised": type(error).__name__, "status": error.status_name,
                  "value_error": isinstance(error, ValueError), "message": str(error)}
    except Exception as error:
        result = {"raised": "not a MelspecError: " + type(error).__name__, "message": str(error)}
    print("RESULT", name, json.dumps(result), flush=True)
"""


@pytest.fixture(scope="module")
def outcomes():
    """Runs every case in one child interpreter; returns {id: result}, and how the child ended."""
    child = subprocess.run([sys.executable, "-c", RUNNER], capture_output=True, text=True,
                           env=subprocess_env(), timeout=120,
                           input=json.dumps([(c[0], c[1]) for c in CASES]))
    results, running = {}, None
    for line in child.stdout.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "BEGIN":
            running = rest
        elif kind == "RESULT":
            name, _, payload = rest.partition(" ")
            results[name] = json.loads(payload)
            running = None
    return results, running, child


@pytest.mark.parametrize("name,statement,exception,text", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_cleanly(outcomes, name, statement, exception, text):
    results, crashed_in, child = outcomes
    if name not in results:
        pytest.fail(f"the child interpreter ended (return code {child.returncode}) while running "
                    f"case {crashed_in!r}, before {name!r} finished:\n{child.stderr[-3000:]}")
    result = results[name]
    assert result["raised"] == exception, result
    assert text in result["message"], result
    assert result["status"].startswith("MELSPEC_")


def test_the_child_interpreter_exits_cleanly(outcomes):
    _, crashed_in, child = outcomes
    assert child.returncode == 0 and crashed_in is None, child.stderr[-3000:]


def test_a_crash_in_a_child_is_reported():
    """The harness itself: a child that dies is a failure, not a pass."""
    child = run_python("import os, sys; print('BEGIN x', flush=True); os.abort()")
    assert child.returncode != 0 and "BEGIN x" in child.stdout


def test_cuda_without_a_device_is_a_clear_error():
    if melspec.cuda_device_count() > 0:
        pytest.skip("this machine has a CUDA device")
    with pytest.raises(melspec.BackendUnavailableError, match="CUDA") as raised:
        melspec.MelSpectrogram(device="cuda")
    assert raised.value.status == melspec.Status.ERROR_BACKEND_UNAVAILABLE
    assert raised.value.status_name == "MELSPEC_ERROR_BACKEND_UNAVAILABLE"
    with pytest.raises(melspec.BackendUnavailableError):
        melspec.melspectrogram(np.ones(1000, np.float32), device="cuda:0")


def test_error_attributes():
    with pytest.raises(melspec.MelspecError) as raised:
        melspec.melspectrogram(np.ones(100, np.float32), n_fft=0)
    error = raised.value
    assert isinstance(error, ValueError) and isinstance(error, melspec.InvalidArgumentError)
    assert error.status == -1 and error.status == melspec.Status.ERROR_INVALID_ARGUMENT
    assert error.status.name == "ERROR_INVALID_ARGUMENT"
    assert error.status_name == "MELSPEC_ERROR_INVALID_ARGUMENT"
    assert "n_fft = 0" in error.detail and error.detail in str(error)
    y = np.ones(5000, np.float32)
    y[42] = np.nan
    with pytest.raises(melspec.InvalidArgumentError) as raised:
        melspec.stft(y)
    assert raised.value.status == melspec.Status.ERROR_NON_FINITE_INPUT
    assert "sample 42" in raised.value.detail


def test_errors_pickle_with_their_status():
    import pickle
    error = melspec.BackendUnavailableError("no CUDA here", melspec.Status.ERROR_BACKEND_UNAVAILABLE)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is melspec.BackendUnavailableError
    assert copy.status == melspec.Status.ERROR_BACKEND_UNAVAILABLE and copy.detail == "no CUDA here"
    assert str(copy) == str(error)


def test_objects_whose_interface_raises_attribute_error_are_not_device_arrays():
    class CpuTensorLike:  # torch raises AttributeError for CPU tensors' __cuda_array_interface__
        @property
        def __cuda_array_interface__(self):
            raise AttributeError("Can't get __cuda_array_interface__ on non-CUDA tensor")

    with pytest.raises(melspec.InvalidArgumentError, match="numpy.ndarray"):
        melspec.melspectrogram(CpuTensorLike())


def test_librosa_namespace_swap():
    import librosa
    y = np.sin(np.arange(8000) * 0.07).astype(np.float32)
    for module in (melspec, librosa):  # the same code runs with either module
        S = module.feature.melspectrogram(y=y, sr=16000, n_fft=512, n_mels=40)
        assert S.shape == (40, 16) and S.dtype == np.float32
        assert module.filters.mel(sr=16000, n_fft=512, n_mels=40).shape == (40, 257)
        assert module.stft(y, n_fft=512).shape == (257, 63)


# ---- the Python layer's findings of tests/fuzz/fuzz_python.py (issue 17), fixed ----------------
# Each bad argument raises melspec.ParameterError (an InvalidArgumentError, so a MelspecError
# too) naming the argument, where numpy's TypeError / ValueError / OverflowError came out before.

def _refused(call, name):
    with pytest.raises(melspec.InvalidArgumentError) as raised:
        call()
    assert isinstance(raised.value, melspec.ParameterError), raised.value
    assert name in str(raised.value), raised.value
    return raised.value


@pytest.mark.parametrize("function", ["power_to_db", "amplitude_to_db"])
@pytest.mark.parametrize("S,kwargs,name", [
    (None, {"ref": "max"}, "ref"), (None, {"ref": None}, "ref"), (None, {"ref": {}}, "ref"),
    (None, {"ref": b"x"}, "ref"), (None, {"ref": np.array([1.0, 2.0])}, "ref"),
    (None, {"ref": max}, "ref"),  # builtins.max on a 2-d array: "truth value is ambiguous"
    (None, {"amin": "1e-10"}, "amin"), (None, {"amin": None}, "amin"),
    (None, {"amin": [1e-5]}, "amin"), (None, {"amin": 1j}, "amin"),
    (None, {"amin": np.array([1e-5, 1e-4])}, "amin"), (None, {"amin": np.max}, "amin"),
    (None, {"top_db": "80"}, "top_db"), (None, {"top_db": [80.0]}, "top_db"),
    (None, {"top_db": 80j}, "top_db"), (None, {"top_db": 10 ** 400}, "top_db"),
    (np.array([1.0, 2.0], dtype=object), {}, "S"), ("abc", {}, "S"), ([[1.0], [1.0, 2.0]], {}, "S"),
    (np.zeros((0, 4), np.float32), {}, "S"),  # empty, with a top_db: librosa's max() fails
    (np.array([3, 300], np.int16), {"amin": 40000}, "amin"),  # beyond int16: OverflowError
])
def test_db_functions_refuse_bad_arguments(function, S, kwargs, name):
    S = np.abs(make_signal(64, 16000).reshape(4, 16)) if S is None else S
    _refused(lambda: getattr(melspec, function)(S, **kwargs), name)


def test_db_functions_keep_librosa_results_at_the_edges():
    """What librosa computes (odd but numeric arguments) still comes out bit for bit."""
    import librosa
    S = np.abs(make_signal(64, 16000).reshape(4, 16)).astype(np.float32)
    for function in ("power_to_db", "amplitude_to_db"):
        for x, kwargs in [(S, {"ref": lambda m: m}), (S, {"ref": 10 ** 30}), (S, {"amin": 2}),
                          (S, {"ref": 1 + 2j, "amin": np.array(1e-3)}), (S, {"top_db": True}),
                          (S[0, :1], {"ref": [2.0]}), (np.zeros(0, np.float32), {"top_db": None}),
                          (np.arange(-3, 4, dtype=np.int16), {}), (np.float32(0.5), {}),
                          (np.array([True, False]), {}) if function == "power_to_db" else (S, {})]:
            ours = getattr(melspec, function)(x.copy(), **kwargs)
            theirs = getattr(librosa, function)(x.copy(), **kwargs)
            assert type(ours) is type(theirs) and np.asarray(ours).dtype == theirs.dtype
            assert np.array_equal(ours, theirs, equal_nan=True), (function, kwargs)


@pytest.mark.parametrize("dtype", [3, 1.5, "no such dtype", [1, 2], np.array([1, 2])])
def test_cqt_dtype_that_is_not_a_dtype(dtype):
    y = np.ones(4096, np.float32)
    _refused(lambda: melspec.CQT(n_bins=12, dtype=dtype), "dtype")
    _refused(lambda: melspec.cqt(y, n_bins=12, dtype=dtype), "dtype")
    _refused(lambda: melspec.vqt(y, n_bins=12, dtype=dtype), "dtype")


@pytest.mark.parametrize("value", [np.array([1, 2]), np.array([True, False]), None, "yes", 2,
                                   0.5])
@pytest.mark.parametrize("call,name", [
    (lambda v: melspec.MelSpectrogram(center=v), "center"),
    (lambda v: melspec.melspectrogram(np.ones(1000, np.float32), n_fft=512, center=v), "center"),
    (lambda v: melspec.STFT(center=v), "center"),
    (lambda v: melspec.MelSpectrogram(htk=v), "htk"),
    (lambda v: melspec.filters.mel(sr=16000, n_fft=512, htk=v), "htk"),
    (lambda v: melspec.CQT(n_bins=12, scale=v), "scale"),
])
def test_bool_arguments_refuse_other_values(call, name, value):
    _refused(lambda: call(value), name)


def test_array_center_with_a_signal_shorter_than_n_fft():
    """The functions' "n_fft is too large" warning reads center before the config is built."""
    _refused(lambda: melspec.stft(np.ones(100, np.float32), n_fft=512, center=np.array([1, 0])),
             "center")


@pytest.mark.parametrize("value", [True, False, np.bool_(True), np.bool_(False), 0, 1])
def test_bool_arguments_take_bools_and_0_1(value):
    melspec.MelSpectrogram(center=value, htk=value).close()
    melspec.CQT(n_bins=12, scale=value).close()


def test_a_callable_window_that_fails():
    """Found by the same fuzz target (seed 17 of ctest's run): window=max is called with an int."""
    _refused(lambda: melspec.MelSpectrogram(window=max), "window")
    _refused(lambda: melspec.stft(np.ones(4096, np.float32), window=len), "window")


def test_a_complex_mel_norm():
    """Found by the same fuzz target: norm=1+2j reached float()."""
    _refused(lambda: melspec.MelSpectrogram(norm=1 + 2j), "norm")
    _refused(lambda: melspec.filters.mel(sr=16000, n_fft=512, norm=np.complex64(2)), "norm")


def test_cqt_plan_does_not_stream():
    with melspec.CQT(n_bins=12) as plan:
        error = _refused(plan.stream, "constant-Q plan does not stream")
    assert error.status == melspec.Status.ERROR_UNSUPPORTED
    assert error.status_name == "MELSPEC_ERROR_UNSUPPORTED"
