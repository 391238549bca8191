"""librosa.filters equivalents, computed by the library (the filterbank the plans use)."""
import warnings

import numpy as np

from ._errors import InvalidArgumentError
from ._plan import EMPTY_FILTERS_WARNING, MelSpectrogram

__all__ = ["mel"]


def mel(*, sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False, norm="slaney",
        dtype=np.float32):
    """librosa.filters.mel: (n_mels, 1 + n_fft // 2) in dtype (float32 or float64; designed in
    double either way). norm: "slaney", None, or a number (librosa.util.normalize of each row:
    1, 2, np.inf, any p > 0, 0, -np.inf). Empty bands (more mels than the FFT bins separate) are
    zero rows, with librosa's UserWarning."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise InvalidArgumentError(f"dtype = {dtype!r} is not a dtype") from None
    if dtype not in (np.float32, np.float64):
        raise InvalidArgumentError(f"dtype = {dtype}: melspec designs float32 or float64 "
                                   "filterbanks")
    # hop_length plays no part in the matrix but must be valid for the plan even when n_fft < 4.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # warned below, from the caller's line
        plan = MelSpectrogram(sr=sr, n_fft=n_fft, hop_length=1, n_mels=n_mels, fmin=fmin,
                              fmax=fmax, htk=htk, norm=norm, device="cpu")
    with plan:
        if len(plan.empty_bands()):
            warnings.warn(EMPTY_FILTERS_WARNING, UserWarning, stacklevel=2)
        return plan.filterbank(dtype)
