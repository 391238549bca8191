"""The configurations users know, by name: the same set as the melspec command's --preset
(tools/common/presets.c) and the benchmark's cases (docs/benchmark.md).

    plan = melspec.presets.plan("realtime")          # a MelSpectrogram plan
    S = plan(y)
    kwargs = melspec.presets.PRESETS["whisper-80"].kwargs   # for melspec.melspectrogram(y, **kwargs)

Whisper's own log scaling (log10, clamp at max - 8, (x + 4) / 4, last frame dropped) is
melspec.whisper.log_mel_spectrogram; the whisper presets here are its power mel spectrogram.
"""
from collections import namedtuple

import numpy as np

from ._cqt import CQT
from ._plan import MelSpectrogram

Preset = namedtuple("Preset", "name transform kwargs description")

_WHISPER = dict(sr=16000, n_fft=400, hop_length=160, pad_mode="reflect", power=2.0)

PRESETS = {preset.name: preset for preset in (
    Preset("librosa", "mel", dict(sr=22050, n_fft=2048, hop_length=512, n_mels=128, power=2.0),
           "librosa.feature.melspectrogram's defaults"),
    Preset("realtime", "mel", dict(sr=16000, n_fft=800, hop_length=200, n_mels=80, fmin=55.0,
                                   fmax=7600.0, power=1.0, norm="slaney"),
           "real-time TTS / avatar front end: 50 ms window, 12.5 ms hop, 80 mels 55-7600 Hz, "
           "magnitude"),
    Preset("whisper-80", "mel", dict(_WHISPER, n_mels=80),
           "openai-whisper's power mel (n_fft 400, hop 160, reflect), 80 mels"),
    Preset("whisper-128", "mel", dict(_WHISPER, n_mels=128),
           "openai-whisper large-v3's power mel, 128 mels"),
    Preset("ccmusic-cqt", "cqt", dict(sr=22050, hop_length=512, n_bins=84, bins_per_octave=12,
                                      output="magnitude", scaling="amplitude_to_db", ref=np.max),
           "CQT images for music tagging: 84 bins from C1, amplitude dB against each clip's max"),
)}


def get(name):
    """The Preset called name (KeyError listing the names otherwise)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"no preset {name!r}: one of {sorted(PRESETS)}") from None


def plan(name, **overrides):
    """A plan for the preset, keyword arguments overriding its values (e.g. device="cpu")."""
    preset = get(name)
    kwargs = dict(preset.kwargs, **overrides)
    return (CQT if preset.transform == "cqt" else MelSpectrogram)(**kwargs)


__all__ = ["PRESETS", "Preset", "get", "plan"]
