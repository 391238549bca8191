"""Many clips on every core: one plan per worker thread (the library's one-plan-per-thread rule).

The library never starts threads of its own (execute runs on the caller's thread, as cuFFT and
KissFFT do, and unlike FFTW's threaded plans): parallelism is the caller's, with one plan per
thread. ctypes releases the GIL around every foreign call, so the threads here compute (and
decode) at the same time; only the Python glue between calls holds the GIL.

    S = melspec.melspectrogram_batch(paths_or_arrays, jobs=4, sr=16000, n_mels=80)
    C = melspec.batch(paths, lambda: melspec.CQT(sr=22050), jobs=4)
"""
import functools
import numbers
import os
import threading

from ._errors import InvalidArgumentError, MelspecError
from ._plan import MelSpectrogram, _Plan


class BatchError(MelspecError):
    """Items of a batch failed (the others were computed).

    Attributes: ``errors`` ({index: exception}, by input position), ``results`` (the list of
    results with None where an item failed); ``status`` and ``detail`` are the first failure's.
    """

    def __init__(self, errors, results, items=None):
        first = min(errors)
        cause = errors[first]
        name = f" ({items[first]!r})" if items is not None and _is_file(items[first]) else ""
        detail = (f"{len(errors)} of {len(results)} item(s) failed; the first, item "
                  f"{first}{name}: {cause}")
        super().__init__(detail, getattr(cause, "status", -1))
        self.errors = errors
        self.results = results

    def __reduce__(self):
        return type(self), (self.errors, self.results)


def _is_file(item):
    return isinstance(item, (str, bytes, os.PathLike)) or hasattr(item, "read")


def _size(item):
    """Work an item stands for, to start the longest first: its samples, or a file's bytes."""
    if isinstance(item, (str, bytes, os.PathLike)):
        try:
            return os.path.getsize(item)
        except OSError:
            return 0  # it fails when loaded, and is reported then
    size = getattr(item, "size", 0)
    if callable(size):  # a torch.Tensor: size() is its shape, numel() its count
        numel = getattr(item, "numel", None)
        return numel() if callable(numel) else 0
    return size if isinstance(size, numbers.Integral) else 0


def _default_jobs():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def batch(items, plan_factory, *, jobs=None, sr=None, mono=True, errors="raise"):
    """``[plan(item) for item in items]`` on ``jobs`` threads, each with its own plan.

    items: a sequence of audio arrays (what the plan takes) and/or audio files (paths or binary
    file-like objects), decoded with melspec.load at ``sr`` (default: the plan's sample rate) and
    ``mono``. plan_factory: a callable with no arguments that makes a plan (``functools.partial(
    melspec.MelSpectrogram, sr=16000)``, ``lambda: melspec.presets.plan("realtime")``); it is
    called once per worker thread, as plans are single-thread objects. jobs: threads (default:
    the cores this process may use; 1 runs in the calling thread, with no thread at all).

    Returns the results in input order. The longest items start first, so that no thread is left
    with a long one at the end. A failing item does not stop the others: with errors="raise" (the
    default) a BatchError is raised at the end, carrying every item's exception (``.errors``)
    and the results of the rest (``.results``); with errors="return" the exception takes the
    item's place in the returned list. A config the library refuses raises at once, before any
    item is computed.
    """
    if isinstance(plan_factory, _Plan):
        raise InvalidArgumentError(
            "batch() takes a plan factory (e.g. functools.partial(melspec.MelSpectrogram, ...)), "
            "not a plan: each worker thread needs a plan of its own")
    if not callable(plan_factory):
        raise InvalidArgumentError(f"plan_factory = {plan_factory!r}: a callable making a plan")
    if errors not in ("raise", "return"):
        raise InvalidArgumentError(f"errors = {errors!r}: 'raise' or 'return'")
    if jobs is None:
        jobs = _default_jobs()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidArgumentError(f"jobs = {jobs!r}: a number of threads, 1 or more")
    items = list(items)
    results = [None] * len(items)
    if not items:
        return results
    failures = {}
    order = sorted(range(len(items)), key=lambda i: _size(items[i]), reverse=True)
    claim_lock = threading.Lock()
    position = [0]
    stop = threading.Event()

    first_plan = plan_factory()  # a bad config raises here, before any thread or item
    rate = sr if sr is not None else getattr(getattr(first_plan, "_config", None),
                                             "sample_rate", None)

    def next_index():
        with claim_lock:
            if stop.is_set() or position[0] == len(order):
                return None
            index = order[position[0]]
            position[0] += 1
            return index

    def work(plan):
        from ._audio import load  # libmelspec_audio loads on first use only
        try:
            while True:
                index = next_index()
                if index is None:
                    return
                item = items[index]
                try:
                    if _is_file(item):
                        item = load(item, sr=rate, mono=mono)[0]
                    results[index] = plan(item)
                except Exception as error:  # reported per item; the others go on
                    failures[index] = error
        except BaseException:  # KeyboardInterrupt in the calling thread: the others stop too
            stop.set()
            raise
        finally:
            if hasattr(plan, "close"):
                plan.close()

    plan_failures = []

    def thread_main():
        try:
            plan = plan_factory()
        except Exception as error:  # out of memory, say: the workers with a plan do its share
            plan_failures.append(error)
            return
        work(plan)

    n_threads = min(jobs, len(items)) - 1
    threads = [threading.Thread(target=thread_main, name=f"melspec-batch-{i + 1}", daemon=True)
               for i in range(n_threads)]
    for thread in threads:
        thread.start()
    try:
        work(first_plan)  # the calling thread is a worker too
    finally:
        for thread in threads:
            thread.join()
    if plan_failures:  # the same factory made the first plan: raise what went wrong
        raise plan_failures[0]
    if failures:
        if errors == "return":
            for index, error in failures.items():
                results[index] = error
        else:
            raise BatchError(dict(sorted(failures.items())), results, items)
    return results


def melspectrogram_batch(items, *, jobs=None, errors="raise", mono=True, **kwargs):
    """melspec.melspectrogram (librosa.feature.melspectrogram) of many clips on ``jobs`` threads,
    one MelSpectrogram plan per thread; kwargs are MelSpectrogram's (sr, n_fft, hop_length,
    n_mels, ..., scaling, device). Items are arrays at ``sr`` or audio files (loaded at ``sr``).
    Returns a list in input order; see melspec.batch for jobs and errors."""
    return batch(items, functools.partial(MelSpectrogram, **kwargs), jobs=jobs,
                 sr=kwargs.get("sr", 22050), mono=mono, errors=errors)


__all__ = ["BatchError", "batch", "melspectrogram_batch"]
