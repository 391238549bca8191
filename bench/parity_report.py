#!/usr/bin/env python3
"""Measures melspec's distance to librosa (float64) over the parameter space users reach and
prints the README's parity table. Not a test (the tests assert the thresholds); a report.

    MELSPEC_LIBRARY=build/libmelspec.so PYTHONPATH=python python3 bench/parity_report.py
"""
import itertools
import warnings

import librosa
import numpy as np

import melspec


def signal(n, sr, rng):
    t = np.arange(n) / sr
    y = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * (60 * t + 0.1 * sr * t * t))
    y += 0.05 * rng.standard_normal(n)
    y[:: max(1, n // 9)] += 0.7
    return y.astype(np.float32).astype(np.float64)


def normalized(ours, ref):
    return float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))


def main():
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    worst = {"mel": 0.0, "linear |STFT|^p": 0.0, "complex STFT": 0.0, "filterbank": 0.0,
             "power_to_db (dB)": 0.0, "amplitude_to_db (dB)": 0.0}
    count = 0
    grid = itertools.product([8000, 16000, 22050, 44100, 48000], [400, 800, 1102, 1103, 2048, 2205],
                             [True, False], ["constant", "reflect", "edge"], [False, True])
    for sr, n_fft, center, pad, htk in grid:
        hop = int(rng.integers(64, n_fft // 2))
        win = None if rng.random() < 0.5 else int(rng.integers(n_fft // 2, n_fft + 1))
        power = float(rng.choice([1.0, 1.5, 2.0]))
        norm = "slaney" if rng.random() < 0.7 else None
        fmin = float(rng.choice([0.0, rng.uniform(0, sr / 8)]))
        fmax = float(rng.uniform(sr / 4, sr / 2))
        n_mels = int(rng.integers(20, 96))
        bank = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk,
                                   norm=norm, dtype=np.float64)
        if not np.all((bank.max(axis=1) > 0)[1:]):
            continue
        y = signal(int(sr * 0.5), sr, rng)
        common = dict(n_fft=n_fft, hop_length=hop, win_length=win, center=center, pad_mode=pad)
        mel_args = dict(sr=sr, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
        D = librosa.stft(y, **common)
        S = np.abs(D) ** power
        M = librosa.feature.melspectrogram(S=S, n_fft=n_fft, **mel_args)  # n_fft: S alone implies an even one
        worst["mel"] = max(worst["mel"], normalized(
            melspec.melspectrogram(y, power=power, device="cpu", **common, **mel_args), M))
        with melspec.Spectrogram(power=power, device="cpu", **common) as plan:
            worst["linear |STFT|^p"] = max(worst["linear |STFT|^p"], normalized(plan(y), S))
        ours_d = melspec.stft(y, device="cpu", **common)
        worst["complex STFT"] = max(worst["complex STFT"], normalized(ours_d, D))
        worst["filterbank"] = max(worst["filterbank"], normalized(
            melspec.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk,
                                norm=norm), bank))
        for name, scaling, ref_db, ours_args in [
                ("power_to_db (dB)", "power_to_db", librosa.power_to_db(np.abs(D) ** 2, ref=np.max),
                 dict(power=2.0)),
                ("amplitude_to_db (dB)", "amplitude_to_db",
                 librosa.amplitude_to_db(np.abs(D), ref=np.max), dict(power=1.0))]:
            with melspec.Spectrogram(device="cpu", scaling=scaling, ref=np.max, **ours_args,
                                     **common) as plan:
                ours_db = plan(y)
            keep = ref_db >= ref_db.max() - 80
            worst[name] = max(worst[name], float(np.max(np.abs(ours_db - ref_db)[keep])))
        count += 1
    print(f"melspec {melspec.library_version} ({melspec.library_path}) vs librosa "
          f"{librosa.__version__} in float64, {count} configurations")
    print("| output | worst over all configurations | goal |")
    print("|---|---|---|")
    goals = {"mel": "2e-6", "linear |STFT|^p": "2e-6", "complex STFT": "2e-6", "filterbank": "1e-6",
             "power_to_db (dB)": "0.01 dB", "amplitude_to_db (dB)": "0.01 dB"}
    for name, value in worst.items():
        unit = " dB (max abs, top 80 dB)" if "dB" in name else " (normalized max error)"
        print(f"| {name} | {value:.2g}{unit} | {goals[name]} |")


if __name__ == "__main__":
    main()
