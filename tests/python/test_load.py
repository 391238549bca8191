"""melspec.load against librosa.load on files written here (WAV, FLAC, OGG, Opus, MP3), what a
file cut short gives (librosa's samples and a warning; strict=True refuses), and its errors for
files that are missing or not audio."""
import io
import os
import warnings

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


@pytest.mark.parametrize("res_type", ["soxr_hq", "soxr_vhq", "soxr_mq", "soxr_lq", "soxr_qq"])
def test_res_type_is_librosas(stereo_wav, res_type):
    """librosa.load's res_type: each of libsoxr's qualities, the same samples as librosa's."""
    ours, _ = melspec.load(stereo_wav, sr=16000, mono=False, res_type=res_type)
    theirs, _ = librosa.load(stereo_wav, sr=16000, mono=False, res_type=res_type)
    assert ours.shape == theirs.shape == (2, 16000)
    np.testing.assert_array_equal(ours, theirs)
    if res_type != "soxr_hq":  # the quality reaches the resampler
        assert not np.array_equal(ours, melspec.load(stereo_wav, sr=16000, mono=False)[0])


@pytest.mark.parametrize("native,target,frames", [
    (44100, 22050, 44100 * 7 + 1234),  # the last of the loader's blocks partial
    (8000, 22050, 8000 * 9 + 7),       # upsampling
    (48000, 16000, 16384 * 20),        # whole blocks (of 16,384 stereo frames)
])
@pytest.mark.parametrize("res_type", ["soxr_hq", "soxr_vhq", "soxr_qq"])
def test_long_files_resample_bit_for_bit_as_librosa(tmp_path, native, target, frames, res_type):
    """Files of many of the loader's blocks, each resampled as it decodes: the samples are
    librosa.load's exactly, mono and with the channels kept."""
    y = (0.4 * make_signal(frames, native, seed=11, channels=(2,))).astype(np.float32)
    path = _write(tmp_path, "long.wav", y, native, subtype="FLOAT")
    for mono in (True, False):
        ours, _ = melspec.load(path, sr=target, mono=mono, res_type=res_type)
        theirs, _ = librosa.load(path, sr=target, mono=mono, res_type=res_type)
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)


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


def _cut(path, tmp_path, name):
    with open(path, "rb") as f:
        data = f.read()
    cut = tmp_path / name
    cut.write_bytes(data[: len(data) // 2])
    return str(cut)


@pytest.mark.parametrize("sr", [None, 16000])
def test_truncated_wav_loads_as_librosa_with_a_warning(stereo_wav, tmp_path, sr):
    cut = _cut(stereo_wav, tmp_path, "cut.wav")
    with pytest.warns(UserWarning, match="cut.wav: truncated: the header declares"):
        ours, our_sr = melspec.load(cut, sr=sr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa's own deprecation notes
        theirs, their_sr = librosa.load(cut, sr=sr)
    assert our_sr == their_sr
    assert ours.shape == theirs.shape and 0 < theirs.shape[-1]
    assert np.max(np.abs(theirs)) > 0.1
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    whole, _ = melspec.load(stereo_wav, sr=sr)
    assert ours.shape[-1] < whole.shape[-1]


def test_truncated_wav_refused_with_strict(stereo_wav, tmp_path):
    cut = _cut(stereo_wav, tmp_path, "cut.wav")
    with pytest.raises(melspec.InvalidArgumentError, match=r"truncated.*strict=True"):
        melspec.load(cut, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a sound file warns of nothing, strict or not
        melspec.load(stereo_wav, strict=True)
        melspec.load(stereo_wav)


def test_truncated_flac_gives_what_decodes(stereo_wav, tmp_path):
    # soundfile raises on a FLAC decoding error (librosa.load then needs audioread's ffmpeg):
    # the samples that decode are the sound file's first ones
    y, _ = librosa.load(stereo_wav, sr=None, mono=False)
    flac = _write(tmp_path, "clip.flac", y, 44100, subtype="PCM_16")
    cut = _cut(flac, tmp_path, "cut.flac")
    with pytest.warns(UserWarning, match="cut.flac: (truncated|damaged)"):
        ours, _ = melspec.load(cut, sr=None, mono=False)
    whole = soundfile.read(flac, dtype="float32", always_2d=True)[0].T
    assert 0 < ours.shape[1] < whole.shape[1]
    np.testing.assert_array_equal(ours, whole[:, : ours.shape[1]])
    with pytest.raises(melspec.InvalidArgumentError, match="strict=True"):
        melspec.load(cut, strict=True)


def test_file_like_objects_load_from_memory(stereo_wav):
    with open(stereo_wav, "rb") as f:
        ours, sr = melspec.load(f, sr=16000)
    direct, _ = melspec.load(stereo_wav, sr=16000)
    assert sr == 16000
    np.testing.assert_array_equal(ours, direct)
    with open(stereo_wav, "rb") as f:
        theirs, _ = librosa.load(io.BytesIO(f.read()), sr=16000)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    with pytest.raises(melspec.InvalidArgumentError, match="empty"):
        melspec.load(io.BytesIO(b""))
    with pytest.raises(melspec.InvalidArgumentError, match="binary mode"):
        melspec.load(io.StringIO("text"))


def test_empty_and_header_only_files_fail(stereo_wav, tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(melspec.InvalidArgumentError, match="empty"):
        melspec.load(str(empty))
    header = tmp_path / "header.wav"
    header.write_bytes(open(stereo_wav, "rb").read()[:80])
    with pytest.raises(melspec.MelspecError):
        melspec.load(str(header))


def test_offset_past_the_end_and_bad_arguments(stereo_wav):
    with pytest.raises(melspec.InvalidArgumentError, match="past the end"):
        melspec.load(stereo_wav, offset=5.0)
    with pytest.raises(melspec.InvalidArgumentError):
        melspec.load(stereo_wav, sr=-1)
    with pytest.raises(melspec.InvalidArgumentError):
        melspec.load(stereo_wav, duration=-2)
    # refused with a message, not a TypeError from deeper down (or a load at 1 Hz for True)
    bad = [dict(sr=True), dict(offset="1"), dict(duration="x"), dict(offset=None),
           dict(duration=float("nan")), dict(dtype="not a dtype"), dict(res_type="kaiser_best"),
           dict(res_type=3)]
    for kwargs in bad:
        with pytest.raises(melspec.InvalidArgumentError, match=next(iter(kwargs))):
            melspec.load(stereo_wav, **kwargs)
    with pytest.raises(melspec.InvalidArgumentError, match="polyphase"):
        melspec.load(stereo_wav, res_type="polyphase")


def _root_base(array):
    while isinstance(array, np.ndarray) and array.base is not None:
        array = array.base
    return array


def _resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_result_is_the_decoded_buffer_freed_with_the_last_view(stereo_wav, tmp_path):
    """float32 results are the loader's own buffer (no copy), writable as librosa's are, alive
    while any view of them is, and freed after."""
    import gc
    import weakref

    y, _ = melspec.load(stereo_wav, sr=None, mono=False)
    assert y.dtype == np.float32 and y.flags.c_contiguous and y.flags.writeable
    root = _root_base(y)
    assert not isinstance(root, np.ndarray)  # not a numpy copy: the C buffer
    left = y[0]
    expected = left.copy()
    del y
    for _ in range(20):  # other loads reuse freed memory: a freed buffer would change here
        melspec.load(stereo_wav, sr=16000, mono=False)
    np.testing.assert_array_equal(left, expected)
    left[0] = 0.25
    gone = weakref.ref(root)
    del left, root
    gc.collect()
    assert gone() is None
    # a minute of audio loaded 60 times and dropped: memory comes back
    long_wav = _write(tmp_path, "minute.wav",
                      (0.3 * make_signal(60 * 44100, 44100, seed=5)).astype(np.float32), 44100,
                      subtype="FLOAT")
    melspec.load(long_wav, sr=None)
    before = _resident_bytes()
    for _ in range(60):
        melspec.load(long_wav, sr=None)  # 10.6 MB each
    assert _resident_bytes() - before < 100 * 1024 * 1024
    # another dtype is a cast: a numpy array of its own
    y64, _ = melspec.load(stereo_wav, sr=None, dtype=np.float64)
    assert y64.dtype == np.float64 and isinstance(_root_base(y64), np.ndarray)


def test_load_keeps_its_own_libsndfile_when_soundfile_is_imported_after_melspec(stereo_wav):
    """soundfile's wheel bundles a libsndfile named libsndfile.so.1; had libmelspec_audio been
    loaded only at the first melspec.load, the loader would have bound it to that copy once
    soundfile was imported (librosa.load imports it). A fresh process, as a user's script."""
    import subprocess
    import sys
    script = (
        "import melspec, soundfile, os\n"
        "y, sr = melspec.load(os.environ['WAV'], sr=None)\n"
        "assert y.size > 0\n"
        "soundfile_dir = os.path.dirname(soundfile.__file__)\n"
        "bundled = os.path.join(soundfile_dir, '_soundfile_data')\n"
        "mapped = {line.split()[-1] for line in open('/proc/self/maps') if 'libsndfile' in line}\n"
        "print(sorted(mapped))\n"
        "assert any(not path.startswith(bundled) for path in mapped), mapped\n")
    result = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, WAV=stereo_wav),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
