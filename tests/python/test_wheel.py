"""The wheel as a user meets it: `pip wheel .` into a temporary folder, installed into a fresh
virtual environment, imported from another directory with no build tree and no MELSPEC_LIBRARY.

Slow-ish (one CMake build of the library, ~30-60 s here): its own ctest entry, python_wheel
(labels python, slow). It needs scikit-build-core in the running interpreter (requirements-test.txt)
because it builds without network (--no-build-isolation); without it the test skips.
"""
import glob
import json
import os
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO

pytest.importorskip("scikit_build_core", reason="scikit-build-core builds the wheel "
                    "(requirements-test.txt)")

# The ctest entry says whether its build made the CUDA plugin; the wheel is asked for the same,
# so that a build with nvcc proves the plugin travels in the wheel.
EXPECT_CUDA_PLUGIN = os.environ.get("MELSPEC_EXPECT_CUDA_PLUGIN", "0") == "1"


def _clean_env(**extra):
    """The environment of someone who just ran pip install: none of the build's variables."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("MELSPEC_LIBRARY", "MELSPEC_CUDA_PLUGIN", "PYTHONPATH", "VIRTUAL_ENV",
                          "PYTHONHOME")}
    env.update(extra)
    return env


def _run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (f"{' '.join(command)} failed ({result.returncode}):\n"
                                    f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheelhouse")
    build_dir = tmp_path_factory.mktemp("wheel-build")
    cuda = "ON" if EXPECT_CUDA_PLUGIN else "OFF"
    _run([sys.executable, "-m", "pip", "wheel", REPO, "--no-build-isolation", "--no-deps",
          "--disable-pip-version-check", "-w", str(out),
          f"--config-settings=build-dir={build_dir}",
          f"--config-settings=cmake.define.MELSPEC_CUDA={cuda}"],
         env=_clean_env(CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count() or 2)), timeout=900)
    wheels = glob.glob(str(out / "melspec-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """A fresh venv with the wheel installed; numpy (a dependency, not under test) comes from
    this interpreter's site-packages through a .pth file, since the test has no network."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = str(venv / "bin" / "python")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
          "--disable-pip-version-check", wheel], env=_clean_env())
    import numpy
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                env=_clean_env()).stdout.strip()
    with open(os.path.join(site, "numpy-from-test.pth"), "w", encoding="utf-8") as f:
        f.write(os.path.dirname(os.path.dirname(numpy.__file__)) + "\n")
    return python, site


def test_wheel_holds_the_library_and_plugin_in_the_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "melspec/libmelspec.so" in names
    assert "melspec/libmelspec_audio.so" in names  # melspec.load
    assert "melspec/__init__.py" in names and "melspec/__main__.py" in names
    assert ("melspec/libmelspec_cuda.so" in names) == EXPECT_CUDA_PLUGIN, names
    # only the package: no headers, CMake files or a second copy of the library at the root
    assert all(name.startswith(("melspec/", "melspec-")) for name in names), names
    assert "-py3-none-linux_" in os.path.basename(wheel), wheel


def test_installed_wheel_imports_from_another_directory(installed, tmp_path):
    python, site = installed
    package = os.path.join(site, "melspec")
    code = (
        "import json, numpy, melspec\n"
        "y = numpy.random.default_rng(1).standard_normal(16000).astype('float32')\n"
        "S = melspec.melspectrogram(y, sr=16000)\n"
        "import wave\n"
        "with wave.open('tone.wav', 'wb') as w:\n"
        "    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)\n"
        "    w.writeframes((y[:8000] * 8000).astype('<i2').tobytes())\n"
        "loaded, rate = melspec.load('tone.wav', sr=16000)\n"
        "assert rate == 16000 and loaded.shape == (16000,) and loaded.std() > 0.1, loaded.std()\n"
        "print(json.dumps({'file': melspec.__file__, 'shape': list(S.shape),\n"
        "                  'peak': float(S.max()), 'info': melspec.info()}))\n")
    result = _run([python, "-c", code], cwd=str(tmp_path), env=_clean_env())
    found = json.loads(result.stdout)
    assert found["file"].startswith(package), found["file"]
    assert found["info"]["library_path"] == os.path.join(package, "libmelspec.so")
    assert found["shape"] == [128, 32]
    assert found["peak"] > 0
    cuda = found["info"]["backends"]["cuda"]
    if EXPECT_CUDA_PLUGIN:
        # src/plugin.c found the plugin beside the installed core (dladdr), loaded or not
        assert os.path.join(package, "libmelspec_cuda.so") in cuda["reason"], cuda
    else:
        assert not cuda["available"] and cuda["reason"], cuda
    assert found["info"]["backends"]["auto"]["available"]


def test_python_m_melspec_version_reports_backends(installed, tmp_path):
    python, site = installed
    result = _run([python, "-m", "melspec", "--version"], cwd=str(tmp_path), env=_clean_env())
    lines = result.stdout.splitlines()
    assert lines[0].startswith("melspec ") and os.path.join(site, "melspec") in lines[0], lines
    assert any(line.strip().startswith("cpu: available") for line in lines), lines
    assert any(line.strip().startswith("cuda: ") for line in lines), lines
