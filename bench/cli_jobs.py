"""Throughput of `melspec --jobs N` on a directory of clips (issue 16's goal: 200 clips, 300 s
of 16 kHz audio, mel to .npy, --jobs 2 at least 1.8x --jobs 1 on a 2-core machine).

Usage: python3 bench/cli_jobs.py build/tools/cli/melspec [--jobs 1,2] [--repeats 3]
Prints files/s and audio-seconds/s per --jobs value (best of the repeats) and the speed-up."""
import argparse
import os
import shutil
import subprocess
import tempfile
import time
import wave

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("melspec")
parser.add_argument("--jobs", default="1,2")
parser.add_argument("--repeats", type=int, default=3)
parser.add_argument("--clips", type=int, default=200)
parser.add_argument("--seconds", type=float, default=1.5)
args = parser.parse_args()

rate = 16000
with tempfile.TemporaryDirectory() as tmp:
    corpus = os.path.join(tmp, "corpus")
    os.makedirs(corpus)
    rng = np.random.default_rng(0)
    for i in range(args.clips):
        # speech-like: a few harmonics with a wandering pitch, plus noise; lengths vary a little
        n = int(args.seconds * rate) + int(rng.integers(-800, 800))
        t = np.arange(n) / rate
        f0 = 120 + 40 * np.sin(2 * np.pi * 0.7 * t + i)
        phase = 2 * np.pi * np.cumsum(f0) / rate
        y = sum(0.2 / k * np.sin(k * phase) for k in range(1, 6)) + 0.02 * rng.standard_normal(n)
        with wave.open(os.path.join(corpus, f"clip{i:03d}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes((y * 32767).astype("<i2").tobytes())
    audio_seconds = sum(os.path.getsize(os.path.join(corpus, f)) - 44
                        for f in os.listdir(corpus)) / 2 / rate
    results = {}
    for jobs in [int(j) for j in args.jobs.split(",")]:
        best = float("inf")
        for _ in range(args.repeats):
            out = os.path.join(tmp, "out")
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            subprocess.run([args.melspec, "-q", "--jobs", str(jobs), "--sr", "16000", corpus,
                            "-o", out], check=True)
            best = min(best, time.perf_counter() - start)
        results[jobs] = best
        print(f"--jobs {jobs}: {best:.3f} s, {args.clips / best:.1f} files/s, "
              f"{audio_seconds / best:.0f} audio-seconds/s ({audio_seconds:.0f} s of audio)")
    if 1 in results:
        for jobs, seconds in results.items():
            if jobs != 1:
                print(f"speed-up --jobs {jobs} over --jobs 1: {results[1] / seconds:.2f}x")
