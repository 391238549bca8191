"""The feature stage (issue 15) from Python: melspec.feature.mfcc / MFCC, melspec.pcen / PCEN and
melspec.feature.delta against librosa (float64 on the same float32 samples), streams of the
feature plans equal to their offline output bit for bit, and librosa's refusals."""
import numpy as np
import pytest

from conftest import make_signal, normalized_error

melspec = pytest.importorskip("melspec")
librosa = pytest.importorskip("librosa")

# Normalized max error: float32 mel/dB values through a double DCT or smoother (the C golden
# test's tolerance; measured ~1e-7).
TOLERANCE = 2e-6


def _audio(n=12000, sr=16000, seed=0):
    return make_signal(n, sr, seed=seed).astype(np.float32)


MFCC_CASES = [
    dict(),
    dict(dct_type=1),
    dict(dct_type=3, norm=None),
    dict(dct_type=2, norm=None, lifter=22),
    dict(n_mfcc=40, lifter=3.5, n_fft=400, hop_length=160, n_mels=40, fmin=20.0, fmax=7600.0),
    dict(n_mfcc=13, htk=True, n_mels=26, n_fft=512, hop_length=128, pad_mode="reflect"),
    dict(n_mfcc=200, n_mels=64, n_fft=512),  # more than the bands: one row per band, as librosa
]


@pytest.mark.parametrize("kwargs", MFCC_CASES)
def test_mfcc_from_signal_matches_librosa(kwargs):
    y = _audio()
    ours = melspec.feature.mfcc(y=y, sr=16000, device="cpu", **kwargs)
    ref = librosa.feature.mfcc(y=y.astype(np.float64), sr=16000, **kwargs)
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    assert normalized_error(ours, ref) <= TOLERANCE


@pytest.mark.parametrize("kwargs", [dict(), dict(dct_type=1, norm=None, lifter=10),
                                    dict(dct_type=3, n_mfcc=7)])
def test_mfcc_from_given_spectrogram_is_librosas(kwargs):
    S = librosa.power_to_db(librosa.feature.melspectrogram(y=_audio().astype(np.float64),
                                                           sr=16000))
    for dtype in (np.float32, np.float64):
        ours = melspec.feature.mfcc(S=S.astype(dtype), **kwargs)
        ref = librosa.feature.mfcc(S=S.astype(dtype), **kwargs)
        assert ours.dtype == ref.dtype
        np.testing.assert_array_equal(ours, ref)


def test_mfcc_multichannel_and_layout():
    y = make_signal(8000, 16000, seed=4, channels=(2,)).astype(np.float32)
    ours = melspec.feature.mfcc(y=y, sr=16000, device="cpu")
    ref = librosa.feature.mfcc(y=y.astype(np.float64), sr=16000)
    assert ours.shape == ref.shape == (2, 20, ref.shape[-1])
    assert normalized_error(ours, ref) <= TOLERANCE
    with melspec.feature.MFCC(sr=16000, layout="frames_major", device="cpu") as plan:
        np.testing.assert_array_equal(plan(y), np.swapaxes(ours, -1, -2))


PCEN_CASES = [
    dict(),
    dict(gain=0.8, bias=10.0, power=0.25, time_constant=0.06, eps=1e-4),
    dict(max_size=3),
    dict(max_size=4, b=0.3),
    dict(power=0.0),
    dict(bias=0.0, gain=0.5),
]


@pytest.mark.parametrize("kwargs", PCEN_CASES)
def test_pcen_plan_matches_librosa(kwargs):
    y = _audio(seed=2) * np.float32(2 ** 10)
    S = librosa.feature.melspectrogram(y=y.astype(np.float64), sr=16000, n_fft=512,
                                       hop_length=160, n_mels=64)
    ref = librosa.pcen(S, sr=16000, hop_length=160, **kwargs)
    plan_kwargs = {("pcen_power" if k == "power" else k): v for k, v in kwargs.items()}
    with melspec.feature.PCEN(sr=16000, n_fft=512, hop_length=160, n_mels=64, device="cpu",
                              **plan_kwargs) as plan:
        ours = plan(y)
        # the stage alone, on melspec's own mel: independent of the float32 FFT's noise floor
        with melspec.MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=64,
                                    device="cpu") as mel:
            stage_ref = librosa.pcen(mel(y).astype(np.float64), sr=16000, hop_length=160,
                                     **kwargs)
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    assert normalized_error(ours, ref) <= TOLERANCE
    assert normalized_error(ours, stage_ref) <= 2e-7


def test_pcen_on_a_pure_tone_is_the_stage_on_melspecs_mel():
    """A pure tone's far bins sit under the float32 FFT's noise floor (~-140 dB from the peak),
    which PCEN (a per-bin normalization) shows: compare the stage alone there."""
    t = np.arange(16000) / 16000
    y = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    with melspec.feature.PCEN(sr=16000, n_fft=512, hop_length=128, n_mels=64,
                              device="cpu") as plan, \
            melspec.MelSpectrogram(sr=16000, n_fft=512, hop_length=128, n_mels=64,
                                   device="cpu") as mel:
        ref = librosa.pcen(mel(y).astype(np.float64), sr=16000, hop_length=128)
        assert normalized_error(plan(y), ref) <= 2e-7


def test_pcen_linear_plan():
    y = _audio(seed=5)
    S = np.abs(librosa.stft(y.astype(np.float64), n_fft=256, hop_length=64))
    ref = librosa.pcen(S, sr=16000, hop_length=64, max_size=3)
    with melspec.feature.PCEN(sr=16000, n_fft=256, hop_length=64, power=1.0, linear=True,
                              max_size=3, device="cpu") as plan:
        assert normalized_error(plan(y), ref) <= TOLERANCE


@pytest.mark.parametrize("kwargs", PCEN_CASES + [dict(axis=0), dict(max_size=5, max_axis=1)])
def test_pcen_on_given_spectrogram_is_librosas(kwargs):
    S = np.abs(librosa.stft(_audio(seed=6).astype(np.float64), n_fft=256))
    np.testing.assert_array_equal(melspec.pcen(S, **kwargs), librosa.pcen(S, **kwargs))


def test_pcen_zi_and_return_zf_continue_a_signal():
    S = librosa.feature.melspectrogram(y=_audio(seed=7).astype(np.float64), sr=16000)
    whole, zf_whole = melspec.pcen(S, return_zf=True)
    first, zf = melspec.pcen(S[:, :10], return_zf=True)
    second = melspec.pcen(S[:, 10:], zi=zf)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-12)
    ref, ref_zf = librosa.pcen(S, return_zf=True)
    np.testing.assert_array_equal(whole, ref)
    np.testing.assert_array_equal(zf_whole, ref_zf)


STREAM_PLANS = [
    (melspec.feature.MFCC, dict(sr=16000, n_fft=400, hop_length=160, n_mels=40, top_db=None,
                                lifter=22)),
    (melspec.feature.MFCC, dict(sr=16000, n_fft=512, hop_length=100, n_mels=64, n_mfcc=64,
                                dct_type=1, norm=None, top_db=None, layout="frames_major",
                                pad_mode="reflect")),
    (melspec.feature.PCEN, dict(sr=16000, n_fft=512, hop_length=128, n_mels=64,
                                time_constant=0.05)),
    (melspec.feature.PCEN, dict(sr=16000, n_fft=256, hop_length=64, linear=True, max_size=3,
                                dtype="float16", layout="frames_major")),
]


@pytest.mark.parametrize("cls, kwargs", STREAM_PLANS)
def test_feature_streams_equal_offline(cls, kwargs):
    y = _audio(9000, seed=8)
    rng = np.random.default_rng(8)
    with cls(device="cpu", **kwargs) as plan:
        expected = plan(y)
        for _ in range(2):
            stream = plan.stream()
            parts, offset = [], 0
            while offset < y.size:
                size = int(rng.integers(0, 900))
                parts.append(stream.push(y[offset:offset + size]))
                offset += size
            parts.append(stream.flush())
            streamed = np.concatenate(parts, axis=stream.frame_axis)
            assert streamed.dtype == expected.dtype
            np.testing.assert_array_equal(streamed, expected)


def test_mfcc_stream_needs_top_db_none():
    with melspec.feature.MFCC(sr=16000, device="cpu") as plan:
        with pytest.raises(melspec.MelspecError, match="top_db"):
            plan.stream()


@pytest.mark.parametrize("call, match", [
    (lambda y: melspec.feature.mfcc(y=y, lifter=-1), "lifter"),
    (lambda y: melspec.feature.mfcc(y=y, dct_type=4), "dct_type"),
    (lambda y: melspec.feature.mfcc(y=y, norm="forward"), "norm"),
    (lambda y: melspec.feature.mfcc(y=y, n_mfc=3), "n_mfc"),
    (lambda y: melspec.feature.mfcc(), "y"),
    (lambda y: melspec.pcen(np.ones((4, 8)), power=-1), "power"),
    (lambda y: melspec.pcen(np.ones((4, 8)), eps=0), "eps"),
    (lambda y: melspec.pcen(np.ones((4, 8)), b=2), "b="),
    (lambda y: melspec.pcen(np.ones((4, 8)), max_size=0), "max_size"),
    (lambda y: melspec.pcen(np.ones(8), max_size=2), "1-dimensional"),
    (lambda y: melspec.feature.PCEN(gain=-1), "gain"),
    (lambda y: melspec.feature.PCEN(time_constant=0), "time_constant"),
    (lambda y: melspec.feature.delta(np.ones((3, 5)), width=9), "width"),
    (lambda y: melspec.feature.delta(np.ones((3, 20)), width=4), "odd"),
    (lambda y: melspec.feature.delta(np.ones((3, 20)), order=0), "order"),
])
def test_refusals_are_value_errors_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call(_audio(4000))


@pytest.mark.parametrize("kwargs", [dict(), dict(order=2), dict(width=5, axis=0),
                                    dict(mode="nearest", width=3)])
def test_delta_is_librosas(kwargs):
    data = melspec.feature.mfcc(y=_audio(), sr=16000, device="cpu").astype(np.float64)
    np.testing.assert_array_equal(melspec.feature.delta(data, **kwargs),
                                  librosa.feature.delta(data, **kwargs))
