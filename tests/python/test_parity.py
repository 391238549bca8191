"""Parity with librosa (computed in float64) over the parameter space."""
import warnings

import librosa
import numpy as np
import pytest

import melspec
from conftest import make_signal, normalized_error

SPECTROGRAM_TOLERANCE = 2e-6
FILTERBANK_TOLERANCE = 1e-6

# (sr, n_fft, hop, win_length, center, pad_mode, htk, norm, fmin, fmax, power, n_mels, channels,
#  dtype, seconds)
MEL_CASES = [
    (22050, 2048, 512, None, True, "constant", False, "slaney", 0.0, None, 2.0, 128, (), "f4", 1.0),
    (16000, 400, 160, None, True, "reflect", False, "slaney", 0.0, 8000.0, 2.0, 80, (), "f4", 1.0),
    (16000, 800, 200, None, True, "constant", False, "slaney", 55.0, 7600.0, 1.0, 80, (), "f4", 1.0),
    (8000, 1103, 301, 1000, False, "constant", True, None, 100.0, 3500.0, 1.5, 40, (2,), "f8", 0.7),
    (44100, 2205, 441, 2000, True, "edge", False, "slaney", 30.0, 20000.0, 2.0, 64, (3,), "f4", 0.4),
    (48000, 1102, 333, 777, True, "reflect", True, "slaney", 200.0, 24000.0, 1.0, 96, (), "f8", 0.5),
    (11025, 513, 97, None, False, "constant", False, None, 0.0, None, 2.0, 30, (2, 2), "f4", 0.6),
    (24000, 800, 123, 555, True, "edge", True, None, 500.0, 9000.0, 1.5, 48, (), "f4", 0.5),
    (32000, 1103, 200, 1103, True, "constant", False, "slaney", 20.0, 16000.0, 1.0, 128, (), "f4", 0.5),
    (12000, 400, 77, 399, True, "reflect", True, "slaney", 0.0, 6000.0, 2.0, 40, (2,), "f8", 0.5),
    (8000, 2205, 1000, 1500, True, "reflect", False, "slaney", 0.0, 4000.0, 2.0, 64, (), "f4", 0.3),
    (22050, 800, 1, None, True, "constant", False, "slaney", 0.0, None, 2.0, 64, (), "f4", 0.03),
]


def _random_mel_cases(count, seed=2024):
    """A reproducible sample of the space on top of the hand-picked cases."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        sr = int(rng.choice([8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000]))
        n_fft = int(rng.choice([256, 400, 512, 800, 1024, 1102, 1103, 2048, 2205]))
        win = None if rng.random() < 0.5 else int(rng.integers(n_fft // 2, n_fft + 1))
        hop = int(rng.integers(50, 700))
        nyquist = sr / 2
        fmin = float(rng.choice([0.0, rng.uniform(0, nyquist * 0.5)]))
        fmax = None if rng.random() < 0.4 else float(rng.uniform(fmin + 0.3 * nyquist, nyquist))
        htk = bool(rng.random() < 0.5)
        norm = "slaney" if rng.random() < 0.7 else None
        n_mels = int(rng.integers(16, 129))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bank = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax,
                                       htk=htk, norm=norm)
        if not np.all(bank.max(axis=1) > 0):
            continue  # empty bands: computed with a warning, tested in test_librosa_params.py
        cases.append((sr, n_fft, hop, win, bool(rng.random() < 0.7),
                      str(rng.choice(["constant", "reflect", "edge"])), htk, norm, fmin, fmax,
                      float(rng.choice([1.0, 1.5, 2.0])), n_mels,
                      [(), (2,)][int(rng.integers(0, 2))], str(rng.choice(["f4", "f8"])),
                      float(rng.uniform(0.2, 0.6))))
    return cases


def _case_id(case):
    sr, n_fft, hop, win, center, pad, htk, norm, fmin, fmax, power, n_mels, ch, dt, _ = case
    return (f"sr{sr}-n{n_fft}-h{hop}-w{win}-{'c' if center else 'nc'}-{pad}-"
            f"{'htk' if htk else 'slaney'}-{norm}-{fmin:.0f}-{fmax}-p{power}-m{n_mels}-"
            f"{'x'.join(map(str, ch)) or 'mono'}-{dt}")


ALL_MEL_CASES = MEL_CASES + _random_mel_cases(24)


@pytest.mark.parametrize("case", ALL_MEL_CASES, ids=[_case_id(c) for c in ALL_MEL_CASES])
def test_melspectrogram_matches_librosa(case):
    (sr, n_fft, hop, win, center, pad_mode, htk, norm, fmin, fmax, power, n_mels, channels,
     dtype, seconds) = case
    n = max(int(seconds * sr), n_fft + 1)
    y = make_signal(n, sr, seed=n_fft + hop, channels=channels).astype(dtype)
    kwargs = dict(sr=sr, n_fft=n_fft, hop_length=hop, win_length=win, center=center,
                  pad_mode=pad_mode, power=power, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk,
                  norm=norm)
    ours = melspec.melspectrogram(y, **kwargs, device="cpu")
    reference = librosa.feature.melspectrogram(y=y.astype(np.float64), **kwargs)
    assert ours.shape == reference.shape
    assert ours.dtype == np.float32
    assert normalized_error(ours, reference) <= SPECTROGRAM_TOLERANCE
    # The per-channel reference really differs per channel (the batch is not one signal copied).
    if channels:
        flat = ours.reshape(-1, *ours.shape[-2:])
        assert not np.array_equal(flat[0], flat[-1])


def test_melspectrogram_dtype_matches_librosa_for_float32():
    y = make_signal(8000, 16000).astype(np.float32)
    ours = melspec.melspectrogram(y, sr=16000, n_fft=400, n_mels=40)
    reference = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=400, n_mels=40)
    assert ours.dtype == reference.dtype == np.float32
    assert ours.shape == reference.shape


# (n_fft, hop, win_length, center, pad_mode, window, channels, dtype)
STFT_CASES = [
    (2048, None, None, True, "constant", "hann", (), "f4"),
    (400, 160, None, True, "reflect", "hann", (), "f8"),
    (800, 200, 600, False, "constant", "hann", (2,), "f4"),
    (1102, 311, 1001, True, "edge", "hamming", (), "f4"),
    (1103, 97, None, True, "reflect", "hann", (2, 2), "f8"),
    (2205, 441, 2000, False, "constant", "boxcar", (), "f4"),
    (513, 1000, 300, True, "edge", "hann", (3,), "f4"),
]


@pytest.mark.parametrize("case", STFT_CASES, ids=[str(c) for c in STFT_CASES])
def test_stft_matches_librosa(case):
    n_fft, hop, win, center, pad_mode, window, channels, dtype = case
    y = make_signal(12000, 22050, seed=n_fft, channels=channels).astype(dtype)
    kwargs = dict(n_fft=n_fft, hop_length=hop, win_length=win, center=center, pad_mode=pad_mode,
                  window=window)
    ours = melspec.stft(y, **kwargs, device="cpu")
    reference = librosa.stft(y.astype(np.float64), **kwargs)
    assert ours.shape == reference.shape
    assert ours.dtype == np.complex64
    assert normalized_error(ours, reference) <= SPECTROGRAM_TOLERANCE


def test_stft_dtype_matches_librosa_for_float32():
    y = make_signal(5000, 16000).astype(np.float32)
    assert melspec.stft(y, n_fft=512).dtype == librosa.stft(y, n_fft=512).dtype == np.complex64


@pytest.mark.parametrize("n_fft,power", [(400, 2.0), (800, 1.0), (1102, 1.5), (2205, 2.0),
                                         (1103, 1.0)])
def test_linear_spectrogram_matches_librosa(n_fft, power):
    y = make_signal(16000, 16000, seed=3, channels=(2,)).astype(np.float32)
    with melspec.Spectrogram(n_fft=n_fft, hop_length=160, power=power, device="cpu") as plan:
        ours = plan(y)
    reference = np.abs(librosa.stft(y.astype(np.float64), n_fft=n_fft, hop_length=160)) ** power
    assert ours.shape == reference.shape and ours.dtype == np.float32
    assert normalized_error(ours, reference) <= SPECTROGRAM_TOLERANCE


def test_linear_power_spectrogram_prime_n_fft():
    # a prime n_fft: KissFFT's generic float butterfly was near 2.3e-6 here before Bluestein
    y = make_signal(22050, 22050, seed=1).astype(np.float32)
    with melspec.Spectrogram(n_fft=1103, hop_length=123, power=2.0, device="cpu") as plan:
        ours = plan(y)
    reference = np.abs(librosa.stft(y.astype(np.float64), n_fft=1103, hop_length=123)) ** 2
    assert normalized_error(ours, reference) <= SPECTROGRAM_TOLERANCE


FILTERBANK_CASES = [
    (22050, 2048, 128, 0.0, None, False, "slaney"),
    (16000, 400, 80, 0.0, None, False, "slaney"),
    (16000, 800, 80, 55.0, 7600.0, False, "slaney"),
    (8000, 1103, 40, 100.0, 3000.0, True, None),
    (44100, 2205, 64, 30.0, 22050.0, True, "slaney"),
    (48000, 1102, 96, 300.0, 12000.0, False, None),
    (11025, 513, 30, 0.0, 5000.0, True, "slaney"),
    (32000, 4096, 256, 0.0, None, False, "slaney"),
]


@pytest.mark.parametrize("case", FILTERBANK_CASES, ids=[str(c) for c in FILTERBANK_CASES])
def test_filters_mel_matches_librosa(case):
    sr, n_fft, n_mels, fmin, fmax, htk, norm = case
    kwargs = dict(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
    ours = melspec.filters.mel(**kwargs)
    reference = librosa.filters.mel(**kwargs, dtype=np.float64)
    assert ours.shape == reference.shape == (n_mels, 1 + n_fft // 2)
    assert ours.dtype == np.float32 == librosa.filters.mel(**kwargs).dtype
    assert normalized_error(ours, reference) <= FILTERBANK_TOLERANCE


def test_plan_filterbank_and_window():
    with melspec.MelSpectrogram(sr=16000, n_fft=800, win_length=600, n_mels=80, fmin=55,
                                fmax=7600, device="cpu") as plan:
        bank = plan.filterbank()
        window = plan.window()
    reference = librosa.filters.mel(sr=16000, n_fft=800, n_mels=80, fmin=55, fmax=7600,
                                    dtype=np.float64)
    assert normalized_error(bank, reference) <= FILTERBANK_TOLERANCE
    expected = librosa.util.pad_center(librosa.filters.get_window("hann", 600, fftbins=True),
                                       size=800)
    assert window.shape == (800,) and np.max(np.abs(window - expected)) <= 1e-7


def test_empty_first_band_from_zero_hz_is_accepted_like_librosa():
    # librosa neither warns nor fails when the band starting at 0 Hz is empty; neither do we
    y = make_signal(12000, 48000, seed=4).astype(np.float32)
    kwargs = dict(sr=48000, n_fft=400, hop_length=120, n_mels=50, htk=True)
    reference = librosa.feature.melspectrogram(y=y.astype(np.float64), **kwargs)
    assert np.all(reference[0] == 0)
    ours = melspec.melspectrogram(y, device="cpu", **kwargs)
    assert normalized_error(ours, reference) <= SPECTROGRAM_TOLERANCE


@pytest.mark.parametrize("n_fft,hop,n", [(46, 43, 86), (66, 87, 261), (200, 150, 1010), (31, 40, 95)])
def test_reflect_tail_segment_like_librosa(n_fft, hop, n):
    # librosa pads the tail segment alone once head and tail frames no longer overlap; with a hop
    # above n_fft/2 the last frame's reflection then repeats within that short segment
    y = make_signal(n, 16000, seed=n).astype(np.float32)
    reference = librosa.stft(y.astype(np.float64), n_fft=n_fft, hop_length=hop, pad_mode="reflect")
    ours = melspec.stft(y, n_fft=n_fft, hop_length=hop, pad_mode="reflect", device="cpu")
    assert ours.shape == reference.shape
    assert normalized_error(ours, reference) <= SPECTROGRAM_TOLERANCE
