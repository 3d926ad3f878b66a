"""Shared by the image tests: our systemd units checked offline with ``systemd-analyze verify --root``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FILES = REPO / "image" / "stage-kiosk" / "00-kiosk-agent" / "files"
UNITS = ["kiosk-agent.service", "kiosk-firstboot.service"]
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
SYSTEM_UNITS = next((p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
                     if (p / "sysinit.target").exists()), None)


def make_root(tmp_path: Path) -> Path:
    """A root for ``systemd-analyze --root``: the system's units, ours, stub binaries."""
    root = tmp_path / "root"
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for name in UNITS:
        shutil.copy(FILES / name, root / "etc/systemd/system" / name)
    for binary in ("opt/kiosk-agent/bin/kiosk-agent", "usr/local/sbin/kiosk-firstboot"):
        path = root / binary
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return root


def verify(root: Path, name: str) -> subprocess.CompletedProcess:
    return subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", f"--root={root}", name],
                          capture_output=True, text=True, timeout=60)
