"""The raw layer: ABI checks at import and the library search order."""
import ctypes
import ctypes.util
import os
import shutil

import pytest

import melspec
from melspec import _library
from conftest import PACKAGE_ROOT, run_python, subprocess_env


def test_struct_mirror_matches_the_library():
    assert ctypes.sizeof(_library.Config) == _library.lib.config_size()
    config = _library.Config()
    _library.lib.config_init(config)
    assert config.struct_size == ctypes.sizeof(config)
    assert config.sample_rate == 22050.0 and config.n_fft == 2048 and config.n_mels == 128
    assert config.power == 2.0 and config.top_db == 80.0 and config.ref == 1.0


def test_struct_size_mismatch_fails_loudly(monkeypatch):
    monkeypatch.setattr(_library, "CONFIG_SIZE", _library.CONFIG_SIZE + 8)
    with pytest.raises(melspec.LibraryMismatchError, match="sizeof\\(melspec_config\\)") as raised:
        _library.check_abi(_library.lib)
    assert isinstance(raised.value, ImportError)
    assert raised.value.status == melspec.Status.ERROR_STRUCT_SIZE
    monkeypatch.undo()
    _library.check_abi(_library.lib)  # the real sizes agree


def test_version_mismatch_fails_loudly():
    with pytest.raises(melspec.LibraryMismatchError, match="needs 9.9.x"):
        _library.check_abi(_library.lib, package_version=(9, 9, 0))


def test_every_function_is_declared():
    for name in _library._REQUIRED:
        function = getattr(_library.lib.cdll, name)
        assert function.argtypes is not None, name
    for name in _library._OPTIONAL:
        bound = getattr(_library.lib, name[len("melspec_"):])
        assert bound is None or bound.argtypes is not None, name


def _library_file():
    return os.environ.get("MELSPEC_LIBRARY") or melspec.library_path


def test_explicit_library_path_that_does_not_exist():
    env = subprocess_env()
    env["MELSPEC_LIBRARY"] = "/nonexistent/libmelspec.so"
    child = run_python("import melspec", env=env)
    assert child.returncode == 1
    assert "ImportError" in child.stderr and "MELSPEC_LIBRARY" in child.stderr


def test_a_library_that_is_not_melspec():
    env = subprocess_env()
    env["MELSPEC_LIBRARY"] = ctypes.util.find_library("m") or "libm.so.6"
    child = run_python("import melspec", env=env)
    assert child.returncode == 1
    assert "LibraryMismatchError" in child.stderr and "melspec_" in child.stderr


def test_search_order_package_copy_then_environment(tmp_path):
    package = tmp_path / "melspec"
    shutil.copytree(os.path.join(PACKAGE_ROOT, "melspec"), package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
    env = subprocess_env()
    env.pop("MELSPEC_LIBRARY", None)
    env["PYTHONPATH"] = str(tmp_path)
    env["LD_LIBRARY_PATH"] = ""
    show = "import melspec; print(melspec.library_path)"

    # Nothing in the package, no build tree next to it: the system search, which fails here
    # (unless libmelspec is installed system-wide) with a message naming the places tried.
    child = run_python(show, env=env)
    if child.returncode != 0:
        assert "libmelspec was not found" in child.stderr and str(package) in child.stderr

    copy = package / "libmelspec.so"
    shutil.copy(_library_file(), copy)
    child = run_python(show, env=env)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == str(copy)

    env["MELSPEC_LIBRARY"] = os.path.abspath(_library_file())
    child = run_python(show, env=env)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == env["MELSPEC_LIBRARY"]


def test_build_tree_is_found_from_the_source_package(tmp_path):
    (tmp_path / "python").mkdir()
    shutil.copytree(os.path.join(PACKAGE_ROOT, "melspec"), tmp_path / "python" / "melspec",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
    (tmp_path / "build").mkdir()
    shutil.copy(_library_file(), tmp_path / "build" / "libmelspec.so")
    env = subprocess_env()
    env.pop("MELSPEC_LIBRARY", None)
    env["PYTHONPATH"] = str(tmp_path / "python")
    child = run_python("import melspec; print(melspec.library_path)", env=env)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == str(tmp_path / "build" / "libmelspec.so")


def test_version_and_backend_queries():
    assert melspec.library_version.startswith("0.2.")
    assert melspec.cuda_device_count() >= 0
    assert isinstance(melspec.cuda_compiled(), bool)


def test_backend_available_says_why():
    ok, reason = melspec.backend_available("cpu")
    assert ok and "CPU" in reason
    ok, reason = melspec.backend_available("cuda")
    assert ok == (melspec.cuda_device_count() > 0)
    if not ok:
        # the plugin or the driver that is missing, in the library's words
        assert "plugin" in reason or "device" in reason, reason
    ok, reason = melspec.backend_available("auto")
    assert ok and ("CPU" in reason or "CUDA" in reason)
    with pytest.raises(melspec.InvalidArgumentError):
        melspec.backend_available("tpu")
