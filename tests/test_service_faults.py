"""Issue 21 item 12: a kiosk (or POS) service that cannot start is loud.

Another program holds the kiosk's port (its page would be on the guest's screen): the
running agent says so in ``status --json``, systemd's ``STATUS=``, the OLED's frame and
``doctor`` (FAIL, exit 1), instead of reporting healthy.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from agent.cli import main as cli_main
from agent.runtime.health import Health
from agent.runtime.sdnotify import Notifier
from agent.panel.screens import choose
from sim.mews.server import MewsSimulator
from tests.agent_harness import AgentThread, wait_until, write_config


@pytest.fixture(scope="module")
def sim():
    with MewsSimulator(rate_limit=False) as s:
        yield s


@pytest.fixture
def taken_port():
    """A loopback port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        yield other.getsockname()[1]


def kiosk_config(tmp_path, sim, port: int, extra: str = ""):
    return write_config(tmp_path, sim, mode="poll",
                        extra=f'[kiosk]\nenabled = true\nlisten = "127.0.0.1:{port}"\nhotel_name = "H"\n{extra}')


def notify_socket(tmp_path):
    path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(5.0)
    return s, path


def datagrams(s) -> list[str]:
    out = []
    s.settimeout(0.05)
    while True:
        try:
            out.append(s.recv(4096).decode())
        except OSError:
            return out


def test_a_kiosk_port_taken_by_another_program_is_reported_everywhere(tmp_path, sim, taken_port, capsys):
    config = kiosk_config(tmp_path, sim, taken_port)
    listening, path = notify_socket(tmp_path)
    fault = f"cannot listen on 127.0.0.1:{taken_port}: address in use"
    with listening, AgentThread(config, notifier=Notifier({"NOTIFY_SOCKET": path})) as agent:
        # systemd's STATUS= (the first datagram is READY=1 with the status line)
        ready = listening.recv(4096).decode()
        assert "READY=1" in ready and f"kiosk: {fault}" in ready, ready
        # the health snapshot, as `status --json` prints it
        wait_until(lambda: (agent.cfg.state_dir / "health.json").exists(), what="health.json")
        out = subprocess.run([sys.executable, "-m", "agent", "status", "--json", "--config", str(config)],
                             capture_output=True, text=True, timeout=60)
        assert json.loads(out.stdout)["services"] == {"kiosk": fault}, out.stdout + out.stderr
        text = subprocess.run([sys.executable, "-m", "agent", "status", "--config", str(config)],
                              capture_output=True, text=True, timeout=60).stdout
        assert f"kiosk:        {fault}" in text, text
        # the OLED: the fault, not a healthy ONLINE
        frame = choose(agent.health, time.time())
        assert frame.name == "service" and "KIOSK" in frame.text
        assert "address in use" in " ".join(frame.text.split()), frame.text
        assert any(f"kiosk: {fault}" in d for d in datagrams(listening) + [agent.health.status_line()])
        # doctor, with the agent running: FAIL with a fix, exit 1
        capsys.readouterr()
        code = cli_main(["doctor", "--config", str(config)])
        lines = capsys.readouterr().out.splitlines()
        kiosk = [line for line in lines if line.split()[1:2] == ["kiosk"]]
        assert code == 1 and kiosk and kiosk[0].startswith("FAIL") and "address in use" in kiosk[0], lines


def test_a_kiosk_that_listens_is_ok(tmp_path, sim):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = kiosk_config(tmp_path, sim, port)
    with AgentThread(config) as agent:
        wait_until(lambda: agent.health.services.get("kiosk") == "ok", what="kiosk ok")
        assert "kiosk" not in agent.health.status_line()
        assert choose(agent.health, time.time()).name != "service"


def test_doctor_without_the_agent_tries_the_kiosk_address(tmp_path, sim, taken_port, capsys):
    config = kiosk_config(tmp_path, sim, taken_port)
    code = cli_main(["doctor", "--config", str(config)])
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.split()[1:2] == ["kiosk"])
    assert code == 1 and line.startswith("FAIL") and f"127.0.0.1:{taken_port}" in line and "in use" in line, out
    assert "-> " in out.split(line, 1)[1].splitlines()[1]  # a fix follows
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    config = kiosk_config(tmp_path, sim, free)
    cli_main(["doctor", "--config", str(config)])
    line = next(line for line in capsys.readouterr().out.splitlines() if line.split()[1:2] == ["kiosk"])
    assert line.startswith("OK"), line


def test_a_pos_service_that_cannot_start_is_reported(tmp_path, sim, monkeypatch):
    from agent.pos import service as pos_service

    def broken(cfg, health):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pos_service.PosService, "from_config", classmethod(lambda cls, cfg, h, jobs=None: broken(cfg, h)))
    config = write_config(tmp_path, sim, mode="poll", extra='[pos]\ninstance = "v"\napi_key = "K-123456"\n')
    with AgentThread(config) as agent:
        wait_until(lambda: agent.health.updated_at, what="health")
        assert agent.health.services["pos"].startswith("unavailable: ")
        assert "pos: unavailable" in agent.health.status_line()
        assert choose(agent.health, time.time()).name == "service"


def test_old_health_snapshots_without_services_still_read(tmp_path):
    data = Health().to_json()
    data.pop("services")
    (tmp_path / "health.json").write_text(json.dumps(data))
    assert Health.read(tmp_path / "health.json").services == {}
    assert os.path.exists(tmp_path / "health.json")


def test_the_running_agent_drives_its_front_panel(tmp_path, sim):
    """The composition root builds the OLED's front panel from [display] (an import slip once left it None)."""
    config = write_config(tmp_path, sim, mode="poll", extra=f'[display]\ndriver = "png"\nframes_dir = "{tmp_path / "frames"}"\n')
    with AgentThread(config) as agent:
        wait_until(lambda: agent.health.updated_at, what="health")
        assert agent.frontpanel is not None
