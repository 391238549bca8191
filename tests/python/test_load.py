"""melspec.load against librosa.load on files written here (WAV, FLAC, OGG, Opus, MP3), and its
errors for files that are missing, not audio, or cut short."""
import os

import numpy as np
import pytest

from conftest import make_signal

import melspec

librosa = pytest.importorskip("librosa")
soundfile = pytest.importorskip("soundfile")


def _write(tmp_path, name, y, sr, **kwargs):
    path = str(tmp_path / name)
    soundfile.write(path, y.T, sr, **kwargs)
    return path


@pytest.fixture
def stereo_wav(tmp_path):
    y = (0.5 * make_signal(44100, 44100, seed=3, channels=(2,))).astype(np.float32)
    return _write(tmp_path, "stereo.wav", y, 44100, subtype="FLOAT")


@pytest.mark.parametrize("sr", [22050, 16000, None])
@pytest.mark.parametrize("mono", [True, False])
def test_load_matches_librosa(stereo_wav, sr, mono):
    ours, our_sr = melspec.load(stereo_wav, sr=sr, mono=mono)
    theirs, their_sr = librosa.load(stereo_wav, sr=sr, mono=mono)
    assert our_sr == their_sr
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.float32
    assert np.max(np.abs(theirs)) > 0.1
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_offset_and_duration_are_librosas(stereo_wav):
    ours, _ = melspec.load(stereo_wav, sr=16000, offset=0.25, duration=0.5)
    theirs, _ = librosa.load(stereo_wav, sr=16000, offset=0.25, duration=0.5)
    assert ours.shape == theirs.shape == (8000,)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_dtype_and_path_like(stereo_wav):
    import pathlib
    ours, sr = melspec.load(pathlib.Path(stereo_wav), sr=None, dtype=np.float64)
    assert ours.dtype == np.float64 and sr == 44100 and ours.shape == (44100,)


@pytest.mark.parametrize("name,kwargs", [
    ("clip.flac", {}), ("clip.ogg", {"subtype": "VORBIS"}), ("clip.opus", {"format": "OGG", "subtype": "OPUS"}),
    ("clip.mp3", {"format": "MP3", "subtype": "MPEG_LAYER_III"}),
])
def test_compressed_formats_match_librosa(tmp_path, name, kwargs):
    y = (0.5 * make_signal(48000, 48000, seed=5)).astype(np.float32)
    try:
        path = _write(tmp_path, name, y, 48000, **kwargs)
    except (RuntimeError, TypeError, ValueError) as error:  # libsndfile without that encoder
        pytest.skip(f"this libsndfile cannot write {name}: {error}")
    ours, our_sr = melspec.load(path, sr=16000)
    theirs, their_sr = librosa.load(path, sr=16000)
    assert our_sr == their_sr == 16000
    assert ours.shape == theirs.shape
    assert np.max(np.abs(theirs)) > 0.1
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        melspec.load(str(tmp_path / "nothing.wav"))


def test_not_audio_says_so(tmp_path):
    path = tmp_path / "text.wav"
    path.write_text("this is not a wave file\n" * 20)
    with pytest.raises(melspec.InvalidArgumentError, match="not a readable audio file"):
        melspec.load(str(path))


def test_truncated_wav_is_refused(stereo_wav, tmp_path):
    with open(stereo_wav, "rb") as f:
        data = f.read()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(melspec.InvalidArgumentError, match="truncated"):
        melspec.load(str(cut))


def test_offset_past_the_end_and_bad_arguments(stereo_wav):
    with pytest.raises(melspec.InvalidArgumentError, match="past the end"):
        melspec.load(stereo_wav, offset=5.0)
    with pytest.raises(melspec.InvalidArgumentError):
        melspec.load(stereo_wav, sr=-1)
    with pytest.raises(melspec.InvalidArgumentError):
        melspec.load(stereo_wav, duration=-2)
