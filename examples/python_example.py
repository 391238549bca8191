#!/usr/bin/env python3
"""A mel spectrogram of a generated signal with the melspec Python package.

    cmake -S . -B build && cmake --build build          # builds libmelspec
    PYTHONPATH=python python3 examples/python_example.py  # finds build/libmelspec.so itself
"""
import numpy as np

import melspec

# One second of a 16 kHz "voice-like" test signal: a 220 Hz tone with two harmonics, a rising
# chirp and a little noise (any float32 or float64 array of shape (..., n_samples) works).
sr = 16000
t = np.arange(sr) / sr
y = (0.5 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 440 * t)
     + 0.1 * np.sin(2 * np.pi * 660 * t) + 0.2 * np.sin(2 * np.pi * (100 + 1500 * t) * t)
     + 0.01 * np.random.default_rng(0).standard_normal(sr)).astype(np.float32)

# 1. The librosa-compatible function: same name, arguments and output as
#    librosa.feature.melspectrogram(y=y, sr=sr, n_fft=400, hop_length=160, n_mels=80).
S = melspec.melspectrogram(y, sr=sr, n_fft=400, hop_length=160, n_mels=80)
S_db = melspec.power_to_db(S, ref=np.max)  # librosa.power_to_db, bit for bit
print(f"melspectrogram: shape {S.shape} {S.dtype}, dB range {S_db.min():.1f} .. {S_db.max():.1f}")

# 2. The fast path: plan once, call many times (the real-time configuration: 50 ms windows,
#    12.5 ms hops, 80 mels between 55 and 7600 Hz, magnitudes, scaled to dB inside the library).
with melspec.MelSpectrogram(sr=sr, n_fft=800, hop_length=200, n_mels=80, fmin=55, fmax=7600,
                            power=1.0, scaling="amplitude_to_db", ref=np.max) as plan:
    print(f"plan on the {plan.backend} backend, hop {plan.params['hop_length']} samples")
    # Four 250 ms clips, each transformed on its own (a continuous stream needs the streaming
    # API instead: frames near the cuts differ from those of the whole signal).
    for chunk in np.split(y, 4):
        frames = plan(chunk)
        print(f"  chunk -> {frames.shape}, loudest band {int(frames.mean(axis=1).argmax())}, "
              f"mean {frames.mean():.1f} dB")

# 3. Errors say what is wrong: here, a NaN sample.
y[123] = np.nan
try:
    melspec.melspectrogram(y, sr=sr)
except melspec.MelspecError as error:
    print(f"error: {error.detail} ({error.status_name})")
