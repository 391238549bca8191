"""The Python example runs as documented."""
import os

from conftest import REPO, run_python


def test_python_example_runs():
    with open(os.path.join(REPO, "examples", "python_example.py")) as f:
        child = run_python(f.read())
    assert child.returncode == 0, child.stderr
    assert "melspectrogram: shape (80, 101) float32" in child.stdout
    assert "chunk -> (80, 21)" in child.stdout
    assert "is NaN (MELSPEC_ERROR_NON_FINITE_INPUT)" in child.stdout
