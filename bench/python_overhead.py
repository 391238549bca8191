#!/usr/bin/env python3
"""Per-call overhead of the Python binding: MelSpectrogram.__call__ against the bare C call.

    PYTHONPATH=python MELSPEC_LIBRARY=build/libmelspec.so python3 bench/python_overhead.py

The realtime case of the design (1 s at 16 kHz, n_fft 800, hop 200, 80 mels, 55-7600 Hz,
power 1). The baseline is melspec_execute called through ctypes with preallocated buffers and
precomputed pointers (what any binding must pay); the plan call adds input checks, the output
allocation and the error check. Both are timed interleaved, call by call, so that drift affects
both alike; the overhead is the median of the paired differences. A short input (one frame)
repeats the measurement where the computation is small and the timing noise with it.
"""
import argparse
import ctypes
import statistics
import sys
import time

import numpy as np

import melspec
from melspec import _library

REALTIME = dict(sr=16000, n_fft=800, hop_length=200, n_mels=80, fmin=55.0, fmax=7600.0,
                power=1.0)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(plan, y, iterations, warmup):
    lib = _library.lib
    execute = lib.execute
    out = np.empty(plan.output_shape(y.shape), np.float32)
    handle, y_pointer, out_pointer, nbytes = plan._handle, y.ctypes.data, out.ctypes.data, out.nbytes
    n_signals, n_samples = 1, y.shape[-1]
    clock = time.perf_counter_ns

    def c_call():
        start = clock()
        status = execute(handle, y_pointer, n_signals, n_samples, out_pointer, nbytes)
        elapsed = clock() - start
        assert status == 0
        return elapsed

    def plan_call():
        start = clock()
        plan(y)
        return clock() - start

    for _ in range(warmup):
        c_call()
        plan_call()
    c_times, plan_times, differences = [], [], []
    for index in range(iterations):
        if index % 2:  # alternate the order so neither always runs on a warmer cache
            c, p = c_call(), plan_call()
        else:
            p, c = plan_call(), c_call()
        c_times.append(c / 1e3)
        plan_times.append(p / 1e3)
        differences.append((p - c) / 1e3)
    return c_times, plan_times, differences


def ctypes_floor(plan, iterations):
    """A trivial C function through ctypes: the cost of crossing into C at all."""
    backend = _library.lib.plan_backend
    handle = plan._handle
    clock = time.perf_counter_ns
    times = []
    for _ in range(iterations):
        start = clock()
        backend(handle)
        times.append((clock() - start) / 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--device", default="cpu", help="auto, cpu or cuda (host arrays)")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    y = (0.4 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    print(f"melspec {melspec.library_version} ({melspec.library_path}), Python "
          f"{sys.version.split()[0]}, numpy {np.__version__}")
    with melspec.MelSpectrogram(**REALTIME, device=args.device) as plan:
        print(f"backend {plan.backend}; {args.iterations} calls each after {args.warmup} warm-up")
        print(f"ctypes floor (a trivial C call): {ctypes_floor(plan, args.iterations):.2f} us")
        for label, signal in (("realtime, 1 s @ 16 kHz", y), ("short, 800 samples", y[:800])):
            c_times, plan_times, differences = measure(plan, signal, args.iterations, args.warmup)
            print(f"{label}:")
            print(f"  C call via ctypes    median {statistics.median(c_times):9.2f} us   "
                  f"p99 {percentile(c_times, 0.99):9.2f} us")
            print(f"  MelSpectrogram(y)    median {statistics.median(plan_times):9.2f} us   "
                  f"p99 {percentile(plan_times, 0.99):9.2f} us")
            print(f"  overhead per call    median {statistics.median(differences):9.2f} us "
                  "(paired differences)")


if __name__ == "__main__":
    main()
