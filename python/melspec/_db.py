"""librosa.power_to_db and librosa.amplitude_to_db, in numpy, step for step as librosa computes
them (so the results are librosa's bit for bit, in the input's precision: float32 stays float32
as in librosa, float64 stays float64).

Arguments librosa's arithmetic fails on (a non-numeric S, ref, amin or top_db, an empty S with a
top_db, a ref that does not broadcast against S, an amin that does not fit an integer S's dtype)
raise InvalidArgumentError (a ParameterError) naming the argument instead of numpy's errors; the
values are checked, never converted, so every input librosa computes is computed as it does."""
import warnings

import numpy as np

from ._errors import InvalidArgumentError

_NUMERIC_KINDS = "biufc"  # bool, signed, unsigned, float, complex


def _array(name, S):
    """np.asarray(S), refused unless its dtype is a number (or bool)."""
    try:
        S = np.asarray(S)
    except (TypeError, ValueError) as error:
        raise InvalidArgumentError(f"{name} must be a numeric array: {error}") from None
    if S.dtype.kind not in _NUMERIC_KINDS:
        raise InvalidArgumentError(f"{name} must be a numeric array, got dtype {S.dtype}")
    return S


def _check_number(name, value, *, real=True, scalar=True):
    """Refuses a value that is not a number (real: and not complex; scalar: a Python or numpy
    scalar, or a numpy array of one value, as librosa's comparisons take; otherwise any numeric
    array-like). Python ints of any size a float holds pass; the value itself is not changed."""
    if isinstance(value, (int, float)) or (not real and isinstance(value, complex)):
        if isinstance(value, int):
            try:
                float(value)
            except OverflowError:
                raise InvalidArgumentError(f"{name} = {value} is too large for a float") from None
        return
    if scalar and not isinstance(value, (np.generic, np.ndarray)):
        kind, size = "O", 0
    else:
        try:
            kind, size = np.asarray(value).dtype.kind, np.size(value)
        except (TypeError, ValueError):
            kind, size = "O", 0
    kinds = "biuf" if real else _NUMERIC_KINDS
    if kind not in kinds or (scalar and size != 1):
        what = "a real number" if real else "a number"
        raise InvalidArgumentError(f"{name} = {value!r} must be {what}"
                                   + ("" if scalar else " (or an array of numbers)"))


def _ref_value(ref, magnitude):
    """librosa's reference: ref(magnitude) for a callable, np.abs(ref) for a number."""
    if callable(ref):
        try:
            ref_value = ref(magnitude)
        except (TypeError, ValueError) as error:
            raise InvalidArgumentError(f"ref = {ref!r} failed on S of shape {magnitude.shape} "
                                       f"and dtype {magnitude.dtype}: {error}") from error
        _check_number(f"ref(S) (ref = {ref!r})", ref_value, real=False, scalar=False)
        return ref_value
    _check_number("ref", ref, real=False, scalar=False)
    return np.abs(ref)


def power_to_db(S, *, ref=1.0, amin=1e-10, top_db=80.0):
    """10 * log10(S / ref), floored at amin and clamped to top_db below the array's peak."""
    _check_number("amin", amin)
    if amin <= 0:
        raise InvalidArgumentError("amin must be strictly positive")
    S = _array("S", S)
    if top_db is not None:
        _check_number("top_db", top_db)
        if top_db < 0:  # librosa checks it after the arithmetic: the same inputs fail
            raise InvalidArgumentError("top_db must be non-negative")
    if np.issubdtype(S.dtype, np.complexfloating):
        warnings.warn("power_to_db was called on complex input so phase information will be "
                      "discarded. To suppress this warning, call power_to_db(np.abs(D)**2) "
                      "instead.", stacklevel=2)
        magnitude = np.abs(S)
    else:
        magnitude = S
    ref_value = _ref_value(ref, magnitude)
    try:
        log_spec = 10.0 * np.log10(np.maximum(amin, magnitude))
    except OverflowError as error:
        raise InvalidArgumentError(f"amin = {amin!r} does not fit S's dtype {S.dtype}: "
                                   f"{error}") from None
    try:
        log_spec -= 10.0 * np.log10(np.maximum(amin, ref_value))
    except OverflowError as error:
        raise InvalidArgumentError(f"amin = {amin!r} and ref = {ref!r} do not fit one dtype: "
                                   f"{error}") from None
    except (TypeError, ValueError) as error:
        raise InvalidArgumentError(f"ref = {ref!r} does not apply to S of shape {S.shape}: "
                                   f"{error}") from None
    if top_db is not None:
        if np.size(log_spec) == 0:
            raise InvalidArgumentError(
                ("S is empty" if S.size == 0 else f"ref = {ref!r} makes the result empty")
                + ": top_db clamps to the result's maximum, which an empty one does not have "
                "(top_db=None does without)")
        log_spec = np.maximum(log_spec, log_spec.max() - top_db)
    return log_spec


def amplitude_to_db(S, *, ref=1.0, amin=1e-5, top_db=80.0):
    """power_to_db(S**2, ref=ref**2, amin=amin**2, top_db=top_db), as librosa."""
    S = _array("S", S)
    _check_number("amin", amin)
    if np.issubdtype(S.dtype, np.complexfloating):
        warnings.warn("amplitude_to_db was called on complex input so phase information will "
                      "be discarded. To suppress this warning, call amplitude_to_db(np.abs(S)) "
                      "instead.", stacklevel=2)
    magnitude = np.abs(S)
    ref_value = _ref_value(ref, magnitude)
    try:
        power = np.square(magnitude, out=magnitude if isinstance(magnitude, np.ndarray) else None)
    except TypeError as error:  # a bool array: np.square has no loop for it
        raise InvalidArgumentError(f"S of dtype {S.dtype} cannot be squared: {error}") from None
    try:  # after the square, as librosa (a ref returning magnitude itself sees it squared)
        ref_power = ref_value ** 2
    except (TypeError, OverflowError) as error:  # a callable's list, or a Python float's square
        raise InvalidArgumentError(f"ref = {ref!r}: its value {ref_value!r} cannot be squared: "
                                   f"{error}") from None
    try:
        amin_power = amin ** 2
    except OverflowError as error:  # a Python float beyond 1.3e154
        raise InvalidArgumentError(f"amin = {amin!r} cannot be squared: {error}") from None
    return power_to_db(power, ref=ref_power, amin=amin_power, top_db=top_db)
