"""librosa.util's names that librosa code reaches for: ``exceptions.ParameterError``."""
from . import exceptions
from .exceptions import ParameterError

__all__ = ["exceptions", "ParameterError"]
