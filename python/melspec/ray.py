"""Features of many audio files with Ray Data: one melspec plan per actor, shards on disk.

    import ray, melspec.ray
    ray.init()                                   # or ray.init(address="auto") on a cluster
    melspec.ray.compute_features("clips/", "features/", preset="realtime", output_format="npy")
    features = melspec.ray.read_features("features/")   # {name: array}, without Ray

Each actor builds its plan once (a GPU actor, num_gpus=1, where the cluster has GPUs and the
library its CUDA backend; a CPU actor otherwise) and turns every file of its batches into
features: melspec.load (librosa.load's numbers) at the configuration's sample rate, then the
plan. The numbers are the single-machine ones: melspec.load(path, sr=sr) then the same plan.

Output (output_dir):
    output_format="npy":      <name>.npy per file, and manifest/*.parquet (one row per file)
    output_format="parquet":  *.parquet shards whose rows also hold the features
Every row has: path, name (the file's stem), shape, dtype, config (JSON: the transform, the
sample rate, the plan's keyword arguments, melspec's version); parquet rows add features (the
array's bytes, C order). read_features reads either back.

Ray is imported when a function here is called, not when melspec or this module is imported.
docs/ray.md says how the same call runs on a multi-node cluster.
"""
import json
import os

import numpy as np

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff", ".aif")


def list_audio(inputs):
    """The audio files of a directory (sorted, recursively) or a list of paths, as absolute
    paths; file names (stems) must be unique, as they name the outputs."""
    if isinstance(inputs, (str, os.PathLike)):
        root = os.fspath(inputs)
        if not os.path.isdir(root):
            raise FileNotFoundError(f"{root} is not a directory (pass a list for single files)")
        paths = sorted(os.path.join(folder, name) for folder, _, names in os.walk(root)
                       for name in names if name.lower().endswith(AUDIO_EXTENSIONS))
    else:
        paths = [os.fspath(path) for path in inputs]
    paths = [os.path.abspath(path) for path in paths]
    if not paths:
        raise ValueError(f"no audio files in {inputs!r} (extensions {AUDIO_EXTENSIONS})")
    names = [output_name(path) for path in paths]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"files with the same name would write the same output: {duplicates}")
    return paths


def output_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def _configuration(preset, transform, sr, plan_kwargs):
    """(transform, sample rate, plan keyword arguments) from a preset and/or explicit values."""
    kwargs = {}
    if preset is not None:
        from .presets import get
        chosen = get(preset)
        transform = chosen.transform if transform is None else transform
        kwargs.update(chosen.kwargs)
    kwargs.update(plan_kwargs)
    transform = transform or "mel"
    if transform not in ("mel", "cqt"):
        raise ValueError(f"transform = {transform!r}: 'mel' or 'cqt'")
    sr = kwargs.get("sr", 22050) if sr is None else sr
    kwargs["sr"] = sr
    return transform, sr, kwargs


def make_plan(transform, kwargs, device):
    """The plan an actor (or the single-machine path) uses: MelSpectrogram or CQT."""
    import melspec
    cls = melspec.CQT if transform == "cqt" else melspec.MelSpectrogram
    return cls(**kwargs, device=device)


class FeatureActor:
    """A Ray Data callable class: one plan for the actor's life, a batch of paths per call."""

    def __init__(self, transform, kwargs, device, output_dir, output_format, config_json):
        import melspec
        self._load = melspec.load
        self.plan = make_plan(transform, kwargs, device)
        self.sr = kwargs["sr"]
        self.output_dir, self.output_format, self.config = output_dir, output_format, config_json

    def __call__(self, batch):
        rows = {"path": [], "name": [], "shape": [], "dtype": [], "config": []}
        if self.output_format == "parquet":
            rows["features"] = []
        for path in batch["path"]:
            path = str(path)
            y, _ = self._load(path, sr=self.sr)
            features = np.ascontiguousarray(self.plan(y))
            name = output_name(path)
            if self.output_format == "npy":
                np.save(os.path.join(self.output_dir, name + ".npy"), features)
            else:
                rows["features"].append(features.tobytes())
            rows["path"].append(path)
            rows["name"].append(name)
            rows["shape"].append(np.asarray(features.shape, np.int64))
            rows["dtype"].append(features.dtype.str)
            rows["config"].append(self.config)
        return rows


def _start_ray_as_its_apis_do(ray):
    """ray.init() unless Ray runs or RAY_ENABLE_AUTO_CONNECT=0: what ray.get and Ray Data do
    when called first, and ray.cluster_resources, asked before them, does not."""
    if not ray.is_initialized() and os.environ.get("RAY_ENABLE_AUTO_CONNECT", "") != "0":
        ray.init()


def _gpu_actors(num_gpus):
    """GPUs per actor: the caller's choice, else 1 where Ray has GPUs and melspec its CUDA
    backend, else 0 (CPU actors)."""
    if num_gpus is not None:
        return num_gpus
    import ray
    import melspec
    _start_ray_as_its_apis_do(ray)
    if ray.cluster_resources().get("GPU", 0) >= 1 and melspec.backend_available("cuda")[0]:
        return 1
    return 0


def compute_features(inputs, output_dir, *, preset=None, transform=None, sr=None,
                     output_format="npy", num_actors=2, num_gpus=None, batch_size=8,
                     **plan_kwargs):
    """Features of every audio file in inputs (a directory or a list of paths) into output_dir.

    preset: a name from melspec.presets ("realtime", "whisper-80", "ccmusic-cqt", ...), whose
    values plan_kwargs override; or transform ("mel", the default, or "cqt") and the plan's
    keyword arguments (melspec.MelSpectrogram's or melspec.CQT's). sr: the rate the files are
    loaded at (default: the configuration's). num_actors: the actor pool's size (one plan
    each). num_gpus: GPUs per actor (None: 1 where the cluster has GPUs, else CPU actors).
    Returns the manifest rows (path, name, shape, dtype, config), sorted by name.

    Joins the Ray that runs, else starts a local one as Ray's own APIs do (ray.init(); not with
    RAY_ENABLE_AUTO_CONNECT=0). Blocks until every file is written.
    """
    import ray
    import ray.data
    import melspec

    if output_format not in ("npy", "parquet"):
        raise ValueError(f"output_format = {output_format!r}: 'npy' or 'parquet'")
    transform, sr, kwargs = _configuration(preset, transform, sr, plan_kwargs)
    paths = list_audio(inputs)
    output_dir = os.path.abspath(os.fspath(output_dir))
    os.makedirs(output_dir, exist_ok=True)
    make_plan(transform, kwargs, "cpu").close()  # a bad configuration fails here, not in actors
    gpus = _gpu_actors(num_gpus)
    device = "cuda" if gpus else "cpu"
    config = json.dumps({"transform": transform, "sr": sr, "kwargs": kwargs,
                         "melspec": melspec.__version__}, sort_keys=True, default=str)

    dataset = ray.data.from_items([{"path": path} for path in paths])
    features = dataset.map_batches(
        FeatureActor, batch_size=batch_size, batch_format="numpy",
        fn_constructor_kwargs=dict(transform=transform, kwargs=kwargs, device=device,
                                   output_dir=output_dir, output_format=output_format,
                                   config_json=config),
        compute=ray.data.ActorPoolStrategy(size=num_actors), num_gpus=gpus or None)
    target = output_dir if output_format == "parquet" else os.path.join(output_dir, "manifest")
    features.write_parquet(target)
    return sorted((_row(row) for row in _read_rows(target, with_features=False)),
                  key=lambda row: row["name"])


def _read_rows(folder, with_features):
    import pyarrow.parquet as pq
    columns = ["path", "name", "shape", "dtype", "config"] + (["features"] if with_features
                                                             else [])
    files = sorted(os.path.join(folder, name) for name in os.listdir(folder)
                   if name.endswith(".parquet"))
    for file in files:
        table = pq.read_table(file)
        present = [column for column in columns if column in table.column_names]
        yield from table.select(present).to_pylist()


def _row(row):
    row = dict(row)
    row["shape"] = tuple(int(d) for d in row["shape"])
    return row


def read_features(output_dir):
    """{name: array} of what compute_features wrote (either format), read without Ray."""
    output_dir = os.fspath(output_dir)
    manifest = os.path.join(output_dir, "manifest")
    result = {}
    if os.path.isdir(manifest):
        for row in _read_rows(manifest, with_features=False):
            result[row["name"]] = np.load(os.path.join(output_dir, row["name"] + ".npy"))
        return result
    for row in _read_rows(output_dir, with_features=True):
        row = _row(row)
        result[row["name"]] = np.frombuffer(row["features"], row["dtype"]).reshape(row["shape"])
    return result


__all__ = ["compute_features", "read_features", "list_audio", "make_plan", "FeatureActor",
           "AUDIO_EXTENSIONS"]
