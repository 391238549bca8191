"""Plan objects: reuse, fresh outputs, lifecycle, cache of the functions."""
import gc
import threading

import numpy as np
import pytest

import melspec
from conftest import make_signal

REALTIME = dict(sr=16000, n_fft=800, hop_length=200, n_mels=80, fmin=55, fmax=7600, power=1.0)


def test_many_calls_equal_fresh_plans():
    inputs = [make_signal(n, 16000, seed=i, channels=ch).astype(dt)
              for i, (n, ch, dt) in enumerate([(16000, (), "f4"), (3210, (), "f8"),
                                               (16000, (3,), "f4"), (801, (2, 2), "f4"),
                                               (799, (), "f4"), (16000, (), "f4"),
                                               (44100, (), "f8"), (3210, (), "f4")])]
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        results = [plan(y) for y in inputs for _ in range(2)]
    for index, y in enumerate(inputs):
        with melspec.MelSpectrogram(**REALTIME, device="cpu") as fresh:
            expected = fresh(y)
        assert np.array_equal(results[2 * index], expected)
        assert np.array_equal(results[2 * index + 1], expected)


def test_each_call_returns_a_fresh_array():
    y1 = make_signal(16000, 16000, seed=1).astype(np.float32)
    y2 = make_signal(16000, 16000, seed=2).astype(np.float32)
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        a = plan(y1)
        kept = a.copy()
        b = plan(y2)
        assert a is not b and not np.shares_memory(a, b)
        assert np.array_equal(a, kept)  # the second call did not overwrite the first result
        b[:] = 0
        assert np.array_equal(plan(y1), kept)


def test_input_layouts_and_readonly_input():
    y = make_signal(8000, 16000, seed=3, channels=(2,))
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        expected = plan(y.astype(np.float32))
        assert np.array_equal(plan(np.asfortranarray(y)), expected)
        assert np.array_equal(plan(np.asfortranarray(y.astype(np.float32))), expected)
        strided = np.repeat(y.astype(np.float32), 2, axis=1)[:, ::2]
        assert not strided.flags.c_contiguous
        assert np.array_equal(plan(strided), expected)
        readonly = y.astype(np.float32)
        readonly.flags.writeable = False
        assert np.array_equal(plan(readonly), expected)
        assert np.array_equal(plan(y[0].astype(">f4")), expected[0])  # big-endian input


def test_out_argument():
    y = make_signal(16000, 16000, seed=3).astype(np.float32)
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        out = np.empty(plan.output_shape(y.shape), np.float32)
        assert plan(y, out=out) is out
        assert np.array_equal(out, plan(y))
        with pytest.raises(ValueError, match="shape"):
            plan(y, out=np.empty((80, 3), np.float32))
        with pytest.raises(ValueError, match="dtype"):
            plan(y, out=np.empty(out.shape, np.float64))
        with pytest.raises(ValueError, match="C-contiguous"):
            plan(y, out=np.empty(out.shape[::-1], np.float32).T)


def test_close_twice_and_use_after_close():
    plan = melspec.MelSpectrogram(**REALTIME, device="cpu")
    y = make_signal(4000, 16000).astype(np.float32)
    plan(y)
    plan.close()
    plan.close()
    assert plan.closed
    for call in (lambda: plan(y), plan.filterbank, plan.window, lambda: plan.output_shape(100),
                 lambda: plan.reserve(1, 100)):
        with pytest.raises(melspec.MelspecError, match="closed"):
            call()
    assert "closed" in repr(plan)


def test_context_manager_and_garbage_collection():
    with melspec.STFT(n_fft=256) as plan:
        assert not plan.closed
    assert plan.closed
    finalizers = []
    for _ in range(50):
        plan = melspec.MelSpectrogram(**REALTIME, device="cpu")
        finalizers.append(plan._finalizer)
        del plan
    gc.collect()
    assert not any(f.alive for f in finalizers)  # every C plan was destroyed


def test_plan_properties():
    with melspec.MelSpectrogram(sr=16000, n_fft=400, device="cpu") as plan:
        assert plan.backend == "cpu"
        params = plan.params
        assert params["hop_length"] == 512 and params["win_length"] == 400
        assert params["fmax"] == 8000.0 and params["n_mels"] == 128
        assert plan.output_shape((2, 16000)) == (2, 128, 1 + 16000 // 512)
    with melspec.STFT(n_fft=400, device="cpu") as plan:
        assert plan.params["hop_length"] == 100  # librosa.stft: win_length // 4


def test_functions_reuse_cached_plans_per_thread():
    y = make_signal(16000, 16000, seed=8).astype(np.float32)
    first = melspec.melspectrogram(y, **REALTIME)
    assert np.array_equal(melspec.melspectrogram(y, **REALTIME), first)
    results = []
    worker = threading.Thread(target=lambda: results.append(melspec.melspectrogram(y, **REALTIME)))
    worker.start()
    worker.join()
    assert np.array_equal(results[0], first)
    for n_mels in range(20, 30):  # more configs than the cache holds: evicted plans are closed
        assert melspec.melspectrogram(y, sr=16000, n_mels=n_mels).shape[0] == n_mels


def test_threads_with_their_own_plans_agree():
    inputs = [make_signal(16000, 16000, seed=i).astype(np.float32) for i in range(4)]
    with melspec.MelSpectrogram(**REALTIME, device="cpu") as plan:
        expected = [plan(y) for y in inputs]
    results = [None] * len(inputs)

    def work(index):
        with melspec.MelSpectrogram(**REALTIME, device="cpu") as own:
            for _ in range(5):
                results[index] = own(inputs[index])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got, want in zip(results, expected):
        assert np.array_equal(got, want)


def test_float16_on_the_cpu_is_float32_rounded_to_nearest_even():
    """numpy's float32 -> float16 cast rounds to nearest even: an independent oracle."""
    rng = np.random.default_rng(5)
    y = rng.standard_normal(16000).astype(np.float32)
    for kwargs in ({}, {"power": 1.0}):
        with melspec.MelSpectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=40,
                                    device="cpu", **kwargs) as wide, \
             melspec.MelSpectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=40,
                                    device="cpu", dtype="float16", **kwargs) as narrow:
            expected = wide(y).astype(np.float16)
            got = narrow(y)
            assert got.dtype == np.float16
            np.testing.assert_array_equal(got.view(np.uint16), expected.view(np.uint16))


def test_a_plan_shared_by_threads_raises_busy_never_garbage():
    import threading
    y = np.random.default_rng(9).standard_normal(16000).astype(np.float32)
    plan = melspec.MelSpectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=40, device="cpu")
    expected = plan(y)
    outcomes = {"ok": 0, "busy": 0, "wrong": 0}
    lock = threading.Lock()

    def hammer():
        for _ in range(200):
            try:
                same = np.array_equal(plan(y), expected)
                key = "ok" if same else "wrong"
            except melspec.PlanBusyError:
                key = "busy"
            with lock:
                outcomes[key] += 1

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    plan.close()
    assert outcomes["wrong"] == 0, outcomes
    assert outcomes["ok"] + outcomes["busy"] == 800, outcomes
