#!/usr/bin/env python3
"""Mel (or CQT) features of a folder of audio files with Ray Data: one melspec plan per actor.

    python examples/ray_features.py clips/ features/ --preset realtime            # a local Ray
    python examples/ray_features.py clips/ features/ --address auto --actors 16  # a cluster
    python examples/ray_features.py clips/ features/ --transform cqt --sr 22050 --format parquet

On a cluster, clips/ and features/ must be on storage every node sees and melspec installed on
every node (docs/ray.md). Prints one line per file: name, shape.
"""
import argparse
import sys

import melspec.ray


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", help="a folder of audio files (searched recursively)")
    parser.add_argument("output_dir")
    parser.add_argument("--preset", help="a melspec.presets name (realtime, whisper-80, ...)")
    parser.add_argument("--transform", choices=("mel", "cqt"))
    parser.add_argument("--sr", type=float, help="load rate (default: the configuration's)")
    parser.add_argument("--n-mels", type=int)
    parser.add_argument("--format", choices=("npy", "parquet"), default="npy")
    parser.add_argument("--actors", type=int, default=2, help="actor pool size (one plan each)")
    parser.add_argument("--gpus", type=float, help="GPUs per actor (default: 1 if the cluster "
                        "has GPUs, else 0)")
    parser.add_argument("--address", help="a Ray cluster's address ('auto'); default: local")
    args = parser.parse_args(argv)

    import ray
    if not ray.is_initialized():
        ray.init(address=args.address)
    kwargs = {} if args.n_mels is None else {"n_mels": args.n_mels}
    rows = melspec.ray.compute_features(
        args.inputs, args.output_dir, preset=args.preset, transform=args.transform, sr=args.sr,
        output_format=args.format, num_actors=args.actors, num_gpus=args.gpus, **kwargs)
    for row in rows:
        print(f"{row['name']}: {row['shape']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
