"""requirements/dev.lock: `make test`'s venv is exactly the lock (every runtime, sim, dev and bench dependency)."""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
DEV_LOCK = REPO / "requirements" / "dev.lock"
sys.path.insert(0, str(REPO / "image"))
import lock_for_target  # noqa: E402  (the images' lock reader: the same pinned-and-hashed rule)


def _declared() -> list[Requirement]:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    lines = cfg["options"]["install_requires"].splitlines()
    for extra in ("sim", "dev", "bench"):
        lines += cfg["options.extras_require"][extra].splitlines()
    return [Requirement(line.strip()) for line in lines if line.strip() and not line.strip().startswith("#")]


def _pins() -> dict[str, str]:
    pins = {}
    for entry in lock_for_target.requirements(DEV_LOCK.read_text()):  # refuses an unpinned or unhashed line
        name, _, rest = entry.partition("==")
        pins[re.sub(r"[-_.]+", "-", name.strip().lower())] = rest.split(";")[0].split()[0]
    return pins


def test_the_dev_lock_pins_every_declared_dependency_with_hashes_within_its_range():
    pins = _pins()
    for req in _declared():
        name = re.sub(r"[-_.]+", "-", req.name.lower())
        assert name in pins, f"{req} is not in requirements/dev.lock: run make lock"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} is outside {req}"


def test_make_test_installs_exactly_the_lock_and_make_lock_refreshes_it():
    makefile = (REPO / "Makefile").read_text()
    stamp = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "--require-hashes -r requirements/dev.lock" in stamp
    assert "--no-deps -e ." in stamp and "-e '.[" not in stamp
    lock = makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]
    assert "--output-file requirements/runtime.lock" in lock and "--output-file requirements/dev.lock" in lock
