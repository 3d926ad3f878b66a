"""The image's kiosk screen (image/.../kiosk-screen) starts cage + Chromium on the kiosk UI.

Runs the real script on the host with cage's headless backend (WLR_BACKENDS=headless,
software renderer) as an unprivileged user, and asks Chromium's remote-debugging
port which page it shows.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from sim.serving import free_port
from tests.kiosk_ui_browser import serve_static

SCRIPT = Path(__file__).resolve().parents[1] / "image" / "stage-kiosk" / "00-kiosk-agent" / "files" / "kiosk-screen"


def test_check_refuses_when_the_kiosk_is_not_enabled(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[kiosk]\nenabled = false\n")
    env = {**os.environ, "KIOSK_AGENT_CONFIG": str(config), "WLR_BACKENDS": "headless"}
    assert subprocess.run(["bash", str(SCRIPT), "--check"], env=env, capture_output=True).returncode == 1
    config.write_text("[kiosk]\nenabled = true\n")
    assert subprocess.run(["bash", str(SCRIPT), "--check"], env=env, capture_output=True).returncode == 0
    env.pop("WLR_BACKENDS")
    no_display = subprocess.run(["bash", str(SCRIPT), "--check"], env={**env, "KIOSK_TEST_NO_DRM": "1"}, capture_output=True)
    if not any(Path("/sys/class/drm").glob("card*-*/status")):
        assert no_display.returncode == 1 and b"no display" in no_display.stderr


def test_screen_starts_and_chromium_shows_the_kiosk_page():
    for tool in ("cage", "chromium", "Xwayland"):
        if not shutil.which(tool):
            pytest.skip(f"kiosk screen start test needs {tool} (apt-get install cage chromium xwayland)")
    if os.geteuid() != 0:
        pytest.skip("runs the screen as the unprivileged user nobody: needs root to switch to it")
    nobody = pwd.getpwnam("nobody")
    tmp_path = Path(tempfile.mkdtemp(prefix="kiosk-screen-"))  # pytest's tmp is closed to nobody
    server, base = serve_static()
    run, state = tmp_path / "run", tmp_path / "state"
    for d in (run, state):
        d.mkdir(mode=0o700)
        os.chown(d, nobody.pw_uid, nobody.pw_gid)
    tmp_path.chmod(0o755)
    config = tmp_path / "config.toml"
    config.write_text(f'[kiosk]\nenabled = true\nlisten = "{base.removeprefix("http://")}"\n')
    config.chmod(0o644)
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(state), "KIOSK_AGENT_CONFIG": str(config), "WLR_BACKENDS": "headless",
           "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1", "XDG_RUNTIME_DIR": str(run), "STATE_DIRECTORY": str(state),
           "KIOSK_SCREEN_CHROMIUM_ARGS": f"--remote-debugging-port={port}"}
    proc = subprocess.Popen(["runuser", "-u", "nobody", "--", "env", *[f"{k}={v}" for k, v in env.items()], "bash", str(SCRIPT)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        urls, deadline = [], time.monotonic() + 90
        while time.monotonic() < deadline and base + "/" not in urls:
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2) as answer:
                    urls = [page["url"] for page in json.load(answer) if page.get("type") == "page"]
            except OSError:
                time.sleep(0.5)
        assert base + "/" in urls, urls
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        server.shutdown()
        shutil.rmtree(tmp_path, ignore_errors=True)
