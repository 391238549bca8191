"""librosa.util.exceptions: ``ParameterError`` (a ValueError; every melspec refusal of an
argument is one)."""
from .._errors import ParameterError

__all__ = ["ParameterError"]
