"""librosa.filters equivalents, computed by the library (the filterbank the plans use)."""
from ._plan import MelSpectrogram

__all__ = ["mel"]


def mel(*, sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False, norm="slaney"):
    """librosa.filters.mel: float32 (n_mels, 1 + n_fft // 2).

    Unlike librosa, which warns, a filterbank with an empty band (more mels than FFT bins can
    separate) raises: the library refuses to build it."""
    # hop_length plays no part in the matrix but must be valid for the plan even when n_fft < 4.
    with MelSpectrogram(sr=sr, n_fft=n_fft, hop_length=1, n_mels=n_mels, fmin=fmin, fmax=fmax,
                        htk=htk, norm=norm, device="cpu") as plan:
        return plan.filterbank()
