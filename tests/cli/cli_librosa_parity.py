"""The melspec command against librosa: librosa.load (soundfile, to_mono, soxr_hq resampling,
offset/duration) followed by librosa.feature.melspectrogram / power_to_db, and the Whisper and
real-time presets against their definitions.

Usage: python3 cli_librosa_parity.py PATH/TO/melspec   (exit 77 when librosa is missing)
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import librosa
    import soundfile
except ImportError as missing:  # the python label needs them; elsewhere, skip
    print(f"skipped: {missing}")
    sys.exit(77)

MELSPEC = sys.argv[1]
# Float32 spectra computed two ways agree to ~1e-6 of their peak; resampling goes through the
# same libsoxr algorithm (python-soxr bundles its own build of it).
TOLERANCE = 1e-5


def normalized_error(got, want):
    """The same measure as tests/support/compare.c: max |got - want| / max |want|."""
    dtype = np.complex128 if np.iscomplexobj(got) or np.iscomplexobj(want) else np.float64
    got = np.asarray(got, dtype=dtype)
    want = np.asarray(want, dtype=dtype)
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    return np.max(np.abs(got - want)) / np.max(np.abs(want))


def run(*args):
    # every run writes the same out.npy: replacing it is asked for
    result = subprocess.run([MELSPEC, "-q", "--overwrite", *args], capture_output=True, text=True)
    assert result.returncode == 0, f"melspec {' '.join(args)}: {result.stderr}"


def signal(n, channels, sr, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    columns = [0.3 * np.sin(2 * np.pi * (200 + 150 * c) * t)
               + 0.2 * np.sin(2 * np.pi * 2500 * t * t)
               + 0.05 * rng.standard_normal(n) for c in range(channels)]
    return np.stack(columns, axis=1).astype(np.float32)


def main():
    failures = []

    def check(name, got, want, tolerance=TOLERANCE):
        error = normalized_error(got, want)
        status = "ok" if error <= tolerance else "FAIL"
        print(f"{status:4} {name}: normalized error {error:.3g} (tolerance {tolerance:g})")
        if error > tolerance:
            failures.append(name)

    with tempfile.TemporaryDirectory() as tmp:
        stereo = os.path.join(tmp, "stereo.flac")
        soundfile.write(stereo, signal(44100 * 2 + 311, 2, 44100, 1), 44100, subtype="PCM_24")
        out = os.path.join(tmp, "out.npy")

        # Defaults: mono mix, 22050 Hz with soxr_hq, librosa's melspectrogram.
        run(stereo, "-o", out)
        y, sr = librosa.load(stereo)
        check("load(sr=22050) + melspectrogram", np.load(out),
              librosa.feature.melspectrogram(y=y, sr=sr))

        # Channels kept, another rate, offset and duration, dB.
        run(stereo, "--keep-channels", "--sr", "16000", "--offset", "0.3", "--duration", "1.1",
            "--n-fft", "1024", "--hop-length", "320", "--n-mels", "64", "--db", "--top-db", "none",
            "-o", out)
        y, sr = librosa.load(stereo, sr=16000, mono=False, offset=0.3, duration=1.1)
        want = librosa.power_to_db(librosa.feature.melspectrogram(
            y=y, sr=sr, n_fft=1024, hop_length=320, n_mels=64), top_db=None)
        check("load(mono=False, offset, duration) + power_to_db", np.load(out), want)

        # librosa.load's other resampling qualities (soxr_qq is cubic: far from soxr_hq's).
        for res_type in ("soxr_vhq", "soxr_qq"):
            run(stereo, "--sr", "16000", "--res-type", res_type, "-o", out)
            y, sr = librosa.load(stereo, sr=16000, res_type=res_type)
            check(f"load(res_type={res_type!r}) + melspectrogram", np.load(out),
                  librosa.feature.melspectrogram(y=y, sr=sr))

        # The real-time preset: 16 kHz, n_fft 800, hop 200, 80 mels, 55-7600 Hz, magnitude.
        run(stereo, "--preset", "realtime", "-o", out)
        y, sr = librosa.load(stereo, sr=16000)
        check("--preset realtime", np.load(out), librosa.feature.melspectrogram(
            y=y, sr=sr, n_fft=800, hop_length=200, n_mels=80, fmin=55, fmax=7600, power=1.0))

        # Whisper's log_mel_spectrogram written out in numpy (no torch needed): reflect-padded
        # STFT, |.|^2 without the last frame, slaney mel, log10 floor, clamp to max - 8, affine.
        for n_mels in (80, 128):
            run(stereo, "--preset", "whisper", "--n-mels", str(n_mels), "-o", out)
            y, sr = librosa.load(stereo, sr=16000)
            power = np.abs(librosa.stft(y, n_fft=400, hop_length=160, window="hann",
                                        pad_mode="reflect"))[:, :-1] ** 2
            mel = librosa.filters.mel(sr=16000, n_fft=400, n_mels=n_mels) @ power
            log_spec = np.log10(np.maximum(mel, 1e-10))
            log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
            check(f"--preset whisper --n-mels {n_mels}", np.load(out), (log_spec + 4.0) / 4.0)

        # Lossy formats through both loaders (libsndfile here and in soundfile).
        for extension in ("ogg", "mp3"):
            path = os.path.join(tmp, f"example.{extension}")
            subprocess.run([MELSPEC, "-q", "--generate-example", path], check=True)
            run(path, "-o", out)
            y, sr = librosa.load(path)
            check(f"generated .{extension}", np.load(out),
                  librosa.feature.melspectrogram(y=y, sr=sr), tolerance=1e-5)

        # The constant-Q transform, where the library has it (ccmusic's features, and complex).
        available = subprocess.run([MELSPEC, "-q", "--overwrite", "--transform", "cqt", stereo,
                                    "-o", out],
                                   capture_output=True, text=True)
        if "not available" in available.stderr:
            print("skip --transform cqt: not in this build")
        else:
            y, sr = librosa.load(stereo)
            check("--transform cqt", np.load(out), librosa.cqt(y, sr=sr))
            # librosa.cqt's other halvings (polyphase differs from soxr_hq by ~2e-3)
            for res_type in ("polyphase", "soxr_vhq"):
                run(stereo, "--transform", "cqt", "--cqt-res-type", res_type, "-o", out)
                check(f"--transform cqt --cqt-res-type {res_type}", np.load(out),
                      librosa.cqt(y, sr=sr, res_type=res_type))
            run(stereo, "--preset", "ccmusic-cqt", "-o", out)
            # In the linear domain: a dB value 80 dB down carries the float32 error of the loud
            # ones divided by its own size (docs/cqt.md).
            want = librosa.amplitude_to_db(np.abs(librosa.cqt(y, sr=sr, hop_length=512,
                                                               n_bins=84)), ref=np.max)
            check("--preset ccmusic-cqt", 10.0 ** (np.load(out) / 20.0), 10.0 ** (want / 20.0))

    if failures:
        print(f"{len(failures)} check(s) failed: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
