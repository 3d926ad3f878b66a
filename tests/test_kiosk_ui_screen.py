"""The image's kiosk screen (image/.../kiosk-screen) starts cage + Chromium on the kiosk UI.

Runs the real script on the host with cage's headless backend (WLR_BACKENDS=headless,
software renderer) as an unprivileged user, and asks Chromium's remote-debugging
port which page it shows.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from sim.serving import free_port
from tests.kiosk_ui_browser import STATIC

SCRIPT = Path(__file__).resolve().parents[1] / "image" / "stage-kiosk" / "00-kiosk-agent" / "files" / "kiosk-screen"
TOKEN = "screen-token-0123456789abcdef"


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


class _Recording(http.server.SimpleHTTPRequestHandler):
    """The static UI as the agent routes it, and every /api/ request's X-Kiosk-Screen recorded."""

    seen: list = []

    def translate_path(self, path):
        path = path.split("?", 1)[0]
        path = "/index.html" if path == "/" else path[len("/static"):] if path.startswith("/static/") else path
        return super().translate_path(path)

    def do_GET(self):
        if not self.path.startswith("/api/"):
            return super().do_GET()
        self.seen.append((self.path, self.headers.get("X-Kiosk-Screen")))
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": {"id": "error.forbidden", "params": {}}}')

    def log_message(self, *args):
        pass


def test_prepare_hands_the_screen_only_listen_and_token(tmp_path):
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    config = tmp_path / "config.toml"
    config.write_text(f'[mews]\nconnector_token = "MEWS-SECRET"\n[kiosk]\nenabled = true\nlisten = "0.0.0.0:8765"\n'
                      f'screen_token = "{TOKEN}"\n')
    env = {**os.environ, "KIOSK_AGENT_CONFIG": str(config), "RUNTIME_DIRECTORY": str(run), "WLR_BACKENDS": "headless"}
    assert subprocess.run(["bash", str(SCRIPT), "--prepare"], env=env, capture_output=True).returncode == 0
    settings = run / "screen.conf"
    assert settings.read_text() == f"0.0.0.0:8765\n{TOKEN}\n"  # nothing else of the config
    assert settings.stat().st_mode & 0o777 == 0o600 and settings.stat().st_uid == run.stat().st_uid
    config.write_text(config.read_text().replace(TOKEN, "short"))
    bad = subprocess.run(["bash", str(SCRIPT), "--prepare"], env=env, capture_output=True)
    assert bad.returncode == 1 and b"screen_token is not valid" in bad.stderr and b"short" not in bad.stderr


@pytest.mark.parametrize("token", ["", TOKEN], ids=["no-token", "screen-token"])
def test_screen_starts_and_chromium_shows_the_kiosk_page(token):
    for tool in ("cage", "chromium", "Xwayland"):
        if not shutil.which(tool):
            pytest.skip(f"kiosk screen start test needs {tool} (apt-get install cage chromium xwayland)")
    if os.geteuid() != 0:
        pytest.skip("runs the screen as the unprivileged user nobody: needs root to switch to it")
    nobody = pwd.getpwnam("nobody")
    tmp_path = Path(tempfile.mkdtemp(prefix="kiosk-screen-"))  # pytest's tmp is closed to nobody
    seen = _Recording.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Recording, directory=str(STATIC)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    run, state = tmp_path / "run", tmp_path / "state"
    for d in (run, state):
        d.mkdir(mode=0o700)
        os.chown(d, nobody.pw_uid, nobody.pw_gid)
    tmp_path.chmod(0o755)
    config = tmp_path / "config.toml"
    config.write_text(f'[kiosk]\nenabled = true\nlisten = "{base.removeprefix("http://")}"\n'
                      + (f'screen_token = "{token}"\n' if token else ""))
    config.chmod(0o644)
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(state), "KIOSK_AGENT_CONFIG": str(config), "WLR_BACKENDS": "headless",
           "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1", "XDG_RUNTIME_DIR": str(run), "STATE_DIRECTORY": str(state),
           "KIOSK_SCREEN_CHROMIUM_ARGS": f"--remote-debugging-port={port}"}
    proc = subprocess.Popen(["runuser", "-u", "nobody", "--", "env", *[f"{k}={v}" for k, v in env.items()], "bash", str(SCRIPT)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        urls, deadline = [], time.monotonic() + 90
        while time.monotonic() < deadline and (base + "/" not in urls or not seen):
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2) as answer:
                    urls = [page["url"] for page in json.load(answer) if page.get("type") == "page"]
            except OSError:
                pass
            time.sleep(0.2)
        assert base + "/" in urls, urls  # the page, and with a token: the token gone from its address
        assert seen and seen[0] == ("/api/config", token or None), seen  # presented on the API call
        if token:
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    assert token.encode() not in cmdline.read_bytes(), "the screen token is on a command line"
                except OSError:
                    pass  # the process ended meanwhile
            launcher = run / "kiosk-start.html"
            assert launcher.stat().st_mode & 0o077 == 0 and launcher.stat().st_uid == nobody.pw_uid
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        server.shutdown()
        shutil.rmtree(tmp_path, ignore_errors=True)
