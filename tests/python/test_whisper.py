"""melspec.presets and melspec.whisper against Whisper's published formula, computed here in
float64 numpy (whisper/audio.py; transformers' WhisperFeatureExtractor): neither package is
installed for this."""
import numpy as np
import pytest

from conftest import make_signal

import melspec
from melspec import whisper

librosa = pytest.importorskip("librosa")  # the filterbank whisper's mel_filters.npz came from


def whisper_formula(y, n_mels=80, per_clip_max=True):
    """float64: reflect-padded periodic-Hann STFT (400/160), |X|^2, Slaney mel, last frame
    dropped, log10 floor 1e-10, clamp to max - 8, (x + 4) / 4."""
    y = np.asarray(y, dtype=np.float64)
    padded = np.pad(y, (200, 200), mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, 400)[::160]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
    filters = librosa.filters.mel(sr=16000, n_fft=400, n_mels=n_mels, dtype=np.float64)
    mel = filters @ power.T
    log_spec = np.log10(np.maximum(mel[:, :-1], 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


@pytest.mark.parametrize("n_mels", [80, 128])
def test_log_mel_spectrogram_is_whispers_formula(n_mels):
    y = (0.3 * make_signal(16000 * 3 + 123, 16000, seed=7)).astype(np.float32)
    ours = whisper.log_mel_spectrogram(y, n_mels=n_mels, device="cpu")
    reference = whisper_formula(y, n_mels)
    assert ours.dtype == np.float32 and ours.shape == reference.shape == (n_mels, 300)
    assert reference.max() - reference.min() > 1.0  # a real dynamic range, not a flat clamp
    np.testing.assert_allclose(ours, reference, rtol=0, atol=2e-4)


def test_padding_appends_zeros_first():
    y = (0.3 * make_signal(8000, 16000, seed=8)).astype(np.float32)
    ours = whisper.log_mel_spectrogram(y, padding=whisper.N_SAMPLES - len(y), device="cpu")
    assert ours.shape == (80, whisper.N_FRAMES)
    reference = whisper_formula(np.pad(y, (0, whisper.N_SAMPLES - len(y))))
    np.testing.assert_allclose(ours, reference, rtol=0, atol=2e-4)


def test_feature_extractor_matches_transformers_rules():
    extractor = whisper.WhisperFeatureExtractor()
    clips = [(0.3 * make_signal(n, 16000, seed=n)).astype(np.float32) for n in (16000, 40000)]
    out = extractor(clips, sampling_rate=16000, return_attention_mask=True)
    features, mask = out["input_features"], out["attention_mask"]
    assert features.shape == (2, 80, 3000) and features.dtype == np.float32
    assert mask.shape == (2, 3000)
    assert mask[0].sum() == 100 and mask[1].sum() == 250 and mask[1, 250:].sum() == 0
    for row, clip in enumerate(clips):  # each clip padded to 30 s, clamped against its own max
        reference = whisper_formula(np.pad(clip, (0, whisper.N_SAMPLES - len(clip))))
        np.testing.assert_allclose(features[row], reference, rtol=0, atol=2e-4)


def test_feature_extractor_refuses_another_rate():
    with pytest.raises(melspec.InvalidArgumentError, match="16000"):
        whisper.WhisperFeatureExtractor()(np.ones(100, np.float32) * 0.1, sampling_rate=44100)


def test_presets_build_the_configs_they_name():
    assert set(melspec.presets.PRESETS) == {"librosa", "realtime", "whisper-80", "whisper-128",
                                            "ccmusic-cqt"}
    y = (0.3 * make_signal(16000, 16000, seed=9)).astype(np.float32)
    with melspec.presets.plan("realtime", device="cpu") as plan:
        S = plan(y)
    expected = melspec.melspectrogram(y, sr=16000, n_fft=800, hop_length=200, n_mels=80,
                                      fmin=55, fmax=7600, power=1.0, device="cpu")
    assert S.shape == (80, 81)
    np.testing.assert_array_equal(S, expected)
    with melspec.presets.plan("ccmusic-cqt", device="cpu") as plan:
        C = plan(make_signal(22050, 22050, seed=10).astype(np.float32))
    assert C.shape[0] == 84 and C.dtype == np.float32 and np.isclose(C.max(), 0.0, atol=1e-4)
    with pytest.raises(KeyError, match="realtime"):
        melspec.presets.get("nope")
