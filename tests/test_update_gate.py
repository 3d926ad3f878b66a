"""The health gate (`kiosk-agent update gate`): commit a trial boot or roll it back.

Real processes: the gate runs as `python -m agent update gate` with stand-ins for
`rauc` and `systemctl` first on PATH (they log their calls and read their answers
from files the test writes), a real health.json, and a real loopback socket for the
gate's own reachability probe. Timeouts come from the config (1 s), not sleeps.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.mews import errors as mews_errors
from agent.runtime import health as hs
from agent.runtime.faults import offline_cause

REPO = Path(__file__).resolve().parents[1]


def _slot(bootname, state, boot_status, version):
    return {"rootfs.0" if bootname == "A" else "rootfs.1": {
        "class": "rootfs", "bootname": bootname, "state": state, "boot_status": boot_status,
        "slot_status": {"bundle": {"compatible": "kiosk-agent-x86-test", "version": version},
                        "installed": {"timestamp": f"2026-12-0{1 if bootname == 'A' else 5}T10:00:00Z",
                                      "count": 1}}}}


def _status(booted="B", primary="rootfs.0", a="good", b="bad"):
    """Default: a trial of B (RAUC's grub backend: B_TRY=1 makes B "bad" and A primary until mark-good)."""
    return {"compatible": "kiosk-agent-x86-test", "booted": booted, "boot_primary": primary,
            "slots": [_slot("A", "booted" if booted == "A" else "inactive", a, "1.0.0"),
                      _slot("B", "booted" if booted == "B" else "inactive", b, "1.1.0")]}


def _stand_in(path: Path, body: str):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


@pytest.fixture
def unit(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    _stand_in(bin_dir / "rauc", f'echo "rauc $*" >> "{calls}"\n'
              f'case "$1 $2" in "status --detailed") cat "{tmp_path}/status.json";; esac\n')
    # systemctl show prints what service.txt holds; reboot is only logged.
    _stand_in(bin_dir / "systemctl", f'echo "systemctl $*" >> "{calls}"\n'
              f'case "$1" in show) cat "{tmp_path}/service.txt";; esac\n')
    (tmp_path / "status.json").write_text(json.dumps(_status()))
    (tmp_path / "service.txt").write_text("ActiveState=active\nSubState=running\nNRestarts=0\n")

    def configure(platform="http://127.0.0.1:9"):
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'[mews]\nplatform_address = "{platform}"\nclient_token = "c"\naccess_token = "a"\n'
                       f'[agent]\nstate_dir = "{state}"\n[fleet]\nupdate_health_timeout = 1.0\n')
        return cfg

    def health(connection, cause="", clock_ok=True):
        hs.Health(connection=connection, offline_cause=cause, clock_ok=clock_ok,
                  offline_since=time.time() if connection == hs.OFFLINE else None,
                  updated_at=time.time() + 60).write(state / "health.json")  # fresh for the gate's whole run

    def gate(cfg=None):
        (tmp_path / "system.conf").write_text("[system]\ncompatible=kiosk-agent-pi\n")  # an A/B unit
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO),
               "KIOSK_RAUC_SYSTEM_CONF": str(tmp_path / "system.conf")}
        done = subprocess.run([sys.executable, "-m", "agent", "update", "gate", "--config", str(cfg or configure())],
                              capture_output=True, text=True, env=env, timeout=60)
        lines = calls.read_text().splitlines() if calls.exists() else []
        calls.unlink(missing_ok=True)
        return done, [c for c in lines if not c.startswith(("rauc status --detailed", "systemctl show"))]

    return tmp_path, configure, health, gate


def test_commits_a_trial_when_ready_and_online_and_later_boots_of_it_at_once(unit):
    tmp_path, configure, health, gate = unit
    health(hs.ONLINE)
    done, calls = gate()
    assert done.returncode == 0, done.stderr
    assert calls == ["rauc status mark-good"], done.stderr
    assert "commit" in done.stdout and "online" in done.stdout
    # RAUC's grub backend marks every boot a try: the next boot of the committed install is
    # confirmed at once, whatever the agent does (its update was judged already).
    (state := tmp_path / "state" / "health.json").unlink()
    (tmp_path / "service.txt").write_text("ActiveState=activating\nSubState=start\nNRestarts=0\n")
    done, calls = gate()
    assert done.returncode == 0 and calls == ["rauc status mark-good"], done.stderr
    assert "already committed" in done.stdout
    assert not state.exists()


def test_rolls_back_a_version_that_never_gets_ready(unit):
    tmp_path, configure, health, gate = unit
    (tmp_path / "service.txt").write_text("ActiveState=activating\nSubState=start\nNRestarts=0\n")
    done, calls = gate()
    assert done.returncode == 3, done.stderr
    assert calls == ["rauc status mark-bad", "systemctl reboot"]
    assert "never READY" in done.stdout


def test_rolls_back_a_crash_loop_before_the_timeout(unit):
    tmp_path, configure, health, gate = unit
    health(hs.ONLINE)  # it does get online between the crashes: still not a version to keep
    (tmp_path / "service.txt").write_text("ActiveState=activating\nSubState=auto-restart\nNRestarts=3\n")
    done, calls = gate()
    assert done.returncode == 3, done.stderr
    assert calls == ["rauc status mark-bad", "systemctl reboot"]
    assert "crash loop" in done.stdout and "restarted 3 times" in done.stdout


@pytest.mark.parametrize("cause", ["network", "platform"])
def test_commits_after_the_grace_period_when_the_network_is_down(unit, cause):
    tmp_path, configure, health, gate = unit
    health(hs.OFFLINE, cause=cause)  # no route / DNS / refused, or the platform's own 5xx: not the version's
    done, calls = gate()
    assert done.returncode == 0, done.stderr
    assert calls == ["rauc status mark-good"]
    assert f"offline ({cause})" in done.stdout


@pytest.mark.parametrize("connection,cause,clock_ok,action", [
    (hs.TOKEN_REJECTED, "", True, "rollback"), (hs.CONFIG_ERROR, "", True, "rollback"),
    (hs.OFFLINE, "protocol", True, "rollback"), (hs.OFFLINE, "auth", True, "rollback"),
    (hs.OFFLINE, "tls", True, "rollback"),
    (hs.OFFLINE, "tls", False, "commit"),  # the clock unset: no version could check certificates
    (hs.DISPLACED, "displaced", True, "commit"), (hs.OFFLINE, "network", True, "commit"),
    (hs.OFFLINE, "platform", True, "commit")])
def test_the_rule_for_a_ready_agent_that_is_not_online(connection, cause, clock_ok, action):
    from agent.fleet.health_gate import Look, Service, judge

    look = Look(Service("active", "running", 0), hs.Health(connection=connection, offline_cause=cause,
                                                             clock_ok=clock_ok))
    assert judge(look, expired=False).action == "wait"  # never before the deadline
    assert judge(look, expired=True, probe=lambda: pytest.fail("probed although the cause is known")).action == action


def test_unknown_cause_is_decided_by_the_gates_own_probe(unit):
    tmp_path, configure, health, gate = unit
    health(hs.OFFLINE)  # an agent that does not say why (or only its websocket is down)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connection refused
    done, calls = gate(configure(f"http://127.0.0.1:{port}"))
    assert done.returncode == 0 and calls == ["rauc status mark-good"], done.stdout + done.stderr
    assert "unreachable" in done.stdout
    (tmp_path / "state" / "update-gate.json").unlink()  # judge the same install again
    with socket.socket() as server:  # the platform answers this unit: the agent's offline is its own
        server.bind(("127.0.0.1", 0))
        server.listen()
        done, calls = gate(configure(f"http://127.0.0.1:{server.getsockname()[1]}"))
    assert done.returncode == 3 and calls == ["rauc status mark-bad", "systemctl reboot"], done.stdout


def test_no_trial_no_fallback_and_no_rauc(unit):
    tmp_path, configure, health, gate = unit
    (tmp_path / "status.json").write_text(json.dumps(_status(booted="A", primary="rootfs.0", b="good")))
    done, calls = gate()
    assert done.returncode == 0 and calls == [] and "not a trial" in done.stdout
    # A trial with no good slot to go back to is committed at once: marking it bad would leave none.
    (tmp_path / "status.json").write_text(json.dumps(_status(booted="A", primary="", a="bad", b="bad")))
    (tmp_path / "service.txt").write_text("ActiveState=activating\nSubState=start\nNRestarts=0\n")
    done, calls = gate()
    assert done.returncode == 0 and calls == ["rauc status mark-good"], done.stdout
    assert "no good slot to go back to" in done.stdout
    (tmp_path / "bin" / "rauc").unlink()
    env_path = f"{tmp_path / 'bin'}{os.pathsep}/nonexistent"
    done = subprocess.run([sys.executable, "-m", "agent", "update", "gate", "--config", str(configure())],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": env_path, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0 and "single-slot" in done.stdout, done.stderr


@pytest.mark.parametrize("error,cause", [
    (mews_errors.Retryable("commands/getAllActive: network error: ConnectionRefusedError: refused"), "network"),
    (mews_errors.Retryable("network error: gaierror: [Errno -3] Temporary failure in name resolution"), "network"),
    (mews_errors.Retryable("network error: SSLCertVerificationError: certificate verify failed"), "tls"),
    (mews_errors.Retryable("server error", 503), "platform"),
    (mews_errors.RateLimited("slow down"), "platform"),
    (mews_errors.Displaced("another client"), "displaced"),
    (mews_errors.TokenRejected("nope", 401), "auth"),
    (mews_errors.Unauthorized("nope", 401), "auth"),
    (mews_errors.InvalidResponse("not JSON", 200), "protocol"),
    (mews_errors.BadRequest("bad", 400), "protocol"),
    (ConnectionResetError("reset"), "network"),
    (ValueError("a bug"), "protocol"),
])
def test_offline_cause_classifies_platform_faults(error, cause):
    assert offline_cause(error) == cause


def test_the_drain_records_why_it_is_offline_and_clears_it_online():
    from agent.runtime.loop import DrainLoop

    class Client:
        fail: Exception | None = mews_errors.Retryable("network error: OSError: [Errno 101] Network is unreachable")

        def get_all_active_commands(self):
            if self.fail:
                raise self.fail
            return []

    class Dispatcher:
        def offer(self, commands, complete=True):
            return 0

    health = hs.Health()
    loop = DrainLoop(Client(), Dispatcher(), health, poll_interval=1.0)
    loop.drain()
    assert loop.connection_state() == hs.OFFLINE and health.offline_cause == "network"
    loop.client.fail = None
    loop.drain()
    assert loop.connection_state() == hs.ONLINE and health.offline_cause == ""


def test_gate_unit_verifies_and_install_sh_enables_it(tmp_path):
    from tests.image_harness import FILES, SYSTEM_UNITS, SYSTEMD_ANALYZE, make_root, verify

    install = (REPO / "image" / "install.sh").read_text()
    assert '"$FILES/kiosk-update-gate.service"' in install and "systemctl enable kiosk-update-gate.service" in install
    unit = (FILES / "kiosk-update-gate.service").read_text()
    assert "kiosk-agent update gate --config /etc/kiosk-agent/config.toml" in unit
    if SYSTEMD_ANALYZE is None or SYSTEM_UNITS is None:
        pytest.skip("systemd-analyze or the system's unit files are not installed")
    root = make_root(tmp_path)
    (root / "etc/systemd/system/kiosk-update-gate.service").write_text(unit)
    done = verify(root, "kiosk-update-gate.service")
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr
