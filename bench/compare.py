#!/usr/bin/env python3
"""melspec side by side with librosa and torchaudio, same inputs, same run, one CPU thread.

Cases (DESIGN.md "Benchmark cases"): realtime (1 s @ 16 kHz, n_fft 800, hop 200, 80 mels,
55-7600 Hz, power 1), music (60 s @ 22.05 kHz, librosa defaults), whisper (30 s @ 16 kHz,
n_fft 400, hop 160, 80 mels, reflect padding, power_to_db with top_db 80). On a machine with a
CUDA device torchaudio on CUDA, a torch.compile'd torch.stft + mel recipe and melspec's CUDA
backend are timed too. Prints a markdown table: medians, p99, melspec's speedup over each, and
each result's distance to librosa's (normalized max error, as tests/support/compare.c).

Without librosa (a GPU machine's image has none unless scripts/gpu-prepare.sh's wheels are
carried; or --without-librosa) its rows say "n/a", the distances are to melspec's CPU backend,
and everything else still runs.

melspec is called through the Python package `melspec` when it is importable, else through
ctypes on libmelspec.so directly (--library, $MELSPEC_LIBRARY, or build/libmelspec.so).

torch and torchaudio from PyPI live in an environment of their own: run scripts/bench-setup.sh once, then
    build/bench-venv/bin/python bench/compare.py
"""
import os

# One thread everywhere, before numpy, torch or their BLAS are imported.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                  "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import ctypes  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

try:
    import librosa
except ImportError:
    librosa = None
try:
    import torch
    import torchaudio
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
except ImportError:
    torch = torchaudio = None

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = {
    # name: (sample rate, seconds, transform parameters as librosa names them, scaling)
    "realtime": (16000, 1.0, dict(n_fft=800, hop_length=200, n_mels=80, fmin=55.0, fmax=7600.0,
                                  power=1.0, pad_mode="constant"), None),
    "music": (22050, 60.0, dict(n_fft=2048, hop_length=512, n_mels=128, fmin=0.0, fmax=None,
                                power=2.0, pad_mode="constant"), None),
    "whisper": (16000, 30.0, dict(n_fft=400, hop_length=160, n_mels=80, fmin=0.0, fmax=None,
                                  power=2.0, pad_mode="reflect"), "power_to_db"),
    # ccmusic's features: amplitude_to_db(abs(cqt(y, sr=22050, hop_length=512, n_bins=84)),
    # ref=np.max). Needs the library's CQT plan and the Python package (no torchaudio CQT).
    "cqt": (22050, 30.0, dict(hop_length=512, n_bins=84), "amplitude_to_db"),
}

# ---- melspec through ctypes ---------------------------------------------------------------------


class _Config(ctypes.Structure):
    """include/melspec.h's melspec_config, field for field (checked against the library)."""
    _fields_ = [
        ("struct_size", ctypes.c_uint32), ("transform", ctypes.c_int32),
        ("sample_rate", ctypes.c_double), ("n_fft", ctypes.c_int64),
        ("hop_length", ctypes.c_int64), ("win_length", ctypes.c_int64),
        ("window", ctypes.c_int32), ("center", ctypes.c_int32), ("pad_mode", ctypes.c_int32),
        ("mel_scale", ctypes.c_int32), ("power", ctypes.c_double), ("n_mels", ctypes.c_int64),
        ("fmin", ctypes.c_double), ("fmax", ctypes.c_double), ("mel_norm", ctypes.c_int32),
        ("scaling", ctypes.c_int32), ("ref", ctypes.c_double), ("amin", ctypes.c_double),
        ("top_db", ctypes.c_double), ("log_offset", ctypes.c_double),
        ("ref_mode", ctypes.c_int32), ("layout", ctypes.c_int32), ("backend", ctypes.c_int32),
        ("device_ordinal", ctypes.c_int32), ("output_dtype", ctypes.c_int32),
        ("fixed_memory", ctypes.c_int32), ("max_batch", ctypes.c_int64),
        ("max_samples", ctypes.c_int64),
    ]


_PAD_MODES = {"constant": 0, "reflect": 1, "edge": 2}
_BACKENDS = {"cpu": 1, "cuda": 2}


class CtypesMelspec:
    """Just enough of libmelspec for the comparison: a plan made once, execute per call."""

    def __init__(self, path):
        self.path = path
        self.lib = ctypes.CDLL(path)
        lib = self.lib
        lib.melspec_config_size.restype = ctypes.c_size_t
        lib.melspec_config_init.argtypes = [ctypes.POINTER(_Config)]
        lib.melspec_version_string.restype = ctypes.c_char_p
        lib.melspec_plan_create.argtypes = [ctypes.POINTER(ctypes.c_void_p),
                                            ctypes.POINTER(_Config), ctypes.c_char_p,
                                            ctypes.c_size_t]
        lib.melspec_plan_destroy.argtypes = [ctypes.c_void_p]
        lib.melspec_plan_last_error.argtypes = [ctypes.c_void_p]
        lib.melspec_plan_last_error.restype = ctypes.c_char_p
        lib.melspec_plan_output_shape.argtypes = [ctypes.c_void_p, ctypes.c_int64,
                                                  ctypes.POINTER(ctypes.c_int64),
                                                  ctypes.POINTER(ctypes.c_int64)]
        lib.melspec_execute.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                        ctypes.c_int64, ctypes.c_void_p, ctypes.c_size_t]
        lib.melspec_cuda_device_count.restype = ctypes.c_int
        if lib.melspec_config_size() != ctypes.sizeof(_Config):
            raise RuntimeError(f"{path}: melspec_config is {lib.melspec_config_size()} bytes, "
                               f"this script knows {ctypes.sizeof(_Config)}: update _Config")
        self.version = lib.melspec_version_string().decode()

    def cuda_device_count(self):
        return self.lib.melspec_cuda_device_count()

    def has_cqt(self):
        return False  # the CQT is measured through the Python package only

    def plan(self, sr, params, scaling, n_samples, backend="cpu"):
        config = _Config()
        self.lib.melspec_config_init(ctypes.byref(config))
        config.sample_rate = sr
        config.n_fft = params["n_fft"]
        config.hop_length = params["hop_length"]
        config.n_mels = params["n_mels"]
        config.fmin = params["fmin"]
        config.fmax = params["fmax"] or 0.0
        config.power = params["power"]
        config.pad_mode = _PAD_MODES[params["pad_mode"]]
        config.scaling = 1 if scaling == "power_to_db" else 0
        config.backend = _BACKENDS[backend]
        config.max_samples = n_samples
        return _CtypesPlan(self.lib, config, n_samples)


class _CtypesPlan:
    def __init__(self, lib, config, n_samples):
        self.lib = lib
        self.handle = ctypes.c_void_p()
        why = ctypes.create_string_buffer(512)
        status = lib.melspec_plan_create(ctypes.byref(self.handle), ctypes.byref(config), why, 512)
        if status != 0:
            raise RuntimeError(f"melspec_plan_create: {why.value.decode()}")
        n_bins, n_frames = ctypes.c_int64(), ctypes.c_int64()
        lib.melspec_plan_output_shape(self.handle, n_samples, ctypes.byref(n_bins),
                                      ctypes.byref(n_frames))
        self.out = np.empty((n_bins.value, n_frames.value), dtype=np.float32)

    def __call__(self, y):
        status = self.lib.melspec_execute(self.handle, y.ctypes.data, 1, y.shape[-1],
                                          self.out.ctypes.data, self.out.nbytes)
        if status != 0:
            raise RuntimeError(self.lib.melspec_plan_last_error(self.handle).decode())
        return self.out

    def close(self):
        self.lib.melspec_plan_destroy(self.handle)


class PackageMelspec:
    """melspec through its Python package (python/melspec): a MelSpectrogram plan made once,
    called with a preallocated output."""

    def __init__(self, module):
        self.module = module
        self.path = module.library_path
        self.version = module.library_version

    def cuda_device_count(self):
        return self.module.cuda_device_count()

    def has_cqt(self):
        return hasattr(self.module, "CQT")

    def cqt_plan(self, sr, params, n_samples):
        plan = self.module.CQT(sr=sr, hop_length=params["hop_length"], n_bins=params["n_bins"],
                               output="magnitude", scaling="amplitude_to_db", ref=np.max,
                               top_db=80.0, device="cpu", max_samples=n_samples)
        out = plan(np.zeros(n_samples, np.float32))

        def run(y):
            return plan(y, out=out)
        run.close = plan.close
        return run

    def plan(self, sr, params, scaling, n_samples, backend="cpu"):
        plan = self.module.MelSpectrogram(
            sr=sr, n_fft=params["n_fft"], hop_length=params["hop_length"],
            n_mels=params["n_mels"], fmin=params["fmin"], fmax=params["fmax"],
            power=params["power"], pad_mode=params["pad_mode"], scaling=scaling, top_db=80.0,
            device=backend, max_samples=n_samples)
        out = plan(np.zeros(n_samples, np.float32))

        def run(y):
            return plan(y, out=out)
        run.close = plan.close
        return run


def load_melspec(library_path, use_package):
    """The Python package when it imports (with $MELSPEC_LIBRARY set to the library chosen),
    else ctypes on the library directly."""
    if use_package:
        os.environ["MELSPEC_LIBRARY"] = os.path.abspath(library_path)
        package_dir = os.path.join(REPOSITORY, "python")
        if os.path.isdir(os.path.join(package_dir, "melspec")):
            sys.path.insert(0, package_dir)
        try:
            import melspec
            return PackageMelspec(melspec), "Python package"
        except Exception as error:  # not there, or a mismatch: ctypes still measures the library
            print(f"compare.py: package melspec not used ({error}); using ctypes",
                  file=sys.stderr)
    return CtypesMelspec(library_path), "ctypes"


def find_library(explicit):
    for candidate in (explicit, os.environ.get("MELSPEC_LIBRARY"),
                      os.path.join(REPOSITORY, "build", "libmelspec.so")):
        if candidate and os.path.exists(candidate):
            return candidate
    sys.exit("compare.py: libmelspec.so not found: build it, or pass --library")


# ---- the implementations ------------------------------------------------------------------------


def librosa_function(sr, params, scaling):
    p = dict(params)

    def run(y):
        S = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=p["n_fft"],
                                           hop_length=p["hop_length"], n_mels=p["n_mels"],
                                           fmin=p["fmin"], fmax=p["fmax"], power=p["power"],
                                           pad_mode=p["pad_mode"])
        return librosa.power_to_db(S, top_db=80.0) if scaling == "power_to_db" else S
    return run


def librosa_cqt_function(sr, params):
    def run(y):
        C = librosa.cqt(y, sr=sr, hop_length=params["hop_length"], n_bins=params["n_bins"])
        return librosa.amplitude_to_db(np.abs(C), ref=np.max)
    return run


def torchaudio_module(sr, params, scaling, device):
    transform = torchaudio.transforms.MelSpectrogram(
        sample_rate=sr, n_fft=params["n_fft"], hop_length=params["hop_length"],
        n_mels=params["n_mels"], f_min=params["fmin"], f_max=params["fmax"],
        power=params["power"], center=True, pad_mode=params["pad_mode"], norm="slaney",
        mel_scale="slaney").to(device)
    to_db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=80.0).to(device)
    return transform, (to_db if scaling == "power_to_db" else None)


def torchaudio_function(sr, params, scaling, device="cpu"):
    transform, to_db = torchaudio_module(sr, params, scaling, device)

    def run(y):
        with torch.inference_mode():
            x = torch.from_numpy(y).to(device)
            S = transform(x)
            if to_db is not None:
                S = to_db(S)
            if device != "cpu":
                torch.cuda.synchronize()
            return S
    return run


def torch_compiled_function(sr, params, scaling, device):
    """The torch.stft + mel recipe people write by hand, compiled as a real-time app would:
    mode="reduce-overhead" (CUDA graphs), the window and the filterbank made once. The
    filterbank is torchaudio's Slaney one (librosa's default), so the recipe needs no librosa."""
    window = torch.hann_window(params["n_fft"], device=device)
    fmax = params["fmax"] if params["fmax"] is not None else sr / 2.0
    mel = torchaudio.functional.melscale_fbanks(
        n_freqs=params["n_fft"] // 2 + 1, f_min=params["fmin"], f_max=fmax,
        n_mels=params["n_mels"], sample_rate=sr, norm="slaney", mel_scale="slaney"
    ).T.contiguous().to(device)

    def recipe(x):
        spectrum = torch.stft(x, params["n_fft"], params["hop_length"], window=window,
                              center=True, pad_mode=params["pad_mode"], return_complex=True)
        S = mel @ spectrum.abs().pow(params["power"])
        if scaling == "power_to_db":
            S = 10.0 * torch.log10(torch.clamp(S, min=1e-10))
            S = torch.maximum(S, S.max() - 80.0)
        return S
    compiled = torch.compile(recipe, mode="reduce-overhead")

    def run(y):
        with torch.inference_mode():
            S = compiled(torch.from_numpy(y).to(device))
            torch.cuda.synchronize()
            # CUDA graphs reuse their output buffer at the next replay: keep a copy
            return S.clone()
    return run


def to_numpy(result):
    if torch is not None and isinstance(result, torch.Tensor):
        return result.detach().cpu().numpy()
    return np.asarray(result)


def normalized_error(got, want):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return float("nan")
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


# ---- timing -------------------------------------------------------------------------------------


def time_calls(function, inputs, min_time, min_calls, max_calls, warmup):
    for i in range(warmup):
        function(inputs[i % len(inputs)])
    samples = []
    start = time.perf_counter()
    i = 0
    while len(samples) < max_calls:
        y = inputs[i % len(inputs)]
        i += 1
        t0 = time.perf_counter_ns()
        function(y)
        samples.append((time.perf_counter_ns() - t0) * 1e-9)
        if len(samples) >= min_calls and time.perf_counter() - start >= min_time:
            break
    samples.sort()
    n = len(samples)
    median = samples[n // 2] if n % 2 else 0.5 * (samples[n // 2 - 1] + samples[n // 2])
    p99 = samples[max(1, int(np.ceil(0.99 * n))) - 1]
    return median, p99, n


def format_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds:.3f} s"


def cpu_name():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def signals(sr, seconds, count):
    rng = np.random.default_rng(1234)
    n = int(sr * seconds)
    t = np.arange(n) / sr
    out = []
    for k in range(count):
        y = (0.3 * np.sin(2 * np.pi * (220 + 20 * k) * t) + 0.2 * np.sin(2 * np.pi * 300 * t * t)
             + 0.05 * rng.standard_normal(n))
        out.append(y.astype(np.float32))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", help="libmelspec.so to load (default: build/)")
    parser.add_argument("--cases", default="realtime,music,whisper,cqt",
                        help="comma list of realtime, music, whisper, cqt (when available)")
    parser.add_argument("--min-time", type=float, default=2.0,
                        help="seconds of timed calls per implementation and case")
    parser.add_argument("--min-calls", type=int, default=10)
    parser.add_argument("--max-calls", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls first")
    parser.add_argument("--label", default="", help="names the melspec build in the table")
    parser.add_argument("--quick", action="store_true", help="a few calls each (smoke run)")
    parser.add_argument("--ctypes", action="store_true",
                        help="call libmelspec through ctypes even when the package is there")
    parser.add_argument("--without-librosa", action="store_true",
                        help="run as on a machine without librosa (its rows n/a)")
    args = parser.parse_args()
    if args.quick:
        args.min_time, args.min_calls, args.warmup = 0.0, 2, 1
    global librosa
    if args.without_librosa:
        librosa = None
    if librosa is None:
        print("compare.py: no librosa: its rows are n/a and errors are against melspec's CPU "
              "backend (scripts/bench-setup.sh installs it)", file=sys.stderr)

    library, binding = load_melspec(find_library(args.library), not args.ctypes)
    gpu = torch is not None and torch.cuda.is_available()
    versions = [f"melspec {library.version}" + (f" ({args.label})" if args.label else "")
                + f" via {binding} from {library.path}",
                f"librosa {librosa.__version__}" if librosa is not None else "librosa n/a",
                f"numpy {np.__version__}"]
    if torch is not None:
        versions += [f"torch {torch.__version__}", f"torchaudio {torchaudio.__version__}"]
    else:
        versions.append("torchaudio not installed (scripts/bench-setup.sh)")
    machine = f"{cpu_name()}, {os.cpu_count()} CPUs online, 1 thread used"
    if gpu:
        machine += f"; GPU {torch.cuda.get_device_name(0)}"

    rows = []
    for case in args.cases.split(","):
        sr, seconds, params, scaling = CASES[case]
        inputs = signals(sr, seconds, 4)
        n = inputs[0].shape[-1]
        if case == "cqt":
            if not library.has_cqt():
                print("compare.py: cqt skipped (needs the library's CQT and the Python package)",
                      file=sys.stderr)
                continue
            implementations = [("melspec (CPU)", library.cqt_plan(sr, params, n))]
            if librosa is not None:
                implementations.append(("librosa", librosa_cqt_function(sr, params)))
        else:
            implementations = [("melspec (CPU)", library.plan(sr, params, scaling, n))]
            if librosa is not None:
                implementations.append(("librosa", librosa_function(sr, params, scaling)))
        if torch is not None and case != "cqt":
            implementations.append(("torchaudio (CPU)", torchaudio_function(sr, params, scaling)))
        if gpu and case != "cqt":
            implementations.append(("torchaudio (CUDA)",
                                    torchaudio_function(sr, params, scaling, "cuda")))
            implementations.append(("torch.compile stft+mel (CUDA)",
                                    torch_compiled_function(sr, params, scaling, "cuda")))
            if library.cuda_device_count() > 0:
                implementations.append(("melspec (CUDA, host pointers)",
                                        library.plan(sr, params, scaling, n, backend="cuda")))
        # librosa is the reference; without it, melspec's CPU backend (itself held to librosa's
        # fixtures by the golden tests)
        reference = to_numpy(implementations[1 if librosa is not None else 0][1](inputs[0]))
        if librosa is None:
            rows.append((case, "librosa", None, None, 0, None, None))
        timings = {}
        for name, function in implementations:
            error = normalized_error(to_numpy(function(inputs[0])), reference)
            median, p99, calls = time_calls(function, inputs, args.min_time, args.min_calls,
                                            args.max_calls, args.warmup)
            timings[name] = median
            rows.append((case, name, median, p99, calls, error))
            print(f"compare.py: {case} {name}: {format_time(median)}", file=sys.stderr)
        for i, row in enumerate(rows):
            if row[0] == case and len(row) == 6:
                rows[i] = row + (row[2] / timings["melspec (CPU)"],)
        for name, function in implementations:
            if name.startswith("melspec"):
                function.close()

    print(f"Machine: {machine}")
    print(f"Software: {', '.join(versions)}, Python {platform.python_version()}")
    print()
    against = "librosa" if librosa is not None else "melspec CPU (no librosa)"
    print("| case | implementation | calls | median | p99 | time / melspec CPU | "
          f"error vs {against} |")
    print("|---|---|--:|--:|--:|--:|--:|")
    for case, name, median, p99, calls, error, ratio in rows:
        if median is None:
            print(f"| {case} | {name} | n/a | n/a | n/a | n/a | n/a |")
            continue
        print(f"| {case} | {name} | {calls} | {format_time(median)} | {format_time(p99)} | "
              f"{ratio:.2f}x | {error:.2g} |")


if __name__ == "__main__":
    main()
