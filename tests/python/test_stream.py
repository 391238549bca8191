"""plan.stream(): pushes and flush, concatenated, equal plan(y) bit for bit (CPU backend)."""
import numpy as np
import pytest

melspec = pytest.importorskip("melspec")

if not hasattr(melspec.MelSpectrogram, "stream"):
    pytest.skip("this melspec package has no plan.stream()", allow_module_level=True)


def _signal(n, seed=0, channels=()):
    """Speech-like harmonics, a tone, clicks and noise; never all zeros."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000.0
    out = np.empty(tuple(channels) + (n,), np.float32)
    for index in np.ndindex(*channels):
        f0 = rng.uniform(90, 220)
        y = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 7))
        y *= 0.3 * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
        y += 0.2 * np.sin(2 * np.pi * 1234.5 * t) + 0.02 * rng.standard_normal(n)
        y[rng.integers(0, n, 2)] += 0.7
        out[index] = y
    return out


def _chunks(n, kind, hop, n_fft, rng):
    sizes = []
    while sum(sizes) < n:
        if kind == "ones":
            sizes.append(1)
        elif kind == "hop":
            sizes.append(hop)
        elif kind == "big":
            sizes.append(n_fft + 1 + int(rng.integers(0, 9)))
        else:  # random sizes with empty chunks in between
            sizes.append(0 if rng.random() < 0.2 else int(rng.integers(1, 2 * n_fft + hop)))
    sizes[-1] -= sum(sizes) - n
    return sizes


def _stream_all(plan, y, sizes):
    stream = plan.stream()
    parts, offset = [], 0
    for size in sizes:
        parts.append(stream.push(y[..., offset:offset + size]))
        offset += size
    parts.append(stream.flush())
    return stream, np.concatenate(parts, axis=stream.frame_axis)


PLANS = [
    ("mel", dict(sr=16000, n_fft=64, hop_length=16, n_mels=12)),
    ("mel", dict(sr=16000, n_fft=63, hop_length=10, win_length=50, n_mels=10,
                 pad_mode="reflect", layout="frames_major")),
    ("mel", dict(sr=16000, n_fft=800, hop_length=200, n_mels=80, fmin=55, fmax=7600, power=1.0)),
    ("mel", dict(sr=16000, n_fft=64, hop_length=16, n_mels=12, scaling="power_to_db",
                 ref=1.0, top_db=None)),
    ("linear", dict(n_fft=31, hop_length=7, center=False, layout="frames_major")),
    ("linear", dict(n_fft=32, hop_length=12, pad_mode="edge", scaling="amplitude_to_db",
                    ref=0.5, top_db=None, power=1.0)),
    ("stft", dict(n_fft=17, hop_length=5, pad_mode="reflect")),
    ("stft", dict(n_fft=16, hop_length=4, center=False, layout="frames_major")),
]

_CLASSES = {"mel": melspec.MelSpectrogram, "linear": melspec.Spectrogram, "stft": melspec.STFT}


@pytest.mark.parametrize("kind, kwargs", PLANS)
@pytest.mark.parametrize("chunking", ["ones", "hop", "big", "random"])
def test_stream_equals_offline(kind, kwargs, chunking):
    rng = np.random.default_rng(len(kwargs) * 7 + len(chunking))
    with _CLASSES[kind](device="cpu", **kwargs) as plan:
        n_fft, hop = plan.params["n_fft"], plan.params["hop_length"]
        for n in (n_fft // 2, n_fft // 2 + 1, n_fft, 3 * n_fft + 5, 2000):
            y = _signal(n, seed=n)
            if not plan.params["center"] and n < n_fft:
                continue
            expected = plan(y)
            if chunking == "ones" and n > 700:
                continue  # one sample at a time through Python is slow; the C tests cover it
            _, streamed = _stream_all(plan, y, _chunks(n, chunking, hop, n_fft, rng))
            assert streamed.dtype == expected.dtype
            assert streamed.shape == expected.shape
            assert np.array_equal(streamed, expected)


def test_multichannel_matches_batched_execute():
    y = _signal(1500, seed=3, channels=(2, 3))
    with melspec.MelSpectrogram(sr=16000, n_fft=128, hop_length=32, n_mels=20,
                                device="cpu") as plan:
        rng = np.random.default_rng(5)
        stream, streamed = _stream_all(plan, y, _chunks(1500, "random", 32, 128, rng))
        assert streamed.shape == plan(y).shape == (2, 3, 20, 1 + 1500 // 32)
        assert np.array_equal(streamed, plan(y))
        with pytest.raises(melspec.InvalidArgumentError):
            stream.push(y[0, 0, :10])  # flushed
        stream.reset()
        with pytest.raises(melspec.InvalidArgumentError, match="leading shape"):
            stream.push(y[0, :, :10])
            stream.push(y[0, 0, :10])


def test_push_returns_frames_as_they_complete():
    with melspec.MelSpectrogram(sr=16000, n_fft=800, hop_length=200, n_mels=80, fmin=55,
                                fmax=7600, power=1.0, device="cpu") as plan:
        stream = plan.stream()
        assert stream.latency == 400
        y = _signal(1000)
        assert stream.push(y[:399]).shape == (80, 0)
        assert stream.push(y[399:400]).shape == (80, 1)      # frame 0 needs samples 0..399
        assert stream.push(y[400:1000]).shape == (80, 3)     # frames 1, 2, 3
        assert stream.push(y[:0]).shape == (80, 0)
        tail = stream.flush()
        assert tail.shape == (80, 2)                          # frames 4, 5: 1 + 1000 // 200 = 6
        assert stream.flush().shape == (80, 0)                # a second flush: nothing


def test_errors():
    with melspec.MelSpectrogram(sr=16000, n_fft=64, hop_length=16, n_mels=8, device="cpu",
                                scaling="power_to_db", ref=np.max, top_db=None) as plan:
        with pytest.raises(melspec.InvalidArgumentError, match="ref_mode"):
            plan.stream()
    with melspec.MelSpectrogram(sr=16000, n_fft=64, hop_length=16, n_mels=8, device="cpu",
                                scaling="power_to_db", top_db=80.0) as plan:
        with pytest.raises(melspec.InvalidArgumentError, match="top_db"):
            plan.stream()
    with melspec.MelSpectrogram(sr=16000, n_fft=64, hop_length=16, n_mels=8,
                                device="cpu") as plan:
        stream = plan.stream()
        y = _signal(300)
        bad = y.copy()
        bad[100] = np.nan
        with pytest.raises(melspec.InvalidArgumentError, match="NaN"):
            stream.push(bad)
        # Nothing was consumed: the stream still gives the offline frames.
        parts = [stream.push(y), stream.flush()]
        assert np.array_equal(np.concatenate(parts, axis=-1), plan(y))
        stream.close()
        with pytest.raises(melspec.InvalidArgumentError, match="closed"):
            stream.push(y)
        other = plan.stream()
    with pytest.raises(melspec.InvalidArgumentError):
        other.push(y)  # the plan was closed, and its streams with it
