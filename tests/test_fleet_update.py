"""`kiosk-agent update status|install|mark-good` and doctor's software line, with a stand-in `rauc` on PATH."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.fleet import rauc
from agent.fleet.versions import record_start
from agent.runtime.store import Store

REPO = Path(__file__).resolve().parents[1]

STATUS = {
    "compatible": "kiosk-agent-pi", "variant": "", "booted": "B", "boot_primary": "rootfs.0",
    "slots": [
        {"rootfs.0": {"class": "rootfs", "device": "/dev/mmcblk0p5", "type": "ext4", "bootname": "A",
                      "state": "inactive", "parent": None, "mountpoint": None, "boot_status": "good",
                      "slot_status": {"bundle": {"compatible": "kiosk-agent-pi", "version": "1.2.0"},
                                      "installed": {"timestamp": "2026-11-01T10:00:00Z", "count": 1}}}},
        {"boot.1": {"class": "boot", "device": "/dev/mmcblk0p3", "type": "vfat", "state": "inactive"}},
        {"rootfs.1": {"class": "rootfs", "device": "/dev/mmcblk0p6", "type": "ext4", "bootname": "B",
                      "state": "booted", "parent": None, "mountpoint": "/", "boot_status": "good",
                      "slot_status": {"bundle": {"compatible": "kiosk-agent-pi", "version": "1.3.0"},
                                      "installed": {"timestamp": "2026-12-05T22:00:00Z", "count": 2}}}},
    ],
}


@pytest.fixture
def unit(tmp_path, monkeypatch):
    """A config, a state folder and a bin folder first on PATH for the stand-in rauc."""
    state = tmp_path / "state"
    store = Store(state)
    record_start(store, "1.2.0", "A", clock=lambda: 1_700_000_000.0)
    record_start(store, "1.3.0", "B", clock=lambda: 1_764_972_000.0)
    store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\nclient_token = "c"\naccess_token = "a"\n'
                   f'[agent]\nstate_dir = "{state}"\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "status.json").write_text(json.dumps(STATUS))
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO),
           "KIOSK_TRYBOOT_BACKEND": str(bin_dir / "tryboot-backend"),
           "KIOSK_RAUC_SYSTEM_CONF": str(tmp_path / "system.conf")}
    (tmp_path / "system.conf").write_text("[system]\ncompatible=kiosk-agent-pi\n")
    monkeypatch.setenv("PATH", env["PATH"])
    monkeypatch.setenv("KIOSK_RAUC_SYSTEM_CONF", env["KIOSK_RAUC_SYSTEM_CONF"])
    return tmp_path, cfg, bin_dir, env


def _stand_in(bin_dir, name, body):
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def _rauc(tmp_path, bin_dir, rc=0, err=""):
    log = tmp_path / "rauc.log"
    _stand_in(bin_dir, "rauc", f'echo "$*" >> "{log}"\n'
              f'case "$1 $2" in "status --detailed") cat "{tmp_path}/status.json";; '
              f'"status mark-good") echo "marked slot rootfs.1 as good";; esac\n'
              + (f'echo "{err}" >&2\n' if err else "") + f"exit {rc}\n")
    return log


def _update(cfg, env, *args):
    return subprocess.run([sys.executable, "-m", "agent", "update", *args, "--config", str(cfg)],
                          capture_output=True, text=True, env=env, timeout=60)


def test_status_without_rauc_says_so(unit):
    tmp_path, cfg, bin_dir, env = unit
    # Only the empty stand-in folder on PATH (the agent runs as sys.executable): CI installs rauc.
    env = {**env, "PATH": str(bin_dir)}
    out = _update(cfg, env, "status")
    assert out.returncode == 0, out.stderr
    assert "rauc is not installed" in out.stdout and "version:" in out.stdout
    assert "last update:  2025-12-05 22:00 UTC to 1.3.0" in out.stdout
    out = _update(cfg, env, "mark-good")
    assert out.returncode == 1 and "rauc is not installed" in out.stderr


def test_status_reads_rauc_json_slot_version_and_trial(unit):
    tmp_path, cfg, bin_dir, env = unit
    log = _rauc(tmp_path, bin_dir)
    out = _update(cfg, env, "status", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["rauc"] and info["slot"] == "B" and info["primary"] == "A" and info["trial"]
    assert [s["bootname"] for s in info["slots"]] == ["A", "B"]  # the boot slots are not listed
    assert info["slots"][1]["bundle_version"] == "1.3.0" and not info["rollback"]
    assert log.read_text().splitlines() == ["status --detailed --output-format=json"]
    text = _update(cfg, env, "status").stdout
    assert "this boot is a trial" in text and "bundle 1.3.0" in text


def test_install_and_mark_good_call_rauc_and_report_its_failure(unit):
    tmp_path, cfg, bin_dir, env = unit
    log = _rauc(tmp_path, bin_dir)
    reboots = tmp_path / "reboots"
    _stand_in(bin_dir, "tryboot-backend", f'echo "$*" >> "{reboots}"\n')
    assert _update(cfg, env, "install", "https://updates.example/kiosk-1.4.0.raucb").returncode == 0
    assert not reboots.exists()  # only with --reboot
    assert _update(cfg, env, "install", "https://updates.example/kiosk-1.4.0.raucb", "--reboot").returncode == 0
    assert reboots.read_text().splitlines() == ["reboot"]
    out = _update(cfg, env, "mark-good")
    assert out.returncode == 0 and "marked slot rootfs.1 as good" in out.stdout
    assert log.read_text().splitlines() == ["install https://updates.example/kiosk-1.4.0.raucb"] * 2 + ["status mark-good"]
    _rauc(tmp_path, bin_dir, rc=1, err="signature verification failed: certificate not trusted")
    out = _update(cfg, env, "install", "/tmp/evil.raucb", "--reboot")
    assert out.returncode == 1 and "signature verification failed" in out.stderr
    assert reboots.read_text().splitlines() == ["reboot"]  # a refused bundle never reboots
    assert _update(cfg, env, "install").returncode == 2  # no URL and no fleet.update_url


def test_garbage_from_rauc_is_an_error_not_a_crash(unit):
    tmp_path, cfg, bin_dir, env = unit
    (tmp_path / "status.json").write_text("Booted from: rootfs.1 (B)")  # text output, not JSON
    _rauc(tmp_path, bin_dir)
    out = _update(cfg, env, "status")
    assert out.returncode == 1 and "no JSON" in out.stdout
    with pytest.raises(rauc.RaucError):
        rauc.parse_status("[1, 2]")


def test_doctor_shows_slot_version_last_update_and_rollback(unit):
    from agent.config import load
    from agent.doctor.fleet import check_software

    tmp_path, cfg, bin_dir, env = unit
    _rauc(tmp_path, bin_dir)
    result = check_software(load(str(cfg)))
    assert result.status == "OK", result
    assert "slot B" in result.detail and "TRIAL boot" in result.detail and "last update 2025-12-05" in result.detail
    assert "no rollback" in result.detail
    store = Store(tmp_path / "state")
    record_start(store, "1.2.0", "A")  # the trial failed: back on A with the older version
    store.close()
    result = check_software(load(str(cfg)))
    assert "ROLLED BACK" in result.detail
