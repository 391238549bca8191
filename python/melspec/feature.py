"""librosa.feature equivalents, so that ``melspec.feature.melspectrogram(y=y, ...)`` reads as
``librosa.feature.melspectrogram(y=y, ...)``."""
from ._functions import melspectrogram

__all__ = ["melspectrogram"]
