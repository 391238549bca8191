"""melspec.batch / melspec.melspectrogram_batch: many clips on worker threads, one plan each."""
import functools
import os
import threading
import time
import wave

import numpy as np
import pytest

from conftest import make_signal

import melspec

REALTIME = dict(sr=16000, n_fft=800, hop_length=200, n_mels=80, fmin=55.0, fmax=7600.0,
                power=1.0)


def clips(lengths, seed=0, sr=16000):
    return [make_signal(n, sr, seed=seed + i).astype(np.float32) for i, n in enumerate(lengths)]


def write_wav(path, y, sr=16000):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(y, -1, 1) * 32767).astype("<i2").tobytes())


LENGTHS = [16000, 8000, 24123, 16000, 400, 32000, 16000, 12345, 800, 20000, 16001]


@pytest.mark.parametrize("jobs", [1, 2, 3, 16])
def test_equals_one_call_per_item_in_input_order(jobs):
    ys = clips(LENGTHS)
    ys.append(make_signal(9000, 16000, seed=99, channels=(2,)).astype(np.float32))  # (2, n)
    got = melspec.melspectrogram_batch(ys, jobs=jobs, **REALTIME)
    assert len(got) == len(ys)
    for y, s in zip(ys, got):
        want = melspec.melspectrogram(y, **REALTIME)
        assert s.shape == want.shape and s.dtype == np.float32
        np.testing.assert_array_equal(s, want)  # the same plan config: the same bits


def test_paths_are_loaded_at_the_plans_rate(tmp_path):
    ys = clips([16000, 12000, 20000], seed=5)
    paths = []
    for i, y in enumerate(ys):
        paths.append(tmp_path / f"clip{i}.wav")
        write_wav(paths[-1], 0.5 * y / np.max(np.abs(y)))
    mixed = [paths[0], ys[1], str(paths[2])]
    got = melspec.melspectrogram_batch(mixed, jobs=2, **REALTIME)
    for item, s in zip(mixed, got):
        y = melspec.load(item, sr=16000)[0] if not isinstance(item, np.ndarray) else item
        np.testing.assert_array_equal(s, melspec.melspectrogram(y, **REALTIME))
    # another rate than the files': resampled by melspec.load as one call would be
    other_rate = dict(REALTIME, sr=8000, fmax=3800.0)
    got = melspec.melspectrogram_batch([paths[0]], jobs=1, **other_rate)
    want = melspec.melspectrogram(melspec.load(paths[0], sr=8000)[0], **other_rate)
    np.testing.assert_array_equal(got[0], want)


def test_failures_are_reported_per_item(tmp_path):
    ys = clips([16000] * 6, seed=11)
    bad_samples = ys[2].copy()
    bad_samples[100] = np.nan
    not_audio = tmp_path / "notes.wav"
    not_audio.write_bytes(b"this is not a sound file" * 10)
    items = [ys[0], ys[1], bad_samples, str(tmp_path / "missing.wav"), ys[4], not_audio]
    with pytest.raises(melspec.BatchError) as caught:
        melspec.melspectrogram_batch(items, jobs=2, **REALTIME)
    error = caught.value
    assert sorted(error.errors) == [2, 3, 5]
    assert isinstance(error.errors[2], melspec.InvalidArgumentError)
    assert "NaN" in str(error.errors[2]) or "finite" in str(error.errors[2])
    assert isinstance(error.errors[3], FileNotFoundError)
    assert isinstance(error.errors[5], melspec.InvalidArgumentError)
    assert "3 of 6 item(s) failed" in str(error) and "item 2" in str(error)
    for i in (0, 1, 4):  # the others were computed
        np.testing.assert_array_equal(error.results[i],
                                      melspec.melspectrogram(items[i], **REALTIME))
    assert error.results[2] is None
    returned = melspec.melspectrogram_batch(items, jobs=3, errors="return", **REALTIME)
    assert [isinstance(r, Exception) for r in returned] == [False, False, True, True, False,
                                                            True]
    np.testing.assert_array_equal(returned[4], error.results[4])


class RecordingPlan:
    """A plan that notes which thread made it and which threads called it (by name: idents of
    finished threads are reused)."""

    made = []
    lock = threading.Lock()

    def __init__(self):
        self.plan = melspec.MelSpectrogram(**REALTIME)
        self.maker = threading.current_thread().name
        self.callers = set()
        self.lengths = []
        with RecordingPlan.lock:
            RecordingPlan.made.append(self)

    def __call__(self, y):
        self.callers.add(threading.current_thread().name)
        self.lengths.append(y.shape[-1])
        return self.plan(y)

    def close(self):
        self.plan.close()


def test_jobs_1_runs_in_the_calling_thread_longest_first():
    RecordingPlan.made = []
    ys = clips(LENGTHS)
    melspec.batch(ys, RecordingPlan, jobs=1)
    assert len(RecordingPlan.made) == 1
    plan = RecordingPlan.made[0]
    assert plan.maker == threading.current_thread().name and plan.callers == {threading.current_thread().name}
    assert plan.lengths == sorted(LENGTHS, reverse=True)
    assert plan.plan.closed  # every worker closes its plan


def test_one_plan_per_thread():
    RecordingPlan.made = []
    melspec.batch(clips([4000] * 20), RecordingPlan, jobs=3)
    plans = RecordingPlan.made
    assert len(plans) == 3
    assert len({p.maker for p in plans}) == 3
    for p in plans:  # each plan is called from the thread that made it, and no other
        assert p.callers <= {p.maker}
    assert sum(len(p.lengths) for p in plans) == 20


def test_arguments_are_checked_before_any_work():
    ys = clips([16000] * 3)
    with pytest.raises(melspec.InvalidArgumentError, match="fmin"):
        melspec.melspectrogram_batch(ys, jobs=2, **dict(REALTIME, fmin=9000.0))
    with pytest.raises(melspec.InvalidArgumentError, match="factory"):
        melspec.batch(ys, melspec.MelSpectrogram(**REALTIME))
    for jobs in (0, -1, 1.5, True, "2"):
        with pytest.raises(melspec.InvalidArgumentError, match="jobs"):
            melspec.melspectrogram_batch(ys, jobs=jobs, **REALTIME)
    with pytest.raises(melspec.InvalidArgumentError, match="errors"):
        melspec.melspectrogram_batch(ys, errors="ignore", **REALTIME)
    assert melspec.melspectrogram_batch([], jobs=2, **REALTIME) == []


def test_other_plans_through_the_factory():
    ys = clips([22050, 30000], seed=3, sr=22050)
    factory = functools.partial(melspec.CQT, sr=22050, n_bins=48)
    got = melspec.batch(ys, factory, jobs=2)
    for y, c in zip(ys, got):
        np.testing.assert_array_equal(c, melspec.cqt(y, sr=22050, n_bins=48))


def test_foreign_calls_release_the_gil():
    """While one thread is inside melspec_execute, another thread runs Python code: what makes
    the batch's threads compute at the same time (ctypes.CDLL drops the GIL around calls)."""
    y = np.stack(clips([16000 * 10] * 32, seed=7))  # one long call: 32 clips of 10 s
    plan = melspec.MelSpectrogram(**REALTIME)
    plan(y[:1])  # warm: the plan's buffers are made
    span = {}

    def call():
        span["start"] = time.perf_counter()
        plan(y)
        span["end"] = time.perf_counter()

    thread = threading.Thread(target=call)
    stamps = []
    thread.start()
    while thread.is_alive():
        stamps.append(time.perf_counter())
    thread.join()
    plan.close()
    start, end = span["start"], span["end"]
    inside = [s for s in stamps if start + 0.25 * (end - start) < s < end - 0.25 * (end - start)]
    assert end - start > 0.01, "the call is too short to tell"
    assert inside, f"no Python ran during the {1e3 * (end - start):.0f} ms foreign call"
