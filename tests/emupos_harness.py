"""emupos, an ESC/POS printer emulator we did not write, as a test peer.

emupos (PyPI, Apache-2.0) needs Python 3.13; the agent runs on 3.11. So it
lives in a venv of its own, ``.venv-emupos`` at the repository root, made once
with the 3.13 interpreter pyenv provides (or any ``python3.13`` on PATH) and
reused afterwards; the version is pinned (``VERSION``). When it cannot be
made, the tests skip and say why.

One emupos process serves one printer ("front", Epson TM-T20III profile, 576
dots) on a pty (published as ``$TMPDIR/emupos/front``) and on TCP, with its
control API on a free port: its default 8765 is the kiosk's default too.
Receipts are read from its receipts folder as PNG.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-emupos"
DEVICE = "front"
VERSION = "0.4.0"  # pinned: the pixel comparison is against this emulator's rendering


def _python313() -> str | None:
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))
    return found[-1] if found else shutil.which("python3.13")


def ensure_venv() -> tuple[Path | None, str]:
    """The emupos executable, or None and why not."""
    exe = VENV / "bin" / "emupos"
    if exe.exists():
        return exe, ""
    python = _python313()
    if python is None:
        return None, "emupos needs Python 3.13: none found (~/.pyenv/versions/3.13*, python3.13 on PATH)"
    try:
        subprocess.run([python, "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=120)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", f"emupos=={VERSION}"], check=True,
                       capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as e:
        shutil.rmtree(VENV, ignore_errors=True)
        detail = getattr(e, "stderr", b"") or b""
        return None, f"cannot install emupos into {VENV}: {e} {detail.decode(errors='replace')[-300:]}"
    return (exe, "") if exe.exists() else (None, "emupos installed without its `emupos` command")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmuPos:
    """A running emupos with one printer on a pty and on TCP."""

    def __init__(self, exe: Path, workdir: Path):
        self.workdir = workdir
        self.tcp_port, self.api_port = free_port(), free_port()
        self.receipts = workdir / "receipts"
        self.pty_link = workdir / "emupos" / DEVICE
        config = workdir / "emupos.yaml"
        config.write_text(
            "schema: 1\n"
            f"api: {{ host: 127.0.0.1, port: {self.api_port} }}\n"
            "devices:\n"
            f"  - id: {DEVICE}\n"
            "    type: printer\n"
            "    profile: epson-tm-t20iii\n"
            f"    receipts_dir: {self.receipts}\n"
            "    connections:\n"
            f"      - tcp: {{ host: 127.0.0.1, port: {self.tcp_port} }}\n"
            f"      - serial: {{ pty: true, link: {DEVICE} }}\n")
        self.log = open(workdir / "emupos.log", "wb")
        env = dict(os.environ, TMPDIR=str(workdir), NO_COLOR="1")
        self.proc = subprocess.Popen([str(exe), "run", "--config", str(config)], cwd=workdir, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_ready(20.0)

    @property
    def tcp_url(self) -> str:
        return f"tcp://127.0.0.1:{self.tcp_port}"

    def _wait_ready(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emupos exited: {(self.workdir / 'emupos.log').read_text()[-500:]}")
            try:
                self._api("GET", "/health")
                if self.pty_link.exists():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("emupos did not start within 20 s")

    def _api(self, method: str, path: str):
        req = urllib.request.Request(f"http://127.0.0.1:{self.api_port}/api/v1{path}", method=method)
        with urllib.request.urlopen(req, timeout=5) as r:
            body = r.read()
        return json.loads(body) if body else None

    def fault(self, name: str, active: bool = True) -> None:
        """paper-near-end, paper-out, cover-open, offline: as a person at the printer would."""
        self._api("PUT" if active else "DELETE", f"/devices/{DEVICE}/faults/{name}")

    def receipt_count(self) -> int:
        return len(list(self.receipts.glob(f"{DEVICE}-*.json")))

    def next_receipt(self, before: int, timeout: float = 10.0) -> Path:
        """The PNG of the receipt completed after there were ``before``."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            metas = sorted(self.receipts.glob(f"{DEVICE}-*.json"))
            if len(metas) > before:
                return metas[-1].with_suffix(".png")
            time.sleep(0.05)
        raise AssertionError(f"emupos completed no receipt within {timeout:g} s")

    def send_tcp(self, data: bytes) -> None:
        with socket.create_connection(("127.0.0.1", self.tcp_port), timeout=5) as s:
            s.sendall(data)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
