"""Streams: audio in chunks of any size, each frame out as soon as it is complete.

``plan.stream()`` returns a :class:`Stream`. The frames of every ``push`` and the final
``flush``, concatenated along the frame axis, equal ``plan(y)`` on the whole signal (bit for bit
on the CPU backend). A chunk of shape (..., m) feeds one C stream per leading index; all of them
advance in one library call (melspec_stream_push_many).
"""
import ctypes
import math
import weakref

import numpy as np

from . import _arrays
from . import _library as L
from ._errors import InvalidArgumentError, Status

_lib = L.lib
_p = ctypes.c_void_p
_i64 = ctypes.c_int64


def _destroy_all(handles):
    for handle in handles:
        _lib.stream_destroy(handle)
    handles.clear()


class Stream:
    """A streaming view of a plan. Use ``push(chunk)`` for each chunk and ``flush()`` at the end:

        stream = plan.stream()
        parts = [stream.push(chunk) for chunk in chunks] + [stream.flush()]
        S = np.concatenate(parts, axis=stream.frame_axis)    # == plan(np.concatenate(chunks))

    push and flush return (..., n_bins, k) arrays for a "bins_major" plan and (..., k, n_bins)
    for "frames_major" (k = the frames completed; often 0 or 1). A chunk is a float array of
    shape (..., m), any m >= 0; its leading shape is fixed by the first push after creation or
    reset. After flush, push raises until reset(). The plan's scaling must not need the whole
    clip: dB with ref=np.max or a finite top_db is refused when the stream is made.

    Closing the plan closes its streams; a stream is also closed at garbage collection.
    """

    def __init__(self, plan):
        if _lib.stream_create is None or _lib.stream_push_many is None:
            raise InvalidArgumentError(f"{_lib.path} has no streaming API (melspec_stream_create)"
                                       ": update libmelspec", Status.ERROR_UNSUPPORTED)
        config = plan._config
        if not hasattr(config, "transform"):  # a CqtConfig: the library has no CQT stream
            raise InvalidArgumentError("streaming is for mel, linear and STFT plans; a "
                                       "constant-Q plan does not stream", Status.ERROR_UNSUPPORTED)
        self._plan = plan
        self._frames_major = config.layout == L.LAYOUT_FRAMES_MAJOR
        self._n_bins = (config.n_mels if config.transform == L.TRANSFORM_MEL
                        else 1 + config.n_fft // 2)
        if getattr(config, "feature", 0) == L.FEATURE_MFCC:  # issue 15: MFCC rows
            self._n_bins = config.n_mfcc
        self._hop = config.hop_length
        self._dtype = plan._dtype  # float32, float16 (CUDA plans) or complex64
        self._handles = []
        self._finalizer = weakref.finalize(self, _destroy_all, self._handles)
        self._lead = ()
        self._fresh = True   # nothing pushed since creation or reset: the lead may change
        self._give_back = _arrays.HostChunk.numpy  # frames in the kind of the last chunk pushed
        self._create_handles(1)
        latency = _i64()
        self._check(_lib.stream_latency(self._handles[0], ctypes.byref(latency)))
        self._latency = latency.value

    # ---- lifecycle -----------------------------------------------------------------------------

    def _create_handles(self, count):
        plan_handle = self._plan._live_handle()
        _destroy_all(self._handles)
        for _ in range(count):
            handle = _p()
            status = _lib.stream_create(ctypes.byref(handle), plan_handle)
            if status != Status.OK:
                _destroy_all(self._handles)
                raise self._plan._error(status)
            self._handles.append(handle.value)
        self._array = (_p * count)(*self._handles)

    def close(self):
        """Frees the C streams now (also done at garbage collection and by plan.close())."""
        self._finalizer()

    @property
    def closed(self):
        return not self._handles

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _live(self):
        if not self._handles:
            raise InvalidArgumentError("this stream is closed", Status.ERROR_NULL_POINTER)
        self._plan._live_handle()  # raises when the plan was closed

    def _check(self, status):
        if status != Status.OK:
            raise self._plan._error(status)

    # ---- queries -------------------------------------------------------------------------------

    @property
    def latency(self):
        """Samples between a frame's time stamp (t * hop_length) and the push that emits it:
        n_fft - n_fft // 2 when centred, n_fft otherwise (see melspec_stream_latency)."""
        return self._latency

    @property
    def frame_axis(self):
        """The axis along which pushes concatenate: -1 (bins_major) or -2 (frames_major)."""
        return -2 if self._frames_major else -1

    # ---- streaming -----------------------------------------------------------------------------

    def _output(self, capacity):
        return np.empty((len(self._handles), capacity * self._n_bins), self._dtype)

    def _shaped(self, out, count):
        rows = out[:, :count * self._n_bins]
        dims = (count, self._n_bins) if self._frames_major else (self._n_bins, count)
        return rows.reshape(self._lead + dims)

    def push(self, chunk):
        """Appends chunk (..., m) and returns the frames it completed."""
        self._live()
        chunk = _arrays.HostChunk(chunk)  # numpy or torch (CPU, CUDA): frames come back alike
        self._give_back, chunk = chunk.give_back, chunk.samples
        lead, n_samples = chunk.shape[:-1], chunk.shape[-1]
        if math.prod(lead) == 0:
            raise InvalidArgumentError(f"chunk of shape {chunk.shape} holds no signal")
        if lead != self._lead:
            if not self._fresh:
                raise InvalidArgumentError(
                    f"chunk of shape {chunk.shape}: this stream carries signals of leading shape "
                    f"{self._lead} (fixed by the first push; reset() to change it)")
            self._create_handles(math.prod(lead))
            self._lead = lead
        self._fresh = False
        count = len(self._handles)
        capacity = n_samples // self._hop + 2
        while True:
            out = self._output(capacity)
            if count == 1:
                got = _i64()
                status = _lib.stream_push(self._handles[0], chunk.ctypes.data, n_samples,
                                          out.ctypes.data, out[0].nbytes, ctypes.byref(got))
                frames = got.value
            else:
                frames_array = (_i64 * count)()
                status = self._push_all(chunk, n_samples, out, frames_array)
                frames = max(frames_array)
            if status != Status.ERROR_BUFFER_TOO_SMALL:
                break
            capacity = frames  # nothing was consumed: retry with room for what is ready
        self._check(status)
        return self._give_back(self._shaped(out, frames))

    def _push_all(self, chunk, n_samples, out, counts):
        count = len(self._handles)
        base, step = chunk.ctypes.data, n_samples * 4
        chunks = (_p * count)(*[base + i * step for i in range(count)])
        lengths = (_i64 * count)(*([n_samples] * count))
        capacities = (ctypes.c_size_t * count)(*([out[0].nbytes] * count))
        base, step = out.ctypes.data, out.strides[0]
        outs = (_p * count)(*[base + i * step for i in range(count)])
        return _lib.stream_push_many(self._array, count, chunks, lengths, outs, capacities, counts)

    def flush(self):
        """Ends the input and returns the last frames (those that need the end padding). A second
        flush returns no frames."""
        self._live()
        capacity = 2
        out = self._output(capacity)
        got = _i64()
        for i, handle in enumerate(self._handles):
            status = _lib.stream_flush(handle, out[i].ctypes.data, out[i].nbytes,
                                       ctypes.byref(got))
            if status == Status.ERROR_BUFFER_TOO_SMALL and i == 0:
                # Nothing was consumed. Every signal has the same length, so the room the first
                # one needs is what all need.
                capacity = got.value
                out = self._output(capacity)
                status = _lib.stream_flush(handle, out[i].ctypes.data, out[i].nbytes,
                                           ctypes.byref(got))
            self._check(status)
        return self._give_back(self._shaped(out, got.value))

    def reset(self):
        """Forgets all input: the stream is ready for a new signal (of any leading shape)."""
        self._live()
        for handle in self._handles:
            self._check(_lib.stream_reset(handle))
        self._fresh = True

    def __repr__(self):
        state = "closed" if self.closed else f"{len(self._handles)} signal(s)"
        return f"<melspec.Stream {state} latency={self._latency}>"
