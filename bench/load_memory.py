#!/usr/bin/env python3
"""Peak memory and time of melspec.load against librosa.load, per case, each load in a fresh
process (the peak is the process's high-water mark, VmHWM, reset just before the call, less its
resident size then: what the load itself needed on top of the interpreter and the imports;
ru_maxrss would not do: Linux carries the spawning process's peak into it across exec).

    PYTHONPATH=python MELSPEC_LIBRARY=build/libmelspec.so python3 bench/load_memory.py \
        [--repeats 7] [--dir /dev/shm] [--baseline OTHER/libmelspec.so]

Cases: five minutes of music (44.1 kHz stereo, 16-bit WAV) loaded as librosa.load's users do
(mono, at its own rate; mono, to 22,050 Hz) and kept stereo (mono=False, at its own rate and
to 22,050 Hz); ten minutes of 16 kHz speech (mono, its own rate: the decoded buffer is the
result). The result's own size is printed
beside: a loader cannot need less. The times are those of a first call in a fresh process
(each loader's libraries and lazy imports included): bench/load_vs_librosa.py times warm calls.
--baseline runs another libmelspec (its libmelspec_audio
beside it), say the last commit's built in a git worktree, in the same run. The loaders run
interleaved, process by process; medians of the repeats.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import soundfile

parser = argparse.ArgumentParser()
parser.add_argument("--repeats", type=int, default=7)
parser.add_argument("--dir", default=None, help="where the files go (default: the system's "
                    "temporary directory), e.g. /dev/shm for a tmpfs")
parser.add_argument("--baseline", default=None, help="another libmelspec.so to compare with")
args = parser.parse_args()

CHILD = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
loader, path, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if loader == "librosa":
    import librosa
    load = librosa.load
else:
    import melspec
    load = melspec.load
def status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
with open("/proc/self/clear_refs", "w") as clear_refs:
    clear_refs.write("5")  # the high-water mark restarts from the resident size now
before = status_kib("VmRSS")
start = time.perf_counter()
y, sr = load(path, **options)
seconds = time.perf_counter() - start
peak = status_kib("VmHWM")
print(json.dumps({"peak_mib": (peak - before) / 1024, "seconds": seconds,
                  "result_mib": y.nbytes / 2 ** 20, "shape": list(y.shape)}))
"""


def music(n, rate, rng):
    t = np.arange(n) / rate
    left = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(n)
    right = 0.3 * np.sin(2 * np.pi * 330 * t) + 0.05 * rng.standard_normal(n)
    return np.stack([left, right], axis=1).astype(np.float32)


def run(loader, library, path, options):
    environment = dict(os.environ)
    if library is not None:
        environment["MELSPEC_LIBRARY"] = library
        environment.pop("MELSPEC_AUDIO_LIBRARY", None)
    done = subprocess.run([sys.executable, "-c", CHILD, loader, path, json.dumps(options)],
                          capture_output=True, text=True, env=environment, check=True)
    return json.loads(done.stdout)


def main():
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        song = os.path.join(folder, "song.wav")
        soundfile.write(song, music(44100 * 300, 44100, rng), 44100, subtype="PCM_16")
        talk = os.path.join(folder, "talk.wav")
        soundfile.write(talk, (0.1 * rng.standard_normal(16000 * 600)).astype(np.float32),
                        16000, subtype="PCM_16")
        cases = [
            ("5 min stereo 44.1 kHz, mono, own rate", song, {"sr": None}),
            ("5 min stereo 44.1 kHz, mono, to 22050 Hz", song, {}),
            ("5 min stereo 44.1 kHz, mono=False, own rate", song, {"sr": None, "mono": False}),
            ("5 min stereo 44.1 kHz, mono=False, to 22050 Hz", song, {"mono": False}),
            ("10 min mono 16 kHz speech, own rate", talk, {"sr": None}),
        ]
        loaders = [("melspec", os.environ.get("MELSPEC_LIBRARY"))]
        if args.baseline:
            loaders.append(("melspec baseline", args.baseline))
        loaders.append(("librosa", None))
        print(f"{args.repeats} fresh processes per loader and case, interleaved; files in "
              f"{folder}")
        for name, path, options in cases:
            runs = {label: [] for label, _ in loaders}
            for _ in range(args.repeats):
                for label, library in loaders:
                    loader = "librosa" if label == "librosa" else "melspec"
                    runs[label].append(run(loader, library, path, options))
            result_mib = runs[loaders[0][0]][0]["result_mib"]
            print(f"\n{name}: result {result_mib:.1f} MiB")
            for label, _ in loaders:
                peak = statistics.median(r["peak_mib"] for r in runs[label])
                seconds = statistics.median(r["seconds"] for r in runs[label])
                print(f"  {label:>17}: peak {peak:7.1f} MiB ({peak / result_mib:4.2f}x the "
                      f"result), first call {seconds * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
