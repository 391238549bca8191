"""dB scaling: the numpy functions against librosa, and the plans' scaling stage."""
import warnings

import librosa
import numpy as np
import pytest

import melspec
from conftest import make_signal, normalized_error

DB_TOLERANCE = 0.01  # dB, within 80 dB of the peak


def _spectrogram(dtype):
    y = make_signal(16000, 16000, seed=7)
    return librosa.feature.melspectrogram(y=y, sr=16000, n_fft=800, hop_length=200,
                                          n_mels=80).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [{}, {"ref": np.max}, {"ref": 3.5, "amin": 1e-6},
                                    {"top_db": None}, {"top_db": 40.0, "ref": np.median},
                                    {"ref": -2.0, "top_db": 0.0}])
def test_power_to_db_is_librosa_bit_for_bit(dtype, kwargs):
    S = _spectrogram(dtype)
    ours = melspec.power_to_db(S, **kwargs)
    reference = librosa.power_to_db(S, **kwargs)
    assert ours.dtype == reference.dtype and ours.shape == reference.shape
    assert np.array_equal(ours, reference)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [{}, {"ref": np.max}, {"ref": 0.5, "amin": 1e-3},
                                    {"top_db": None}])
def test_amplitude_to_db_is_librosa_bit_for_bit(dtype, kwargs):
    S = np.sqrt(_spectrogram(dtype)) * np.array(-1, dtype)  # abs() matters
    ours = melspec.amplitude_to_db(S, **kwargs)
    reference = librosa.amplitude_to_db(S, **kwargs)
    assert ours.dtype == reference.dtype
    assert np.array_equal(ours, reference)


def test_db_of_complex_input_warns_like_librosa():
    D = librosa.stft(make_signal(4000, 16000), n_fft=256)
    with pytest.warns(UserWarning, match="phase"):
        ours = melspec.amplitude_to_db(D)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.array_equal(ours, librosa.amplitude_to_db(D))
    with pytest.warns(UserWarning, match="phase"):
        melspec.power_to_db(D)


def test_db_bad_parameters_raise_value_errors():
    S = _spectrogram(np.float32)
    with pytest.raises(ValueError, match="amin"):
        melspec.power_to_db(S, amin=0)
    with pytest.raises(melspec.MelspecError, match="top_db"):
        melspec.power_to_db(S, top_db=-1)
    with pytest.raises(ValueError, match="amin"):
        melspec.amplitude_to_db(S, amin=0.0)


def _check_db(ours, reference):
    assert ours.shape == reference.shape and ours.dtype == np.float32
    near_peak = reference > reference.max() - 80.0
    assert near_peak.sum() > reference.size // 4
    assert np.max(np.abs(ours - reference)[near_peak]) <= DB_TOLERANCE


@pytest.mark.parametrize("ref", [1.0, np.max, 1e-3])
@pytest.mark.parametrize("top_db", [80.0, None, 30.0])
def test_plan_power_to_db_matches_librosa(ref, top_db):
    y = make_signal(24000, 16000, seed=11, channels=(2,))
    kwargs = dict(sr=16000, n_fft=800, hop_length=200, n_mels=80, fmin=55, fmax=7600)
    with melspec.MelSpectrogram(**kwargs, scaling="power_to_db", ref=ref, top_db=top_db,
                                device="cpu") as plan:
        ours = plan(y.astype(np.float32))
    mel = librosa.feature.melspectrogram(y=y, **kwargs)
    # Each clip of a batch is scaled on its own (ref=np.max and top_db per clip).
    reference = np.stack([librosa.power_to_db(m, ref=ref, top_db=top_db) for m in mel])
    _check_db(ours, reference)


def test_plan_amplitude_to_db_matches_librosa():
    y = make_signal(20000, 22050, seed=5)
    kwargs = dict(sr=22050, n_fft=1024, hop_length=256, n_mels=64, power=1.0)
    with melspec.MelSpectrogram(**kwargs, scaling="amplitude_to_db", ref=np.max, amin=1e-4,
                                device="cpu") as plan:
        ours = plan(y)
    reference = librosa.amplitude_to_db(librosa.feature.melspectrogram(y=y, **kwargs),
                                        ref=np.max, amin=1e-4)
    _check_db(ours, reference)


def test_plan_log_scaling_and_frames_major_layout():
    y = make_signal(16000, 16000, seed=2)
    kwargs = dict(sr=16000, n_fft=400, hop_length=160, n_mels=80)
    with melspec.MelSpectrogram(**kwargs, scaling="log", log_offset=1e-5,
                                layout="frames_major", device="cpu") as plan:
        ours = plan(y)
    reference = np.log(librosa.feature.melspectrogram(y=y, **kwargs) + 1e-5).T
    assert ours.shape == reference.shape
    assert np.max(np.abs(ours - reference)) <= 1e-4


def test_spectrogram_plan_db_scaling():
    y = make_signal(16000, 16000, seed=9)
    with melspec.Spectrogram(n_fft=512, hop_length=128, power=2.0, scaling="power_to_db",
                             ref=np.max, top_db=None, device="cpu") as plan:
        ours = plan(y)
    reference = librosa.power_to_db(np.abs(librosa.stft(y, n_fft=512, hop_length=128)) ** 2,
                                    ref=np.max, top_db=None)
    _check_db(ours, reference)


def test_frames_major_stft_is_the_transpose():
    y = make_signal(9000, 16000, seed=4, channels=(2,)).astype(np.float32)
    with melspec.STFT(n_fft=512, hop_length=100, device="cpu") as bins_major, \
            melspec.STFT(n_fft=512, hop_length=100, layout="frames_major", device="cpu") as frames:
        a, b = bins_major(y), frames(y)
    assert b.shape == (2, a.shape[2], a.shape[1])
    assert np.array_equal(np.swapaxes(a, -1, -2), b)
    assert normalized_error(a, librosa.stft(y.astype(np.float64), n_fft=512,
                                            hop_length=100)) <= 2e-6
