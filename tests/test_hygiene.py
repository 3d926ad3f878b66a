"""The suite's own rules: a skip never hides our ImportError; test modules share code through harnesses and conftests."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
OURS = ("agent", "hal", "common", "boards", "sim", "tests")


def _modules():
    return [p for p in TESTS.rglob("*.py") if "vendor" not in p.parts]


def test_no_skip_guard_hides_an_import_error_of_our_own_code():
    guard = re.compile(r"importorskip\(\s*[\"']([\w.]+)[\"']")
    hidden = [f"{p.relative_to(TESTS)}: {m}" for p in _modules() for m in guard.findall(p.read_text())
              if m.split(".")[0] in OURS]
    assert hidden == []



def test_test_modules_never_import_from_each_other():
    cross = re.compile(r"^\s*(?:from\s+tests(?:\.\w+)*\.(test_\w+)\s+import|import\s+tests(?:\.\w+)*\.(test_\w+))", re.M)
    found = [f"{p.relative_to(TESTS)} <- {a or b}" for p in _modules() for a, b in cross.findall(p.read_text())]
    assert found == []  # shared helpers live in *_harness.py, shared fixtures in a conftest.py
