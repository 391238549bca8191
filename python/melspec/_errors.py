"""Exceptions, and the status codes of include/melspec.h.

Every failure raises a MelspecError carrying the status (a Status member, so both the number and
the name) and the library's detail message. The subclasses let callers catch by kind; invalid
arguments are also ValueErrors, as librosa's ParameterError cases are for its users.
"""
import enum


class Status(enum.IntEnum):
    """melspec_status, values pinned by MELSPEC_STATUS_MAP in include/melspec.h."""

    OK = 0
    ERROR_INVALID_ARGUMENT = -1
    ERROR_NULL_POINTER = -2
    ERROR_OUT_OF_MEMORY = -3
    ERROR_SIZE_OVERFLOW = -4
    ERROR_BUFFER_TOO_SMALL = -5
    ERROR_INPUT_TOO_SHORT = -6
    ERROR_NON_FINITE_INPUT = -7
    ERROR_BACKEND_UNAVAILABLE = -8
    ERROR_DEVICE = -9
    ERROR_UNSUPPORTED = -10
    ERROR_STRUCT_SIZE = -11
    ERROR_EXCEEDS_PLAN = -12
    ERROR_INTERNAL = -13
    ERROR_PLAN_BUSY = -14


class MelspecError(Exception):
    """A melspec call failed.

    Attributes: ``status`` (a :class:`Status`, or a plain int for a status this package does not
    know), ``status_name`` (e.g. ``"MELSPEC_ERROR_INVALID_ARGUMENT"``) and ``detail`` (the
    library's message naming the offending field or sample).
    """

    def __init__(self, detail, status=Status.ERROR_INVALID_ARGUMENT):
        try:
            status = Status(status)
            name = "MELSPEC_" + status.name
        except ValueError:
            name = "MELSPEC_UNKNOWN_STATUS"
        self.status = status
        self.status_name = name
        self.detail = detail
        super().__init__(f"{detail} [{name}]" if detail else name)

    def __reduce__(self):  # pickles (multiprocessing) with the status and detail intact
        return type(self), (self.detail, int(self.status))


class ParameterError(ValueError):
    """librosa.util.exceptions.ParameterError's counterpart: raised where librosa raises it, and
    the base of every InvalidArgumentError, so ``except librosa.util.exceptions.ParameterError``
    code catches melspec's refusals once it names melspec.ParameterError."""


class InvalidArgumentError(MelspecError, ParameterError):
    """A parameter or an input the library refuses (bad config field, NaN sample, too short...)."""


class BackendUnavailableError(MelspecError, RuntimeError):
    """The requested backend (CUDA) is not compiled in or has no device."""


class DeviceError(MelspecError, RuntimeError):
    """A CUDA runtime, cuFFT or cuBLAS call failed."""


class OutOfMemoryError(MelspecError, MemoryError):
    """The library could not allocate host or device memory."""


class PlanBusyError(MelspecError, RuntimeError):
    """The plan is in use by another call (another thread): give each thread its own plan."""


class LibraryMismatchError(MelspecError, ImportError):
    """libmelspec does not match this package (config struct size or version)."""


_CLASS_BY_STATUS = {
    Status.ERROR_INVALID_ARGUMENT: InvalidArgumentError,
    Status.ERROR_NULL_POINTER: InvalidArgumentError,
    Status.ERROR_SIZE_OVERFLOW: InvalidArgumentError,
    Status.ERROR_BUFFER_TOO_SMALL: InvalidArgumentError,
    Status.ERROR_INPUT_TOO_SHORT: InvalidArgumentError,
    Status.ERROR_NON_FINITE_INPUT: InvalidArgumentError,
    Status.ERROR_UNSUPPORTED: InvalidArgumentError,
    Status.ERROR_EXCEEDS_PLAN: InvalidArgumentError,
    Status.ERROR_OUT_OF_MEMORY: OutOfMemoryError,
    Status.ERROR_BACKEND_UNAVAILABLE: BackendUnavailableError,
    Status.ERROR_DEVICE: DeviceError,
    Status.ERROR_STRUCT_SIZE: LibraryMismatchError,
    Status.ERROR_PLAN_BUSY: PlanBusyError,
}


def error_for_status(status, detail):
    """The exception to raise for a failed call's status and detail message."""
    return _CLASS_BY_STATUS.get(status, MelspecError)(detail, status)
