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
    ours = melspec.melspectrogram(y, device="cpu", dtype=np.float64, **kwargs)
    assert ours.dtype == np.float64 and normalized_error(ours, reference) <= SPECTROGRAM_TOLERANCE
    with pytest.raises(melspec.ParameterError, match="dtype"):
        melspec.melspectrogram(y, device="cpu", dtype=np.float16, **kwargs)


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


# ---- constant-Q: res_type, tuning=None, intervals, dtype -------------------------------------

CQT_TOLERANCE = 1e-5


def _cqt_signal(sr=22050, seconds=0.6, seed=11):
    return make_signal(int(sr * seconds), sr, seed=seed).astype(np.float32)


@pytest.mark.parametrize("res_type", ["soxr_hq", "soxr_vhq", "soxr_mq", "soxr_lq", "soxr_qq",
                                      "polyphase"])
def test_cqt_res_types_match_librosa(res_type):
    y = _cqt_signal()
    reference = librosa.cqt(y, sr=22050, n_bins=72, res_type=res_type)
    ours = melspec.cqt(y, sr=22050, n_bins=72, res_type=res_type, device="cpu")
    assert normalized_error(ours, reference) <= CQT_TOLERANCE
    # early downsampling (by 4 here) goes through the same resampler
    y = _cqt_signal(44100, 0.5)
    kwargs = dict(sr=44100, hop_length=2048, n_bins=36, fmin=55.0, res_type=res_type)
    assert normalized_error(melspec.cqt(y, device="cpu", **kwargs),
                            librosa.cqt(y, **kwargs)) <= CQT_TOLERANCE


@pytest.mark.parametrize("res_type", ["fft", "scipy", "kaiser_best", "linear", "sinc_best", 3])
def test_unreproduced_res_types_are_refused_by_name(res_type):
    with pytest.raises(melspec.ParameterError, match="res_type") as raised:
        melspec.cqt(_cqt_signal(), res_type=res_type, device="cpu")
    assert "polyphase" in str(raised.value) and "soxr_vhq" in str(raised.value)


def test_res_type_none_warns_like_librosa():
    y = _cqt_signal()
    with pytest.warns(FutureWarning, match="res_type=None is deprecated") as caught:
        ours = melspec.vqt(y, res_type=None, n_bins=48, device="cpu")
    assert caught[0].filename == __file__
    with pytest.warns(FutureWarning):
        reference = librosa.vqt(y, res_type=None, n_bins=48)
    assert normalized_error(ours, reference) <= CQT_TOLERANCE


@pytest.mark.parametrize("seed,bins_per_octave", [(1, 12), (2, 24), (3, 36), (4, 12)])
def test_tuning_none_estimates_like_librosa(seed, bins_per_octave):
    y = _cqt_signal(seconds=1.0, seed=seed)
    t = np.arange(len(y)) / 22050
    y = (y + 0.5 * np.sin(2 * np.pi * 440 * 2 ** (0.23 / 12) * t)).astype(np.float32)  # detuned
    expected = librosa.estimate_tuning(y=y, sr=22050, bins_per_octave=bins_per_octave)
    assert melspec.estimate_tuning(y=y, sr=22050, bins_per_octave=bins_per_octave) == expected
    assert expected != 0
    n_bins = 7 * bins_per_octave
    reference = librosa.cqt(y, sr=22050, tuning=None, n_bins=n_bins,
                            bins_per_octave=bins_per_octave)
    ours = melspec.cqt(y, sr=22050, tuning=None, n_bins=n_bins, bins_per_octave=bins_per_octave,
                       device="cpu")
    assert normalized_error(ours, reference) <= CQT_TOLERANCE
    pitches, mags = librosa.piptrack(y=y, sr=22050)
    our_pitches, our_mags = melspec.piptrack(y=y, sr=22050)
    assert normalized_error(our_pitches, pitches) <= 1e-5
    assert normalized_error(our_mags, mags) <= 1e-5


def test_tuning_none_needs_the_functions():
    with pytest.raises(melspec.ParameterError, match="tuning"):
        melspec.CQT(tuning=None, device="cpu")
    with pytest.warns(UserWarning, match="empty frequency set"):
        assert melspec.pitch_tuning([]) == 0.0


@pytest.mark.parametrize("intervals,n_bins", [
    ([1.0, 1.2, 1.25, 1.5, 1.8], 30), ("pythagorean", 60),
    (np.array([1.0, 9 / 8, 5 / 4, 4 / 3, 3 / 2, 5 / 3, 15 / 8]), 49),
    ((1.0, 1.5, 1.1), 20),  # unsorted ratios spanning more than one octave's order
])
def test_vqt_intervals_match_librosa(intervals, n_bins):
    y = _cqt_signal()
    kwargs = dict(sr=22050, n_bins=n_bins, intervals=intervals, gamma=0)
    reference = librosa.vqt(y, **kwargs)
    ours = melspec.vqt(y, device="cpu", **kwargs)
    assert normalized_error(ours, reference) <= CQT_TOLERANCE
    kwargs["gamma"] = None
    assert normalized_error(melspec.vqt(y, device="cpu", **kwargs),
                            librosa.vqt(y, **kwargs)) <= CQT_TOLERANCE


@pytest.mark.parametrize("intervals,needle", [
    ("ji5", "not supported"), ([1.0, -2.0], "positive"), ([1.0, 2.0], "twice"),
    (np.ones((2, 2)), "1-d"),
])
def test_bad_intervals_are_refused(intervals, needle):
    with pytest.raises(melspec.ParameterError, match=needle):
        melspec.vqt(_cqt_signal(), intervals=intervals, n_bins=12, device="cpu")


def test_cqt_complex128_like_librosa():
    y = _cqt_signal()
    reference = librosa.cqt(y.astype(np.float64), n_bins=48, dtype=np.complex128)
    ours = melspec.cqt(y, n_bins=48, dtype=np.complex128, device="cpu")
    assert ours.dtype == np.complex128
    assert normalized_error(ours, reference) <= CQT_TOLERANCE
    with pytest.raises(melspec.ParameterError, match="complex"):
        melspec.CQT(dtype=np.complex128, device="cpu")


@pytest.mark.parametrize("window", ["blackman", "blackmanharris", "nuttall", "flattop", "bartlett",
                                    "triang", "barthann", "bohman", "cosine", "parzen", "lanczos",
                                    "exponential"])
def test_cqt_windows_match_librosa(window):
    # librosa's bandwidth table, or its measurement on 1000 samples for lanczos and exponential
    y = _cqt_signal()
    reference = librosa.cqt(y, n_bins=60, window=window)
    assert normalized_error(melspec.cqt(y, n_bins=60, window=window, device="cpu"),
                            reference) <= CQT_TOLERANCE


@pytest.mark.parametrize("window", ["tukey", ("kaiser", 8.0), np.hanning(64), "chebwin"])
def test_cqt_windows_with_parameters_are_refused(window):
    with pytest.raises(melspec.ParameterError, match="window"):
        melspec.cqt(_cqt_signal(), n_bins=60, window=window, device="cpu")
