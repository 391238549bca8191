"""melspec.cqt, melspec.vqt and melspec.CQT against librosa.cqt and librosa.vqt (default res_type
soxr_hq)."""
import warnings

import librosa
import numpy as np
import pytest

import melspec
from conftest import make_signal, normalized_error

TOLERANCE = 1e-5

# (sr, hop_length, fmin, n_bins, bins_per_octave, filter_scale, norm, sparsity, scale, pad_mode,
#  tuning, seconds)
CASES = [
    (22050, 512, None, 84, 12, 1, 1, 0.01, True, "constant", 0.0, 1.0),
    (16000, 160, None, 72, 12, 1, 1, 0.01, True, "constant", 0.0, 0.7),
    (22050, 256, 55.0, 96, 24, 1, 2, 0.01, True, "reflect", 0.1, 0.6),
    (44100, 1024, 32.7, 108, 36, 0.8, 1, 0.01, False, "edge", 0.0, 0.6),
    (22050, 100, None, 60, 12, 2, np.inf, 0.0, True, "constant", -0.2, 0.5),
    (8000, 99, 40.0, 48, 12, 1, None, 0.01, True, "constant", 0.0, 0.5),
    (48000, 4096, 50.0, 36, 12, 1, 1, 0.01, True, "constant", 0.0, 0.5),
]


def _librosa_cqt(y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # low octaves shorter than their frames
        return librosa.cqt(y, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"sr{c[0]}-hop{c[1]}-bpo{c[4]}")
def test_parity_with_librosa(case):
    (sr, hop, fmin, n_bins, bpo, filter_scale, norm, sparsity, scale, pad_mode, tuning,
     seconds) = case
    y = make_signal(int(sr * seconds), sr, seed=n_bins).astype(np.float32)
    kwargs = dict(sr=sr, hop_length=hop, fmin=fmin, n_bins=n_bins, bins_per_octave=bpo,
                  filter_scale=filter_scale, norm=norm, sparsity=sparsity, scale=scale,
                  pad_mode=pad_mode, tuning=tuning)
    reference = _librosa_cqt(y, **kwargs)
    ours = melspec.cqt(y, device="cpu", **kwargs)
    assert ours.dtype == np.complex64
    assert ours.shape == reference.shape
    assert normalized_error(ours, reference) < TOLERANCE


@pytest.mark.parametrize("gamma, sr, bpo, n_bins", [(None, 22050, 12, 84), (None, 16000, 24, 120),
                                                    (10.0, 22050, 36, 144), (0.0, 22050, 12, 60)])
def test_vqt_parity_with_librosa(gamma, sr, bpo, n_bins):
    y = make_signal(int(sr * 0.7), sr, seed=bpo).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = librosa.vqt(y, sr=sr, gamma=gamma, bins_per_octave=bpo, n_bins=n_bins)
    ours = melspec.vqt(y, sr=sr, gamma=gamma, bins_per_octave=bpo, n_bins=n_bins, device="cpu")
    assert ours.shape == reference.shape
    assert normalized_error(ours, reference) < TOLERANCE
    with melspec.CQT(sr=sr, gamma=gamma, bins_per_octave=bpo, n_bins=n_bins,
                     device="cpu") as plan:
        np.testing.assert_array_equal(plan(y), ours)
        assert plan.params["gamma_mode"] == (1 if gamma is None else 0)


def test_speech_like_and_clicks():
    sr = 16000
    t = np.arange(sr) / sr
    f0 = 110 + 30 * np.sin(2 * np.pi * 2 * t)
    pulses = np.diff(np.floor(np.cumsum(f0) / sr), prepend=0.0)
    speech = np.convolve(pulses, np.exp(-np.arange(200) / 30.0) * np.sin(np.arange(200) * 0.4),
                         mode="same") * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
    clicks = np.zeros(sr)
    clicks[::1777] = 0.8
    for y in (speech.astype(np.float32), clicks.astype(np.float32)):
        reference = _librosa_cqt(y, sr=sr, hop_length=128, n_bins=72)
        assert normalized_error(melspec.cqt(y, sr=sr, hop_length=128, n_bins=72, device="cpu"),
                                reference) < TOLERANCE


def test_multichannel_and_float64_input():
    sr = 22050
    y = make_signal(sr // 2, sr, seed=3, channels=(2, 2))  # float64
    ours = melspec.cqt(y, sr=sr, device="cpu")
    assert ours.shape[:2] == (2, 2) and ours.dtype == np.complex64
    for index in np.ndindex(2, 2):
        single = melspec.cqt(y[index].astype(np.float32), sr=sr, device="cpu")
        np.testing.assert_array_equal(ours[index], single)
    # computed in float32: librosa on the float32 signal is the reference
    reference = _librosa_cqt(y.astype(np.float32), sr=sr)
    assert normalized_error(ours, reference) < TOLERANCE


def test_plan_reuse_and_queries():
    sr = 22050
    y = make_signal(sr, sr, seed=5).astype(np.float32)
    with melspec.CQT(sr=sr, hop_length=256, n_bins=72, device="cpu") as plan:
        first = plan(y)
        np.testing.assert_array_equal(plan(y), first)
        assert plan.backend == "cpu"
        assert plan.output_shape(sr) == (72, 1 + sr // 256)
        assert plan.output_shape((3, sr)) == (3, 72, 1 + sr // 256)
        expected = librosa.cqt_frequencies(n_bins=72, fmin=librosa.note_to_hz("C1"))
        np.testing.assert_allclose(plan.frequencies(), expected, rtol=1e-12)
        params = plan.params
        assert params["hop_length"] == 256 and params["n_bins"] == 72
        assert params["fmin"] == pytest.approx(32.70319566257483)
        assert "CQT cpu" in repr(plan)
        with pytest.raises(melspec.InvalidArgumentError):
            plan.window()
        out = np.empty_like(first)
        assert plan(y, out=out) is out
    assert plan.closed and "closed" in repr(plan)
    with pytest.raises(melspec.MelspecError):
        plan(y)


def test_magnitude_db_and_frames_major():
    sr = 22050
    y = make_signal(sr, sr, seed=7).astype(np.float32)
    complex_out = melspec.cqt(y, sr=sr, device="cpu")
    with melspec.CQT(sr=sr, output="magnitude", device="cpu") as plan:
        magnitude = plan(y)
    assert magnitude.dtype == np.float32
    np.testing.assert_allclose(magnitude, np.abs(complex_out), rtol=1e-6, atol=1e-7)
    with melspec.CQT(sr=sr, output="magnitude", scaling="amplitude_to_db", ref=np.max,
                     device="cpu") as plan:
        decibels = plan(y)
    reference = librosa.amplitude_to_db(np.abs(_librosa_cqt(y, sr=sr)), ref=np.max)
    # compared as amplitudes relative to the peak (dB differences blow up near the floor)
    assert normalized_error(10 ** (decibels / 20), 10 ** (reference / 20)) < TOLERANCE
    with melspec.CQT(sr=sr, layout="frames_major", device="cpu") as plan:
        np.testing.assert_array_equal(plan(y), complex_out.T)


@pytest.mark.parametrize("kwargs, mentions", [
    (dict(fmin=0.0), "fmin"),
    (dict(fmin=-5.0), "fmin"),
    (dict(n_bins=120), "Nyquist"),
    (dict(sr=4000), "Nyquist"),
    (dict(hop_length=0), "hop_length"),
    (dict(filter_scale=0), "filter_scale"),
    (dict(sparsity=1.0), "sparsity"),
    (dict(norm=3), "norm"),
    (dict(res_type="kaiser_best"), "res_type"),
    (dict(res_type="fft"), "res_type"),
    (dict(window="tukey"), "window"),
    (dict(bins_per_octave=0), "bins_per_octave"),
    (dict(dtype=np.float32), "complex"),
])
def test_errors(kwargs, mentions):
    y = np.ones(4096, np.float32)
    with pytest.raises(ValueError) as raised:
        melspec.cqt(y, device="cpu", **kwargs)
    assert mentions in str(raised.value)


def test_vqt_errors():
    with pytest.raises(ValueError, match="intervals"):
        melspec.vqt(np.ones(4096, np.float32), intervals="ji5", device="cpu")
    with pytest.raises(ValueError, match="gamma"):
        melspec.vqt(np.ones(4096, np.float32), gamma=-1.0, device="cpu")


def test_input_errors():
    with pytest.raises(melspec.InvalidArgumentError, match="NaN"):
        melspec.cqt(np.full(4096, np.nan, np.float32), device="cpu")
    # a 16x early downsampling needs 16 samples, as in librosa
    with pytest.raises(melspec.InvalidArgumentError, match="too short"):
        melspec.cqt(np.ones(8, np.float32), sr=44100, hop_length=4096, n_bins=36, device="cpu")


def test_cuda_request_without_a_device():
    if melspec.cuda_device_count() > 0:
        pytest.skip("a CUDA device is present")
    with pytest.raises(melspec.BackendUnavailableError):
        melspec.CQT(device="cuda")


@pytest.mark.skipif(melspec.cuda_device_count() == 0, reason="needs a CUDA device")
def test_gpu_matches_cpu():
    sr = 22050
    y = make_signal(sr, sr, seed=11, channels=(3,)).astype(np.float32)
    with melspec.CQT(sr=sr, device="cuda") as gpu, melspec.CQT(sr=sr, device="cpu") as cpu:
        assert gpu.backend == "cuda"
        assert normalized_error(gpu(y), cpu(y)) < TOLERANCE
