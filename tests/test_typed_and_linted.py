"""agent, hal, common and boards stay typed (mypy) and linted (ruff): a new error fails make test.

Both tools run as the venv's own programs with the settings in pyproject.toml (mypy's
incremental cache in the git-ignored .mypy_cache, so a rerun checks only what changed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHECKED = ("agent", "hal", "common", "boards")


def _run(tool: str, *args: str) -> subprocess.CompletedProcess:
    program = BIN / tool
    if not program.exists():
        pytest.fail(f"{program} is missing: install the dev extra (make .venv/.installed)")
    return subprocess.run([str(program), *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_mypy_finds_no_error():
    done = _run("mypy")  # packages, cache and per-library settings: [tool.mypy] in pyproject.toml
    assert done.returncode == 0, f"mypy:\n{done.stdout}{done.stderr}"


def test_ruff_finds_no_error():
    done = _run("ruff", "check", "--no-fix", "--output-format", "concise", *CHECKED)
    assert done.returncode == 0, f"ruff:\n{done.stdout}{done.stderr}"
