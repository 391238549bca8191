"""librosa's parameter space (issue 15): windows, numeric mel norms and dtype, empty bands,
ParameterError, stft(out=), melspectrogram(S=) and librosa's warnings, with librosa (float64 on
the same float32 samples) as the oracle."""
import warnings

import librosa
import numpy as np
import pytest
import scipy.signal

import melspec
from conftest import make_signal, normalized_error

SPECTROGRAM_TOLERANCE = 2e-6
FILTERBANK_TOLERANCE = 2e-6

WINDOWS = [
    "hann", "hamming", "boxcar", "blackman", "blackmanharris", "nuttall", "flattop", "bartlett",
    "triang", "barthann", "bohman", "cosine", "parzen", "lanczos", "exponential", "tukey",
    "taylor", ("kaiser", 8.0), ("gaussian", 40.0), ("general_hamming", 0.6), ("tukey", 0.25),
    ("general_gaussian", 1.5, 90.0), ("taylor", 6, 40, False), 14.0, "hann_periodic",
    # not designed in C: scipy's samples through the caller's-window API
    ("chebwin", 80), ("dpss", 3.0), ("general_cosine", [0.5, 0.3, 0.2]), "hann_symmetric",
    scipy.signal.windows.hann, np.hanning(300), list(np.kaiser(300, 5.0)),
]


def _id(window):
    return window.__name__ if callable(window) else (
        f"array{len(window)}" if isinstance(window, (np.ndarray, list)) else repr(window))


@pytest.mark.parametrize("window", WINDOWS, ids=_id)
def test_windows_match_librosa(window):
    y = make_signal(6000, 16000, seed=3).astype(np.float32)
    kwargs = dict(n_fft=400, hop_length=128, win_length=300, window=window)
    reference = librosa.stft(y.astype(np.float64), **kwargs)
    ours = melspec.stft(y, device="cpu", **kwargs)
    assert normalized_error(ours, reference) <= SPECTROGRAM_TOLERANCE
    mel_reference = librosa.feature.melspectrogram(y=y.astype(np.float64), sr=16000, n_mels=40,
                                                   **kwargs)
    mel = melspec.melspectrogram(y, sr=16000, n_mels=40, device="cpu", **kwargs)
    assert normalized_error(mel, mel_reference) <= SPECTROGRAM_TOLERANCE


@pytest.mark.parametrize("window,needle", [
    ("kaiser", "must have parameters"), (("hann", 3.0), "takes 0 parameter"),
    ("nonesuch", "Invalid window name"), (("gaussian", 0.0), "std"),
    (np.ones(299), "Window size mismatch"), ({"hann": 1}, "Invalid window specification"),
    (("exponential", 10.0), "takes 0 parameter"),
])
def test_bad_windows_raise_parameter_errors(window, needle):
    y = make_signal(4000, 16000).astype(np.float32)
    with pytest.raises(melspec.ParameterError, match=needle):
        melspec.stft(y, n_fft=400, win_length=300, window=window, device="cpu")


@pytest.mark.parametrize("norm", [1, 2, np.inf, -np.inf, 0, 3.5, "slaney", None])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_filterbank_norms_and_dtypes_match_librosa(norm, dtype):
    kwargs = dict(sr=22050, n_fft=1024, n_mels=64, fmin=30.0, fmax=9000.0, norm=norm)
    reference = librosa.filters.mel(dtype=np.float64, **kwargs)
    ours = melspec.filters.mel(dtype=dtype, **kwargs)
    assert ours.dtype == dtype
    assert normalized_error(ours, reference) <= (FILTERBANK_TOLERANCE if dtype == np.float32
                                                 else 1e-12)


@pytest.mark.parametrize("norm", [2, np.inf])
def test_melspectrogram_with_numeric_norm_matches_librosa(norm):
    y = make_signal(16000, 16000, seed=5).astype(np.float32)
    kwargs = dict(sr=16000, n_fft=512, hop_length=160, n_mels=64, norm=norm)
    reference = librosa.feature.melspectrogram(y=y.astype(np.float64), **kwargs)
    assert normalized_error(melspec.melspectrogram(y, device="cpu", **kwargs),
                            reference) <= SPECTROGRAM_TOLERANCE


@pytest.mark.parametrize("norm", ["l2", True, -1, "max"])
def test_bad_norms_raise_like_librosa(norm):
    with pytest.raises(librosa.util.exceptions.ParameterError):
        librosa.filters.mel(sr=22050, n_fft=1024, norm=norm)
    with pytest.raises(melspec.ParameterError, match="norm"):
        melspec.filters.mel(sr=22050, n_fft=1024, norm=norm)


EMPTY_CASES = [dict(sr=44100, n_fft=256, n_mels=128), dict(sr=44100, n_fft=400, n_mels=80),
               dict(sr=8000, n_fft=256, n_mels=128, fmin=20.0, htk=True, norm=2)]


@pytest.mark.parametrize("case", EMPTY_CASES)
def test_empty_bands_are_computed_with_librosas_warning(case):
    with pytest.warns(UserWarning) as librosa_warnings:
        reference = librosa.filters.mel(dtype=np.float64, **case)
    with pytest.warns(UserWarning) as our_warnings:
        bank = melspec.filters.mel(**case)
    librosa_texts = {str(w.message) for w in librosa_warnings if "Empty filters" in str(w.message)}
    our_texts = {str(w.message) for w in our_warnings}
    assert librosa_texts and librosa_texts <= our_texts
    assert our_warnings[0].filename == __file__  # points at the caller's line
    assert normalized_error(bank, reference) <= FILTERBANK_TOLERANCE
    assert np.all(bank[np.max(reference, axis=1) == 0] == 0)

    y = make_signal(8000, case["sr"], seed=9).astype(np.float32)
    kwargs = dict(case, hop_length=128)
    with pytest.warns(UserWarning, match="Empty filters"):
        reference = librosa.feature.melspectrogram(y=y.astype(np.float64), **kwargs)
    for _ in range(2):  # the first call plans, the second comes from the cache: both warn
        with pytest.warns(UserWarning, match="Empty filters"):
            ours = melspec.melspectrogram(y, device="cpu", **kwargs)
        assert normalized_error(ours, reference) <= SPECTROGRAM_TOLERANCE
    with pytest.warns(UserWarning, match="Empty filters"):
        plan = melspec.MelSpectrogram(device="cpu", **kwargs)
    with plan:
        empty = plan.empty_bands()
    edges = librosa.mel_frequencies(case["n_mels"] + 2, fmin=case.get("fmin", 0.0),
                                    fmax=case["sr"] / 2, htk=case.get("htk", False))
    expected = [m for m in range(case["n_mels"])
                if edges[m] != 0 and reference[..., m, :].max() == 0]
    assert list(empty) == expected


def test_no_warning_without_empty_bands():
    y = make_signal(8000, 16000).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        melspec.melspectrogram(y, sr=16000, n_fft=400, hop_length=160, n_mels=80, device="cpu")
        melspec.filters.mel(sr=16000, n_fft=400, n_mels=80)


def test_parameter_error_is_where_librosa_code_looks():
    assert issubclass(melspec.ParameterError, ValueError)
    assert melspec.util.exceptions.ParameterError is melspec.ParameterError
    assert issubclass(melspec.InvalidArgumentError, melspec.ParameterError)
    y = make_signal(4000, 16000).astype(np.float32)
    for call in (lambda: melspec.stft(y, hop_length=0), lambda: melspec.stft(y, pad_mode="wrap"),
                 lambda: melspec.stft(y, n_fft=8000, center=False),
                 lambda: melspec.melspectrogram(y, sr=16000, fmin=9000.0)):
        with pytest.raises(melspec.util.exceptions.ParameterError):
            call()


def test_n_fft_longer_than_signal_warns_like_librosa():
    y = make_signal(1000, 16000).astype(np.float32)
    with pytest.warns(UserWarning, match="n_fft=2048 is too large for input signal of "
                                         "length=1000") as caught:
        melspec.stft(y, device="cpu")
    assert caught[0].filename == __file__
    with pytest.warns(UserWarning, match="too large"):
        melspec.melspectrogram(y, device="cpu")


def test_stft_out_larger_than_needed_like_librosa():
    y = make_signal(8000, 16000).astype(np.float32)
    reference = librosa.stft(y.astype(np.float64), n_fft=512)
    for dtype in (np.complex64, np.complex128):
        out = np.full(reference.shape[:-1] + (reference.shape[-1] + 5,), 7 + 7j, dtype)
        result = melspec.stft(y, n_fft=512, out=out, device="cpu")
        assert result.shape == reference.shape and np.shares_memory(result, out)
        assert normalized_error(result, reference) <= SPECTROGRAM_TOLERANCE
        assert np.all(out[..., reference.shape[-1]:] == 7 + 7j)  # librosa leaves the rest
    exact = np.empty(reference.shape, np.complex64)
    assert melspec.stft(y, n_fft=512, out=exact, device="cpu") is exact
    with pytest.raises(melspec.ParameterError, match="Shape mismatch"):
        melspec.stft(y, n_fft=512, out=np.empty((10, 3), np.complex64))
    with pytest.raises(melspec.ParameterError, match="not of complex type"):
        melspec.stft(y, n_fft=512, out=np.empty(reference.shape, np.float32))
    assert melspec.stft(y, n_fft=512, dtype=np.complex128, device="cpu").dtype == np.complex128


@pytest.mark.parametrize("n_fft", [512, None, 1000])
def test_melspectrogram_of_a_precomputed_spectrogram(n_fft):
    y = make_signal(8000, 16000, seed=2)
    S = np.abs(librosa.stft(y, n_fft=512)) ** 2
    reference = librosa.feature.melspectrogram(S=S, sr=16000, n_fft=n_fft, n_mels=40, norm=2)
    ours = melspec.melspectrogram(S=S, sr=16000, n_fft=n_fft, n_mels=40, norm=2)
    assert ours.shape == reference.shape and ours.dtype == reference.dtype
    assert normalized_error(ours, reference) <= SPECTROGRAM_TOLERANCE
