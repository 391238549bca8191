"""The benchmark's batch case (64 clips x 10 s at 16 kHz, the real-time config) on one thread
and on --jobs threads, three ways (issue 18's goal: 2 threads at least 1.8x one on 2 cores):

  command   melspec --preset realtime --jobs N corpus/ -o out/   (WAV files in, .npy files out)
  python    melspec.melspectrogram_batch(arrays, jobs=N, ...)    (and on the WAV paths)
  C         examples/batch_threads: one plan per thread over one in-memory batch

Usage: python3 bench/batch_threads.py [--build build] [--jobs 2] [--repeats 7]
       taskset -c 0,1 python3 bench/batch_threads.py ...

Every pair runs interleaved (1, N, 1, N, ...) after a warm-up; the medians, the best and the
worst are printed, the speed-up of the medians, and the CPU time of all threads (N threads
against one: 1.00x means splitting the work cost nothing, whatever the machine's other load
does to the wall clock). On a shared machine only the medians of many repeats mean anything,
and the spread says how much.
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

parser = argparse.ArgumentParser()
parser.add_argument("--build", default=os.path.join(REPO, "build"))
parser.add_argument("--jobs", type=int, default=2)
parser.add_argument("--repeats", type=int, default=7)
parser.add_argument("--clips", type=int, default=64)
parser.add_argument("--seconds", type=float, default=10.0)
parser.add_argument("--only", default="command,python,python-paths,c")
args = parser.parse_args()

os.environ.setdefault("MELSPEC_LIBRARY", os.path.join(args.build, "libmelspec.so"))
sys.path.insert(0, os.path.join(REPO, "python"))
import melspec  # noqa: E402

RATE = 16000
REALTIME = dict(sr=RATE, n_fft=800, hop_length=200, n_mels=80, fmin=55.0, fmax=7600.0,
                power=1.0)
only = set(args.only.split(","))


def signals():
    rng = np.random.default_rng(0)
    n = int(args.seconds * RATE)
    t = np.arange(n) / RATE
    out = []
    for i in range(args.clips):
        f0 = 120 + 40 * np.sin(2 * np.pi * 0.7 * t + i)
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        y = sum(0.2 / k * np.sin(k * phase) for k in range(1, 6)) + 0.02 * rng.standard_normal(n)
        out.append(y.astype(np.float32))
    return out


def cpu_seconds():
    """CPU seconds of this process (every thread) and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def interleaved(run_one, run_many):
    run_one(), run_many()  # warm-up
    one, many, cpu_one, cpu_many = [], [], [], []
    for _ in range(args.repeats):
        for f, times, cpu in ((run_one, one, cpu_one), (run_many, many, cpu_many)):
            cpu_start = cpu_seconds()
            start = time.perf_counter()
            f()
            times.append(time.perf_counter() - start)
            cpu.append(cpu_seconds() - cpu_start)
    return one, many, cpu_one, cpu_many


def report(name, one, many, cpu_one, cpu_many, audio_seconds):
    m1, mn = statistics.median(one), statistics.median(many)
    c1, cn = statistics.median(cpu_one), statistics.median(cpu_many)
    print(f"{name:>13}: 1 thread median {1e3 * m1:7.1f} ms (best {1e3 * min(one):.1f}, worst "
          f"{1e3 * max(one):.1f}); {args.jobs} threads median {1e3 * mn:7.1f} ms (best "
          f"{1e3 * min(many):.1f}, worst {1e3 * max(many):.1f}); {audio_seconds / mn:.0f} "
          f"audio-s/s; speed-up {m1 / mn:.2f}x; CPU time {1e3 * c1:.0f} ms vs "
          f"{1e3 * cn:.0f} ms ({cn / c1:.2f}x)")


ys = signals()
audio_seconds = args.clips * args.seconds
print(f"{args.clips} clips x {args.seconds:g} s at 16 kHz, real-time config; {args.repeats} "
      f"interleaved repeats; cores available: {len(os.sched_getaffinity(0))}; "
      f"library {melspec.library_path}")

with tempfile.TemporaryDirectory() as tmp:
    corpus = os.path.join(tmp, "corpus")
    os.makedirs(corpus)
    paths = []
    for i, y in enumerate(ys):
        paths.append(os.path.join(corpus, f"clip{i:03d}.wav"))
        with wave.open(paths[-1], "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes((np.clip(y, -1, 1) * 32767).astype("<i2").tobytes())

    if "command" in only:
        cli = os.path.join(args.build, "tools", "cli", "melspec")
        out = os.path.join(tmp, "out")

        def cli_run(jobs):
            def run():
                shutil.rmtree(out, ignore_errors=True)
                subprocess.run([cli, "-q", "--preset", "realtime", "--jobs", str(jobs), corpus,
                                "-o", out], check=True)
            return run
        report("command", *interleaved(cli_run(1), cli_run(args.jobs)), audio_seconds)

    if "python" in only:
        def py_run(jobs, items):
            return lambda: melspec.melspectrogram_batch(items, jobs=jobs, **REALTIME)
        report("python", *interleaved(py_run(1, ys), py_run(args.jobs, ys)), audio_seconds)
    if "python-paths" in only:
        report("python paths", *interleaved(py_run(1, paths), py_run(args.jobs, paths)),
               audio_seconds)

    if "c" in only:
        program = os.path.join(args.build, "examples", "batch_threads")
        result = subprocess.run([program, "--threads", str(args.jobs), "--clips",
                                 str(args.clips), "--seconds", str(args.seconds), "--repeats",
                                 str(args.repeats)], capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"{program}: {result.stderr}")
        lines = result.stdout.strip().splitlines()
        print(f"{'C':>13}: " + "; ".join(lines[1:]))
