#!/usr/bin/env python3
"""melspec.load against librosa.load (and soundfile.read, the decode alone) on the same files.

    PYTHONPATH=python MELSPEC_LIBRARY=build/libmelspec.so python3 bench/load_vs_librosa.py \
        [--repeats 30] [--dir /dev/shm]

Four cases: a speech clip (1.5 s, 16 kHz mono, 16-bit WAV, its own rate), ten minutes of such
speech (a recording or a podcast episode, where the result is the decoded buffer itself), a
minute of music (44.1 kHz stereo, 16-bit WAV, to librosa's default of 22,050 Hz mono: decode,
mix down and resample with soxr_hq, librosa's default) and the same minute as FLAC kept as it
is. The loaders
run interleaved, call by call, after one warm-up call each; it prints the median and p99 of
each and librosa's median over melspec's, and the largest difference between the two results
(librosa is the oracle: both use libsndfile and libsoxr, so 0 or float32 rounding).
"""
import argparse
import os
import statistics
import tempfile
import time
import warnings

import numpy as np

import melspec  # first: with soundfile imported before it, melspec.load decoded with soundfile's
import soundfile  # noqa: E402  bundled libsndfile, not its own (see melspec/_audio.py)

warnings.filterwarnings("ignore", category=FutureWarning)
import librosa  # noqa: E402  (after the filter: librosa's import warns on some numpy versions)

parser = argparse.ArgumentParser()
parser.add_argument("--repeats", type=int, default=30)
parser.add_argument("--dir", default=None, help="where the files go (default: the system's "
                    "temporary directory), e.g. /dev/shm for a tmpfs")
args = parser.parse_args()


def speech(n, rate, rng):
    t = np.arange(n) / rate
    phase = 2 * np.pi * np.cumsum(120 + 40 * np.sin(2 * np.pi * 0.7 * t)) / rate
    return sum(0.2 / k * np.sin(k * phase) for k in range(1, 6)) + 0.02 * rng.standard_normal(n)


def music(n, rate, rng):
    t = np.arange(n) / rate
    left = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 1760 * t)
    right = 0.3 * np.sin(2 * np.pi * 330 * t) + 0.1 * np.sin(2 * np.pi * 2640 * t)
    return np.stack([left, right], axis=1) + 0.02 * rng.standard_normal((n, 2))


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
    rng = np.random.default_rng(0)
    clip = os.path.join(tmp, "speech.wav")
    soundfile.write(clip, speech(24000, 16000, rng), 16000, subtype="PCM_16")
    recording = os.path.join(tmp, "recording.wav")
    soundfile.write(recording, speech(600 * 16000, 16000, rng), 16000, subtype="PCM_16")
    minute = music(60 * 44100, 44100, rng)
    minute_wav, minute_flac = os.path.join(tmp, "music.wav"), os.path.join(tmp, "music.flac")
    soundfile.write(minute_wav, minute, 44100, subtype="PCM_16")
    soundfile.write(minute_flac, minute, 44100, subtype="PCM_16")
    cases = [
        ("speech clip, 16-bit WAV, sr=None", clip, dict(sr=None, mono=True)),
        ("10 min 16 kHz speech, 16-bit WAV, sr=None", recording, dict(sr=None, mono=True)),
        ("1 min 44.1 kHz stereo WAV -> 22050 mono", minute_wav, dict(sr=22050, mono=True)),
        ("1 min 44.1 kHz stereo FLAC, as it is", minute_flac, dict(sr=None, mono=False)),
    ]
    print(f"{args.repeats} interleaved calls each after a warm-up; melspec {melspec.__version__}, "
          f"librosa {librosa.__version__}, soundfile {soundfile.__version__}")
    for name, path, options in cases:
        loaders = {
            "melspec.load": lambda: melspec.load(path, **options)[0],
            "librosa.load": lambda: librosa.load(path, **options)[0],
            "soundfile.read (decode only)": lambda: soundfile.read(path, dtype="float32")[0],
        }
        results = {label: load() for label, load in loaders.items()}  # warm-up, and the outputs
        times = {label: [] for label in loaders}
        for _ in range(args.repeats):
            for label, load in loaders.items():
                start = time.perf_counter()
                load()
                times[label].append(time.perf_counter() - start)
        mine, theirs = results["melspec.load"], results["librosa.load"]
        difference = (float(np.max(np.abs(mine - theirs))) if mine.shape == theirs.shape
                      else f"shapes {mine.shape} and {theirs.shape}")
        print(f"\n{name}: {os.path.getsize(path) / 1e6:.2f} MB, max |melspec - librosa| = "
              f"{difference}")
        for label, values in times.items():
            print(f"  {label:>28}: median {statistics.median(values) * 1e3:8.3f} ms, "
                  f"p99 {percentile(values, 0.99) * 1e3:8.3f} ms")
        ratio = statistics.median(times["librosa.load"]) / statistics.median(times["melspec.load"])
        print(f"  librosa.load / melspec.load: {ratio:.2f}x (median)")
