"""librosa.power_to_db and librosa.amplitude_to_db, in numpy, step for step as librosa computes
them (so the results are librosa's bit for bit, in the input's precision: float32 stays float32
as in librosa, float64 stays float64)."""
import warnings

import numpy as np

from ._errors import InvalidArgumentError


def power_to_db(S, *, ref=1.0, amin=1e-10, top_db=80.0):
    """10 * log10(S / ref), floored at amin and clamped to top_db below the array's peak."""
    S = np.asarray(S)
    if amin <= 0:
        raise InvalidArgumentError("amin must be strictly positive")
    if np.issubdtype(S.dtype, np.complexfloating):
        warnings.warn("power_to_db was called on complex input so phase information will be "
                      "discarded. To suppress this warning, call power_to_db(np.abs(D)**2) "
                      "instead.", stacklevel=2)
        magnitude = np.abs(S)
    else:
        magnitude = S
    ref_value = ref(magnitude) if callable(ref) else np.abs(ref)
    log_spec = 10.0 * np.log10(np.maximum(amin, magnitude))
    log_spec -= 10.0 * np.log10(np.maximum(amin, ref_value))
    if top_db is not None:
        if top_db < 0:
            raise InvalidArgumentError("top_db must be non-negative")
        log_spec = np.maximum(log_spec, log_spec.max() - top_db)
    return log_spec


def amplitude_to_db(S, *, ref=1.0, amin=1e-5, top_db=80.0):
    """power_to_db(S**2, ref=ref**2, amin=amin**2, top_db=top_db), as librosa."""
    S = np.asarray(S)
    if np.issubdtype(S.dtype, np.complexfloating):
        warnings.warn("amplitude_to_db was called on complex input so phase information will "
                      "be discarded. To suppress this warning, call amplitude_to_db(np.abs(S)) "
                      "instead.", stacklevel=2)
    magnitude = np.abs(S)
    ref_value = ref(magnitude) if callable(ref) else np.abs(ref)
    power = np.square(magnitude, out=magnitude if isinstance(magnitude, np.ndarray) else None)
    return power_to_db(power, ref=ref_value ** 2, amin=amin ** 2, top_db=top_db)
