#!/usr/bin/env python3
"""Per-call overhead of the Python binding: MelSpectrogram.__call__ against the bare C call.

    PYTHONPATH=python MELSPEC_LIBRARY=build/libmelspec.so python3 bench/python_overhead.py

The realtime case of the design (1 s at 16 kHz, n_fft 800, hop 200, 80 mels, 55-7600 Hz,
power 1). The baseline is melspec_execute called through ctypes with preallocated buffers and
precomputed pointers (what any binding must pay); the plan call adds input checks, the output
allocation and the error check. Both are timed interleaved, call by call, so that drift affects
both alike; the overhead is the median of the paired differences. A short input (one frame)
repeats the measurement where the computation is small and the timing noise with it.

With torch installed, the same pairing for a torch CPU tensor given to the plan (read in place,
the result from torch.empty) and for melspec.torch.MelSpectrogram (through the custom operator,
torch's dispatcher included). Last, melspec.whisper.WhisperFeatureExtractor against Whisper's
formula written in numpy (transformers' numpy path), same run, same input.
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


CLOCKS = {"wall": time.perf_counter_ns,
          # CPU time of this thread only: what the calls cost, without the time the thread waits
          # for a core (a shared, loaded machine); the library runs in this thread
          "thread": time.thread_time_ns}
clock = CLOCKS["wall"]


def measure(plan, y, iterations, warmup, call=None):
    """Paired timings of the bare C call and call(y) (default plan(y)) on the same signal."""
    lib = _library.lib
    execute = lib.execute
    out = np.empty(plan.output_shape(y.shape), np.float32)
    handle, y_pointer, out_pointer, nbytes = plan._handle, y.ctypes.data, out.ctypes.data, out.nbytes
    n_signals, n_samples = 1, y.shape[-1]
    call = call or (lambda: plan(y))

    def c_call():
        start = clock()
        status = execute(handle, y_pointer, n_signals, n_samples, out_pointer, nbytes)
        elapsed = clock() - start
        assert status == 0
        return elapsed

    def plan_call():
        start = clock()
        call()
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


def report(label, c_times, times, differences):
    print(f"  {label:<32} median {statistics.median(times):9.2f} us   "
          f"p99 {percentile(times, 0.99):9.2f} us   overhead over the C call: median "
          f"{statistics.median(differences):7.2f} us (paired differences)")


def torch_calls(plan, signal):
    """The torch entry points on a CPU tensor of the same samples (None without torch)."""
    try:
        import torch
        import melspec.torch as melspec_torch
    except ImportError:
        return []
    tensor = torch.from_numpy(signal)
    module = melspec_torch.MelSpectrogram.from_preset("realtime")
    return [("MelSpectrogram(torch CPU tensor)", lambda: plan(tensor)),
            ("melspec.torch module (custom op)", lambda: module(tensor))]


def whisper_numpy_formula(filters):
    """transformers' WhisperFeatureExtractor numpy path, written out: reflect-padded
    periodic-Hann STFT (400/160) in float64, |X|^2, Slaney mel, log10 floor 1e-10, the last
    frame dropped, clamp to max - 8 per example, (x + 4) / 4."""
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)

    def extract(batch):
        padded = np.pad(batch.astype(np.float64), ((0, 0), (200, 200)), mode="reflect")
        frames = np.lib.stride_tricks.sliding_window_view(padded, 400, axis=-1)[:, ::160]
        power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
        mel = np.einsum("mf,btf->bmt", filters, power)
        log_spec = np.log10(np.maximum(mel[..., :-1], 1e-10))
        log_spec = np.maximum(log_spec, log_spec.max(axis=(1, 2), keepdims=True) - 8.0)
        return ((log_spec + 4.0) / 4.0).astype(np.float32)
    return extract


def whisper_comparison(device, repeats):
    """melspec.whisper.WhisperFeatureExtractor against the numpy formula, same run and input:
    a batch of 4 clips of 10 s, each padded to 30 s."""
    try:
        import librosa
    except ImportError:
        print("whisper: librosa not installed (the numpy formula's filterbank), skipped")
        return
    rng = np.random.default_rng(1)
    clips = [(0.1 * rng.standard_normal(160000)).astype(np.float32) for _ in range(4)]
    extractor = melspec.whisper.WhisperFeatureExtractor(device=device)
    formula = whisper_numpy_formula(librosa.filters.mel(sr=16000, n_fft=400, n_mels=80))
    padded = np.zeros((4, 480000), np.float32)
    for row, clip in enumerate(clips):
        padded[row, :clip.size] = clip
    ours = extractor(clips)["input_features"]
    theirs = formula(padded)
    print(f"whisper features, 4 clips x 10 s padded to 30 s (max |difference| "
          f"{np.max(np.abs(ours - theirs)):.2e}):")
    for label, call in (("melspec WhisperFeatureExtractor", lambda: extractor(clips)),
                        ("numpy formula (float64 STFT)", lambda: formula(padded))):
        times = []
        for _ in range(repeats):
            start = clock()
            call()
            times.append((clock() - start) / 1e6)
        print(f"  {label:<32} median {statistics.median(times):9.2f} ms   "
              f"min {min(times):9.2f} ms   ({repeats} calls)")


def ctypes_floor(plan, iterations):
    """A trivial C function through ctypes: the cost of crossing into C at all."""
    backend = _library.lib.plan_backend
    handle = plan._handle
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
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall (perf_counter) or thread (this thread's CPU time: for a "
                        "loaded machine)")
    parser.add_argument("--whisper-repeats", type=int, default=10,
                        help="calls of the Whisper comparison (0: skip it)")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]

    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    y = (0.4 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    print(f"melspec {melspec.library_version} ({melspec.library_path}), Python "
          f"{sys.version.split()[0]}, numpy {np.__version__}")
    with melspec.MelSpectrogram(**REALTIME, device=args.device) as plan:
        print(f"backend {plan.backend}; {args.iterations} calls each after {args.warmup} warm-up;"
              f" clock: {args.clock}")
        print(f"ctypes floor (a trivial C call): {ctypes_floor(plan, args.iterations):.2f} us")
        for label, signal in (("realtime, 1 s @ 16 kHz", y), ("short, 800 samples", y[:800])):
            c_times, plan_times, differences = measure(plan, signal, args.iterations, args.warmup)
            print(f"{label}:")
            print(f"  C call via ctypes                median {statistics.median(c_times):9.2f} us"
                  f"   p99 {percentile(c_times, 0.99):9.2f} us")
            report("MelSpectrogram(y)", c_times, plan_times, differences)
            for torch_label, call in torch_calls(plan, signal):
                report(torch_label, *measure(plan, signal, args.iterations, args.warmup, call))
    if args.whisper_repeats:
        whisper_comparison(args.device, args.whisper_repeats)

if __name__ == "__main__":
    main()
