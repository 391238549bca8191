"""Whisper's front end with openai-whisper's and transformers' numbers, on melspec's plans.

    mel = melspec.whisper.log_mel_spectrogram(audio)            # whisper.log_mel_spectrogram
    extractor = melspec.whisper.WhisperFeatureExtractor()       # transformers' call and result
    features = extractor(batch_of_waveforms, sampling_rate=16000, return_attention_mask=True)

The formula (whisper/audio.py): power mel of a periodic-Hann STFT (n_fft 400, hop 160, centred,
reflect padding) through librosa's Slaney filterbank, the last frame dropped, log10 of max(x,
1e-10), clamped to max - 8, then (x + 4) / 4. The mel stage runs in melspec (float32); the log
steps are numpy on the (n_mels, frames) result.
"""
import numpy as np

from . import _arrays
from ._errors import InvalidArgumentError
from .presets import plan as _preset_plan

SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160
CHUNK_LENGTH = 30
N_SAMPLES = CHUNK_LENGTH * SAMPLE_RATE   # 480000: the 30 s window
N_FRAMES = N_SAMPLES // HOP_LENGTH       # 3000

_plans = {}


def _plan(n_mels, device):
    key = (n_mels, device)
    if key not in _plans:
        if n_mels not in (80, 128):
            raise InvalidArgumentError(f"n_mels = {n_mels!r}: Whisper uses 80 or 128")
        _plans[key] = _preset_plan(f"whisper-{n_mels}", device=device)
    return _plans[key]


def _whisper_log(power_mel, per_clip):
    """log10(max(x, 1e-10)), clamped to max - 8, (x + 4) / 4, after dropping the last frame.
    per_clip: the max of each leading index (transformers) or of the whole array (whisper)."""
    log_spec = np.log10(np.maximum(power_mel[..., :-1], 1e-10))
    if per_clip:
        peak = log_spec.max(axis=(-2, -1), keepdims=True)
    else:
        peak = log_spec.max()
    return (np.maximum(log_spec, peak - 8.0) + 4.0) / 4.0


def log_mel_spectrogram(audio, n_mels=80, padding=0, device=None):
    """whisper.log_mel_spectrogram(audio, n_mels, padding, device): float32 (..., n_mels, frames).

    audio: a float array of 16 kHz samples (a file path is read with melspec.load at 16 kHz).
    padding: zeros appended first, as whisper does. device: None or "auto" (GPU when there is
    one), "cpu", "cuda". As in whisper, the clamp uses the maximum over the whole input.
    """
    if isinstance(audio, str):
        from ._audio import load
        audio, _ = load(audio, sr=SAMPLE_RATE)
    if _arrays.is_torch(audio):  # as whisper: a tensor in, a tensor out (on its device)
        return _whisper_log_torch(audio, n_mels, padding, "auto" if device is None else device)
    audio = np.asarray(audio, dtype=np.float32)
    if padding > 0:
        audio = np.pad(audio, [(0, 0)] * (audio.ndim - 1) + [(0, int(padding))])
    power_mel = _plan(n_mels, "auto" if device is None else device)(audio)
    return _whisper_log(power_mel, per_clip=False).astype(np.float32)


def _whisper_log_torch(audio, n_mels, padding, device):
    """log_mel_spectrogram for a torch tensor: the mel on the tensor's device (melspec._arrays),
    the log steps in torch, so a CUDA tensor never leaves the GPU."""
    import torch  # loaded already: audio is a tensor
    if padding > 0:
        audio = torch.nn.functional.pad(audio, (0, int(padding)))
    power_mel = _plan(n_mels, _arrays.plan_device(audio, device))(audio)
    log_spec = torch.clamp(power_mel[..., :-1], min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


def pad_or_trim(array, length=N_SAMPLES, axis=-1):
    """whisper.pad_or_trim: zeros at the end, or cut, to length samples along axis."""
    array = np.asarray(array)
    if array.shape[axis] > length:
        return np.take(array, np.arange(length), axis=axis)
    if array.shape[axis] < length:
        widths = [(0, 0)] * array.ndim
        widths[axis] = (0, length - array.shape[axis])
        return np.pad(array, widths)
    return array


class WhisperFeatureExtractor:
    """transformers.WhisperFeatureExtractor's call with its results: ``extractor(raw_speech,
    sampling_rate=16000, return_tensors=None|"np"|"pt", return_attention_mask=False,
    padding="max_length", truncation=True, max_length=None, do_normalize=False)`` returns a dict
    with "input_features" (batch, n_mels, 3000) and, when asked, "attention_mask" (batch, 3000).

    Each waveform is padded with zeros (or cut) to 30 s, its log-mel clamped against its own
    maximum (transformers' per-example rule). padding="longest" pads to the longest input.
    """

    model_input_names = ["input_features"]

    def __init__(self, feature_size=80, sampling_rate=SAMPLE_RATE, hop_length=HOP_LENGTH,
                 chunk_length=CHUNK_LENGTH, n_fft=N_FFT, padding_value=0.0,
                 return_attention_mask=False, device=None):
        if (sampling_rate, hop_length, n_fft) != (SAMPLE_RATE, HOP_LENGTH, N_FFT):
            raise InvalidArgumentError("WhisperFeatureExtractor: sampling_rate 16000, hop_length "
                                       "160 and n_fft 400 are Whisper's; other values are not "
                                       "supported")
        self.feature_size = feature_size
        self.sampling_rate = sampling_rate
        self.hop_length = hop_length
        self.chunk_length = chunk_length
        self.n_samples = chunk_length * sampling_rate
        self.nb_max_frames = self.n_samples // hop_length
        self.n_fft = n_fft
        self.padding_value = padding_value
        self.return_attention_mask = return_attention_mask
        self.device = "auto" if device is None else device

    def __call__(self, raw_speech, truncation=True, pad_to_multiple_of=None, return_tensors=None,
                 return_attention_mask=None, padding="max_length", max_length=None,
                 sampling_rate=None, do_normalize=None, device=None, **unused):
        if sampling_rate is not None and sampling_rate != self.sampling_rate:
            raise InvalidArgumentError(
                f"sampling_rate = {sampling_rate}: this extractor expects {self.sampling_rate} "
                "Hz audio (resample first, e.g. melspec.load(path, sr=16000))")
        speech = self._as_batch(raw_speech)
        length = max_length or self.n_samples
        if padding == "longest":
            length = max(len(y) for y in speech)
        elif padding not in ("max_length", True):
            raise InvalidArgumentError(f"padding = {padding!r}: 'max_length' or 'longest'")
        if pad_to_multiple_of:
            length = -(-length // pad_to_multiple_of) * pad_to_multiple_of
        if not truncation and any(len(y) > length for y in speech):
            raise InvalidArgumentError(f"an input is longer than {length} samples and "
                                       "truncation=False")
        batch = np.full((len(speech), length), self.padding_value, dtype=np.float32)
        mask = np.zeros((len(speech), length), dtype=np.int32)
        for row, y in enumerate(speech):
            kept = min(len(y), length)
            batch[row, :kept] = y[:kept]
            mask[row, :kept] = 1
        if do_normalize:  # transformers' zero_mean_unit_var_norm over the unpadded part
            for row, y in enumerate(speech):
                kept = min(len(y), length)
                part = batch[row, :kept]
                batch[row, :kept] = (part - part.mean()) / np.sqrt(part.var() + 1e-7)
                batch[row, kept:] = self.padding_value
        device = self.device if device is None else device
        features = _whisper_log(_plan(self.feature_size, device)(batch), per_clip=True)
        out = {"input_features": features.astype(np.float32)}
        want_mask = self.return_attention_mask if return_attention_mask is None \
            else return_attention_mask
        if want_mask:
            out["attention_mask"] = mask[:, ::self.hop_length]
        return self._convert(out, return_tensors)

    @staticmethod
    def _as_batch(raw_speech):
        if isinstance(raw_speech, np.ndarray) and raw_speech.ndim == 1:
            return [raw_speech.astype(np.float32)]
        if isinstance(raw_speech, np.ndarray) and raw_speech.ndim == 2:
            return [row.astype(np.float32) for row in raw_speech]
        if isinstance(raw_speech, (list, tuple)) and raw_speech and \
                not np.isscalar(raw_speech[0]):
            return [np.asarray(y, dtype=np.float32).reshape(-1) for y in raw_speech]
        return [np.asarray(raw_speech, dtype=np.float32).reshape(-1)]

    @staticmethod
    def _convert(out, return_tensors):
        if return_tensors in (None, "np"):
            return out
        if return_tensors == "pt":
            import torch  # only when asked for: torch stays optional
            return {key: torch.from_numpy(value) for key, value in out.items()}
        raise InvalidArgumentError(f"return_tensors = {return_tensors!r}: None, 'np' or 'pt'")


__all__ = ["log_mel_spectrogram", "pad_or_trim", "WhisperFeatureExtractor", "SAMPLE_RATE",
           "N_FFT", "HOP_LENGTH", "N_SAMPLES", "N_FRAMES"]
