#!/usr/bin/env python3
"""The design's cqt case side by side with librosa, in one process, on one thread.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=python \
        MELSPEC_LIBRARY=build/libmelspec.so python3 bench/cqt_vs_librosa.py

Case: 30 s at 22.05 kHz, hop 512, 84 bins from C1, 12 per octave; the output in amplitude dB
(ref = each clip's max, top_db 80) as librosa.amplitude_to_db(np.abs(librosa.cqt(y)), ref=np.max),
and the bare complex CQT. melspec is timed at the C call (melspec_execute through ctypes with
preallocated buffers) and through the Python plan. librosa's ÷2 resamplings (soxr.resample, as
librosa.resample calls it, on the same signal) are timed on their own for reference. Calls are
interleaved round by round so that drift affects all alike; medians and p99 in milliseconds.
"""
import argparse
import ctypes
import os
import platform
import subprocess
import sys
import time
import warnings

import numpy as np

import librosa
import melspec
import soxr
from melspec import _library

SR = 22050
CASE = dict(sr=SR, hop_length=512, n_bins=84, bins_per_octave=12)


def music(seconds, seed=0):
    """Notes of a harmonic instrument with plucked envelopes, a bass line and a little noise."""
    rng = np.random.default_rng(seed)
    n = int(SR * seconds)
    t = np.arange(n) / SR
    y = 0.01 * rng.standard_normal(n)
    for start in np.arange(0.0, seconds, 0.25):
        f0 = 110.0 * 2 ** (rng.integers(0, 24) / 12)
        active = t >= start
        envelope = np.where(active, np.exp(-(t - start) * 5.0), 0.0)
        for h in range(1, 8):
            y += envelope * (0.2 / h) * np.sin(2 * np.pi * f0 * h * (t - start))
    y += 0.1 * np.sin(2 * np.pi * 55.0 * t)
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)


def stats(times):
    ordered = sorted(times)
    return (1e3 * ordered[len(ordered) // 2],
            1e3 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))])


def c_caller(plan, y):
    """melspec_execute with everything prepared: the library's own time plus a ctypes call."""
    out = np.empty(plan.output_shape(y.shape), plan._dtype)
    execute = _library.lib.execute
    args = (plan._handle, y.ctypes.data, 1, y.shape[-1], out.ctypes.data, out.nbytes)

    def call():
        status = execute(*args)
        assert status == 0
        return out

    return call


def soxr_halvings(y):
    """The six ÷2 resamplings librosa.cqt makes for this case (librosa.resample's calls)."""
    for _ in range(6):
        y = soxr.resample(y, 2, 1, quality="soxr_hq")
    return y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    y = music(args.seconds)
    db_plan = melspec.CQT(output="magnitude", scaling="amplitude_to_db", ref=np.max,
                          device="cpu", max_samples=len(y), **CASE)
    complex_plan = melspec.CQT(device="cpu", max_samples=len(y), **CASE)
    runs = {
        "librosa amplitude_to_db(abs(cqt))": lambda: librosa.amplitude_to_db(
            np.abs(librosa.cqt(y, **CASE)), ref=np.max),
        "librosa cqt (complex)": lambda: librosa.cqt(y, **CASE),
        "librosa's 6 soxr_hq halvings alone": lambda: soxr_halvings(y),
        "melspec C call, dB": c_caller(db_plan, y),
        "melspec C call, complex": c_caller(complex_plan, y),
        "melspec CQT plan (Python), dB": lambda: db_plan(y),
        "melspec.cqt() (Python), complex": lambda: melspec.cqt(y, device="cpu", **CASE),
    }
    for _ in range(args.warmup):
        for run in runs.values():
            run()
    times = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)

    reference_db = runs["librosa amplitude_to_db(abs(cqt))"]()
    reference = runs["librosa cqt (complex)"]()
    ours = runs["melspec C call, complex"]()
    ours_db = runs["melspec C call, dB"]()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=os.path.dirname(os.path.abspath(__file__))).stdout
    print(f"commit {commit.strip()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, python {platform.python_version()}, numpy {np.__version__}, "
          f"librosa {librosa.__version__}, soxr {soxr.__version__} (libsoxr "
          f"{soxr.__libsoxr_version__}), melspec {melspec.library_version} "
          f"({melspec.library_path})")
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    print(f"case: {args.seconds:g} s at {SR} Hz, {CASE}, music-like signal, "
          f"{args.rounds} rounds after {args.warmup} warm-up rounds")
    print()
    # each melspec run against librosa computing the same output
    baselines = {"dB": stats(times["librosa amplitude_to_db(abs(cqt))"])[0],
                 "complex": stats(times["librosa cqt (complex)"])[0]}
    print("| run | median ms | p99 ms | speed-up over librosa (same output, medians) |")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        median, p99 = stats(values)
        ratio = ""
        if name.startswith("melspec"):
            ratio = f"{baselines['dB' if name.endswith('dB') else 'complex'] / median:.1f}x"
        print(f"| {name} | {median:.2f} | {p99:.2f} | {ratio} |")
    print()
    complex_error = np.max(np.abs(ours - reference)) / np.max(np.abs(reference))
    db_error = np.max(np.abs(ours_db - reference_db))
    print(f"distance to librosa: complex max|ours - librosa| / max|librosa| = {complex_error:.2e};"
          f" dB max |difference| = {db_error:.2e} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
