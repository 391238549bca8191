#!/usr/bin/env python3
"""Measures melspec.cqt's distance to librosa.cqt (and vqt's to librosa.vqt; default res_type
soxr_hq, float32 input) over a grid of configurations and four kinds of signal, and prints the
summary docs/cqt.md quotes.
Not a test (tests/golden/test_cqt.c and tests/python/test_cqt.py assert the thresholds); a report.

    MELSPEC_LIBRARY=build/libmelspec.so PYTHONPATH=python python3 bench/cqt_parity.py

A few minutes on one core. Distances are max |ours - librosa| / max |librosa| per clip.
"""
import itertools
import warnings

import librosa
import numpy as np

import melspec

TOLERANCE = 1e-5


def signal(kind, sr, seconds, rng):
    n = int(sr * seconds)
    t = np.arange(n) / sr
    if kind == "noise":
        y = 0.1 * rng.standard_normal(n)
    elif kind == "chirp":
        y = librosa.chirp(fmin=20, fmax=sr / 2.5, sr=sr, duration=seconds)[:n]
    elif kind == "music":
        y = sum(a * np.sin(2 * np.pi * f * t) for f, a in
                [(110, 0.5), (220, 0.3), (330, 0.2), (440, 0.25), (659.3, 0.15)])
        y = y * np.exp(-(t % 0.5) * 4)
    else:  # speech-like: glottal pulses with a gliding f0, a formant-ish ring, syllables
        f0 = 120 + 40 * np.sin(2 * np.pi * 1.5 * t)
        pulses = np.diff(np.floor(np.cumsum(f0) / sr), prepend=0.0)
        ring = np.exp(-np.arange(int(sr * 0.01)) * 700 / sr) * np.sin(
            2 * np.pi * 700 * np.arange(int(sr * 0.01)) / sr)
        y = np.convolve(pulses, ring, mode="same") * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2)
    return y.astype(np.float32)


def configurations():
    grid = itertools.product([8000, 22050, 44100], [512, 256, 100, 2048], [12, 24, 36],
                             [1, 0.5, 2])
    for sr, hop, bpo, filter_scale in grid:
        yield dict(sr=sr, hop_length=hop, bins_per_octave=bpo, filter_scale=filter_scale,
                   n_bins=bpo * 5)
    for extra in [dict(norm=2), dict(norm=np.inf), dict(norm=None), dict(sparsity=0.0),
                  dict(scale=False), dict(pad_mode="reflect"), dict(pad_mode="edge"),
                  dict(tuning=0.3), dict(fmin=55.0, n_bins=72), dict(hop_length=3),
                  dict(hop_length=99), dict(n_bins=1), dict(n_bins=7), dict(n_bins=50),
                  dict(window="hamming"), dict(window="boxcar")]:
        yield dict(sr=22050, **extra)
    for gamma in (None, 10.0):
        yield dict(sr=22050, gamma=gamma, n_bins=72)
    yield dict(sr=16000, hop_length=160, n_bins=60)
    yield dict(sr=44100, hop_length=4096, n_bins=36, scale=False)


def main():
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    distances, above, refused = [], [], 0
    for config in configurations():
        sr = config["sr"]
        for kind in ("noise", "chirp", "music", "speech"):
            # librosa's STFT of the lowest octave at hop 3 is 16385 bins x 15000 frames
            y = signal(kind, sr, 0.5 if config.get("hop_length") == 3 else 2.0, rng)
            transform = librosa.vqt if "gamma" in config else librosa.cqt
            ours_transform = melspec.vqt if "gamma" in config else melspec.cqt
            try:
                reference = transform(y, **config)
            except librosa.util.exceptions.ParameterError:
                refused += 1  # e.g. the top bin above Nyquist: melspec refuses it too
                try:
                    ours_transform(y, device="cpu", **config)
                    print(f"librosa refuses {config} but melspec does not")
                except melspec.InvalidArgumentError:
                    pass
                break
            ours = ours_transform(y, device="cpu", **config)
            assert ours.shape == reference.shape, (config, ours.shape, reference.shape)
            d = float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))
            distances.append(d)
            if d > TOLERANCE:
                above.append((d, kind, config))
    distances = np.array(distances)
    print(f"librosa {librosa.__version__}, melspec {melspec.library_version}")
    print(f"{len(distances)} clips (configurations x 4 signals), {refused} configurations "
          "refused by both librosa and melspec")
    print(f"median {np.median(distances):.2e}, 99th percentile "
          f"{np.percentile(distances, 99):.2e}, worst {distances.max():.2e}")
    below = distances[distances <= TOLERANCE]
    print(f"{len(below)} clips within {TOLERANCE:g} (worst of them {below.max():.2e}); "
          f"{len(above)} above:")
    for d, kind, config in sorted(above, key=lambda item: -item[0]):
        print(f"  {d:.2e} {kind:6s} {config}")


if __name__ == "__main__":
    main()
