"""`python -m melspec [--version | --json]`: which library was loaded and which backends work.

The first thing to run after `pip install`: it says where libmelspec.so came from and, for CUDA,
either the plugin and device count or the reason it is not usable (no plugin in this build,
libcudart missing, no driver, no device).
"""
import argparse
import json
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m melspec",
                                     description="melspec: the library and backends found here")
    parser.add_argument("--version", action="store_true",
                        help="versions, library path and backends (the default)")
    parser.add_argument("--json", action="store_true", help="the same as JSON (melspec.info())")
    args = parser.parse_args(argv)
    try:
        import melspec
    except ImportError as error:  # the loader's message says what was tried
        print(f"melspec: {error}", file=sys.stderr)
        return 1
    found = melspec.info()
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    print(f"melspec {found['version']} (libmelspec {found['library_version']}: "
          f"{found['library_path']})")
    for name, backend in found["backends"].items():
        state = "available" if backend["available"] else "unavailable"
        print(f"  {name}: {state}: {backend['reason']}")
    print(f"  CUDA devices: {found['cuda_device_count']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
