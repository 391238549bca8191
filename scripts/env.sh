# Sourced by the scripts that run Python: the project's virtual environment (made by
# scripts/setup.sh) comes first on PATH, so CMake, ctest and the tests find its python3.
# shellcheck shell=bash
melspec_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export VIRTUAL_ENV="$melspec_root/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
unset PYTHONHOME
