"""melspec.ray on a local Ray (ray.init(num_cpus=2), loopback only): a Ray Data pipeline over a
few short generated WAV files gives the single-machine numbers, in both output formats.

Costly (starting Ray: ~10-30 s on a loaded machine), hence its own ctest entry, python_ray,
labelled python and slow; tests/python's main entry (ctest python) ignores this file.
"""
import ipaddress
import os

import numpy as np
import pytest

# Before Ray is imported (it reads them then): no usage statistics (Ray would send them over the
# network), and every Ray address on loopback (Ray's own single-machine mode, its default on
# macOS and Windows; otherwise it binds the machine's IP and all interfaces).
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")
scipy_wavfile = pytest.importorskip("scipy.io.wavfile")

import melspec  # noqa: E402
import melspec.ray as melspec_ray  # noqa: E402
from conftest import make_signal  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_ray_uses_loopback_only(local_ray):
    psutil = pytest.importorskip("psutil")
    me = psutil.Process()
    addresses = set()
    for process in [me] + me.children(recursive=True):
        try:
            connections = process.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for connection in connections:
            addresses.add(connection.laddr.ip)
            if connection.raddr:
                addresses.add(connection.raddr.ip)
    assert addresses, "no Ray sockets seen"
    for address in addresses:
        ip = ipaddress.ip_address(address)
        ip = getattr(ip, "ipv4_mapped", None) or ip
        assert ip.is_loopback, f"Ray uses {address}, not loopback"


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    paths = []
    for index, (sr, seconds) in enumerate([(16000, 0.5), (22050, 0.7), (16000, 1.1),
                                           (44100, 0.3)]):
        y = make_signal(int(sr * seconds), sr, seed=index) * 0.5
        path = folder / f"clip{index}.wav"
        scipy_wavfile.write(path, sr, (y * 32767).astype(np.int16))
        paths.append(str(path))
    (folder / "notes.txt").write_text("not audio")  # skipped by extension
    return str(folder), paths


def single_machine(paths, transform, sr, kwargs):
    """The reference: melspec.load then one plan, in this process."""
    plan = melspec_ray.make_plan(transform, dict(kwargs, sr=sr), "cpu")
    return {os.path.splitext(os.path.basename(p))[0]: plan(melspec.load(p, sr=sr)[0])
            for p in paths}


def assert_same_as_here(got, want):
    """Ray's worker processes compute the same bits as this one, except in FFTW builds, where each
    process plans its FFTs by timing them (tests/python/CMakeLists.txt)."""
    if os.environ.get("MELSPEC_TEST_PLANS_VARY_ACROSS_PROCESSES"):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.max(np.abs(want)))
    else:
        np.testing.assert_array_equal(got, want)


def test_npy_shards_equal_the_single_machine_path(local_ray, clips, tmp_path):
    folder, paths = clips
    rows = melspec_ray.compute_features(folder, tmp_path, preset="realtime",
                                        output_format="npy", num_actors=2, batch_size=1)
    expected = single_machine(paths, "mel", 16000, melspec.presets.get("realtime").kwargs)
    assert [row["name"] for row in rows] == sorted(expected)
    features = melspec_ray.read_features(tmp_path)
    assert sorted(features) == sorted(expected)
    for row in rows:
        assert_same_as_here(features[row["name"]], expected[row["name"]])
        assert row["shape"] == expected[row["name"]].shape and row["dtype"] == "<f4"
        assert '"transform": "mel"' in row["config"] and '"n_mels": 80' in row["config"]
        assert os.path.isfile(tmp_path / (row["name"] + ".npy"))


def test_parquet_shards_with_a_cqt(local_ray, clips, tmp_path):
    _, paths = clips
    kwargs = dict(n_bins=36, output="magnitude")
    rows = melspec_ray.compute_features(paths[:3], tmp_path, transform="cqt", sr=22050,
                                        output_format="parquet", num_actors=1, **kwargs)
    expected = single_machine(paths[:3], "cqt", 22050, kwargs)
    features = melspec_ray.read_features(tmp_path)
    assert sorted(features) == sorted(expected) == [row["name"] for row in rows]
    for name, array in expected.items():
        assert_same_as_here(features[name], array)


def test_the_example_script(local_ray, clips, tmp_path, capsys):
    import importlib.util
    from conftest import REPO
    spec = importlib.util.spec_from_file_location(
        "ray_features", os.path.join(REPO, "examples", "ray_features.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    folder, paths = clips
    assert example.main([folder, str(tmp_path), "--preset", "realtime", "--n-mels", "40",
                         "--actors", "1"]) == 0
    expected = single_machine(paths, "mel", 16000,
                              dict(melspec.presets.get("realtime").kwargs, n_mels=40))
    printed = capsys.readouterr().out
    for name, array in expected.items():
        assert f"{name}: {array.shape}" in printed
        assert_same_as_here(np.load(tmp_path / f"{name}.npy"), array)


def test_bad_configurations_fail_before_ray_runs(tmp_path, clips):
    _, paths = clips
    with pytest.raises(melspec.InvalidArgumentError, match="fmax"):
        melspec_ray.compute_features(paths, tmp_path, sr=16000, fmax=9000.0)
    with pytest.raises(ValueError, match="same name"):
        melspec_ray.list_audio([paths[0], paths[0]])
    with pytest.raises(ValueError, match="output_format"):
        melspec_ray.compute_features(paths, tmp_path, output_format="csv")


def test_without_ray_init_a_local_ray_starts(clips, tmp_path):
    """As README's first call shows it: no ray.init() before (a new process, since this one's Ray
    runs); Ray's own APIs start a local Ray then, so does compute_features."""
    import subprocess
    import sys
    folder, paths = clips
    script = ("import sys, melspec.ray\n"
              "rows = melspec.ray.compute_features(sys.argv[1], sys.argv[2], num_actors=1,"
              " preset='realtime')\n"
              "print(sorted(row['name'] for row in rows))\n")
    done = subprocess.run([sys.executable, "-c", script, folder, str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    names = sorted(os.path.splitext(os.path.basename(p))[0] for p in paths)
    assert str(names) in done.stdout
    expected = single_machine(paths, "mel", 16000, melspec.presets.get("realtime").kwargs)
    features = melspec_ray.read_features(tmp_path)
    for name, array in expected.items():
        assert_same_as_here(features[name], array)
