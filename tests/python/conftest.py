"""Shared helpers: realistic test signals, the librosa reference, subprocess runners."""
import os
import subprocess
import sys
import textwrap

# numba (librosa's piptrack, localmax) keeps compiled code beside librosa's sources; a cache
# written by another machine or build crashes the interpreter (seen in the shared venv with
# librosa.estimate_tuning). A cache of this test run's own avoids it; set before librosa loads.
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(
    os.environ.get("TMPDIR", "/tmp"), f"melspec-numba-cache-{os.getuid()}"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE_ROOT = os.path.join(REPO, "python")
if PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, PACKAGE_ROOT)


def make_signal(n, sr, seed=0, channels=()):
    """Tones + a chirp + noise + a few clicks, never zeros; float64, shape channels + (n,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    out = np.empty(tuple(channels) + (n,))
    for index in np.ndindex(*channels):
        f0 = rng.uniform(80, 0.2 * sr)
        chirp_end = rng.uniform(0.25, 0.48) * sr
        y = 0.4 * np.sin(2 * np.pi * f0 * t + rng.uniform(0, 6))
        y += 0.2 * np.sin(2 * np.pi * (40 * t + (chirp_end - 40) * t ** 2 / (2 * t[-1])))
        y += 0.1 * np.sin(2 * np.pi * 3.01 * f0 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t))
        y += 0.03 * rng.standard_normal(n)
        y[rng.integers(0, n, 3)] += 0.5
        out[index] = y
    return out


def normalized_error(ours, reference):
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


def subprocess_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_python(code, env=None, timeout=60):
    """Runs code in a fresh interpreter; a crash shows up as a negative return code."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env or subprocess_env(), timeout=timeout)


@pytest.fixture
def python_runner():
    return run_python
