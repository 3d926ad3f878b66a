"""First-boot config import (agent/fleet/firstboot.py and the shell glue) against a temp directory tree."""

from __future__ import annotations

import getpass
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from agent.fleet import firstboot

REPO = Path(__file__).resolve().parents[1]
FIRSTBOOT_SH = REPO / "image/stage-kiosk/00-kiosk-agent/files/kiosk-firstboot"
TOKEN = "C66EF7B239D24632943D115EDE9CB810-EA00F8FD8294692C940F6B5A8F9453D"
GOOD = f"""
[mews]
platform_address = "https://api.mews-demo.com"
generation = "seed"
connector_token = "{TOKEN}"

[agent]
state_dir = "/var/lib/kiosk-agent"
"""


@pytest.fixture
def tree(tmp_path):
    boot = tmp_path / "boot/firmware"
    etc = tmp_path / "etc/kiosk-agent"
    boot.mkdir(parents=True)
    etc.mkdir(parents=True)
    return boot, etc


def run_import(boot: Path, etc: Path, text: str | bytes | None, **kw):
    if text is not None:
        data = text.encode() if isinstance(text, str) else text
        (boot / "kiosk-agent.toml").write_bytes(data)
    return firstboot.import_config(boot / "kiosk-agent.toml", etc / "config.toml",
                                   boot / "kiosk-agent-error.txt", **kw)


def test_valid_config_installed_0600_and_removed_from_boot(tree):
    boot, etc = tree
    (boot / "kiosk-agent-error.txt").write_text("an old error")
    result = run_import(boot, etc, GOOD)
    assert result.outcome == "installed"
    installed = etc / "config.toml"
    assert installed.read_text() == GOOD
    assert stat.S_IMODE(installed.stat().st_mode) == 0o600
    assert not (boot / "kiosk-agent.toml").exists()
    assert not (boot / "kiosk-agent-error.txt").exists()
    assert sorted(p.name for p in etc.iterdir()) == ["config.toml"]  # no temp file left behind


def test_invalid_config_leaves_error_file_and_installs_nothing(tree):
    boot, etc = tree
    shown = []
    result = run_import(boot, etc, GOOD.replace("[agent]", 'mode = "socket"\n[agent]'),
                        show=lambda raw, problems: shown.append(problems))
    assert result.outcome == "rejected"
    assert not (etc / "config.toml").exists()
    assert (boot / "kiosk-agent.toml").exists()  # left for the technician to fix
    report = (boot / "kiosk-agent-error.txt").read_text()
    assert 'kiosk-agent.toml: mews.mode: expected "websocket" or "poll", got "socket"' in report
    assert TOKEN not in report
    assert shown == [list(result.problems)]


def test_invalid_config_keeps_the_previous_one(tree):
    boot, etc = tree
    assert run_import(boot, etc, GOOD).outcome == "installed"
    before = (etc / "config.toml").read_bytes()
    result = run_import(boot, etc, "[mews]\nplatform_address = 'ftp://x'\ngeneration = 'seed'\nconnector_token = 'x'\n")
    assert result.outcome == "rejected" and "mews.platform_address" in result.problems[0]
    assert (etc / "config.toml").read_bytes() == before


def test_secret_of_wrong_type_is_not_echoed(tree):
    boot, etc = tree
    result = run_import(boot, etc, GOOD.replace(f'"{TOKEN}"', "4711815"))
    assert result.outcome == "rejected"
    assert "4711815" not in (boot / "kiosk-agent-error.txt").read_text()


def test_state_dir_must_be_writable_by_the_service(tree):
    boot, etc = tree
    result = run_import(boot, etc, GOOD.replace("/var/lib/kiosk-agent", "/home/pi/state"))
    assert result.outcome == "rejected" and "agent.state_dir" in result.problems[0]
    ok = run_import(boot, etc, GOOD.replace("/var/lib/kiosk-agent", "/var/lib/kiosk-agent/unit1"))
    assert ok.outcome == "installed"


def test_windows_editor_bom_and_crlf_accepted(tree):
    boot, etc = tree
    result = run_import(boot, etc, b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode())
    assert result.outcome == "installed"


def test_not_utf8_is_a_clear_error(tree):
    boot, etc = tree
    result = run_import(boot, etc, GOOD.encode().replace(b"api.mews", b"api.m\xe9ws"))
    assert result.outcome == "rejected" and "UTF-8" in result.problems[0]


def test_absent_file_changes_nothing(tree):
    boot, etc = tree
    assert run_import(boot, etc, None).outcome == "absent"
    assert list(boot.iterdir()) == [] and list(etc.iterdir()) == []


def test_cli_exit_codes_and_no_secret_in_output(tree):
    boot, etc = tree
    args = [sys.executable, "-m", "agent.fleet.firstboot", "--boot-file", str(boot / "kiosk-agent.toml"),
            "--dest", str(etc / "config.toml"), "--error-file", str(boot / "kiosk-agent-error.txt"),
            "--owner", getpass.getuser(), "--no-display"]
    (boot / "kiosk-agent.toml").write_text(GOOD.replace("https://", "htps://"))
    bad = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert bad.returncode == 1 and "mews.platform_address" in bad.stderr
    assert TOKEN not in bad.stdout + bad.stderr
    (boot / "kiosk-agent.toml").write_text(GOOD)
    good = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert good.returncode == 0, good.stderr
    assert (etc / "config.toml").stat().st_uid == os.getuid()
    again = subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert again.returncode == 0 and "nothing to import" in again.stdout
    unknown_user = subprocess.run(args[:-2] + ["--owner", "no-such-user-kiosk"], capture_output=True,
                                  text=True, cwd=REPO, timeout=60)
    assert unknown_user.returncode == 2


def test_shell_glue_calls_the_importer(tree, tmp_path):
    """kiosk-firstboot's import_config step, with a stand-in venv pointing at this Python."""
    boot, etc = tree
    venv = tmp_path / "venv/bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    (boot / "kiosk-agent.toml").write_text(GOOD)
    src = FIRSTBOOT_SH.read_text()
    script = src[:src.index("main() {")] + f'import_config "{boot}"\n'
    env = {**os.environ, "AGENT_VENV": str(tmp_path / "venv"), "CONFIG_DIR": str(etc),
           "AGENT_USER": getpass.getuser(), "PYTHONPATH": str(REPO)}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (etc / "config.toml").read_text() == GOOD
    assert not (boot / "kiosk-agent.toml").exists()


def test_display_config_taken_from_the_dropped_file(tmp_path):
    raw = GOOD + '\n[display]\ndriver = "ssd1306"\naddress = 61\nbogus = 1\n'
    display = firstboot._display_config(raw, tmp_path / "none.toml")
    assert display.driver == "ssd1306" and display.address == 61
    assert firstboot._display_config("not toml [", tmp_path / "none.toml") is None


def test_error_shown_on_the_oled_config_error_screen(monkeypatch):
    """The OLED path renders the display engineer's config-error screen and keeps it after exit."""
    pytest.importorskip("luma.core")
    from luma.core.device import dummy

    from agent import config as config_mod
    from hal import display as hal_display

    device = dummy(width=128, height=64, mode="1")
    opened = []

    def fake_open(driver, **kw):
        opened.append((driver, kw))
        return hal_display.Display(device)

    monkeypatch.setattr(hal_display, "open_display", fake_open)
    cfg = config_mod.DisplayConfig(driver="ssd1306", address=0x3D)
    assert firstboot.show_on_display(cfg, ['kiosk-agent.toml: mews.mode: expected "websocket"'])
    assert opened == [("ssd1306", {"i2c_port": 1, "address": 0x3D, "rotate": 0})]
    assert device.persist is True
    assert device.image.getbbox() is not None  # something was drawn
    assert not firstboot.show_on_display(config_mod.DisplayConfig(driver="none"), ["x"])


def test_readonly_root_enabled_once_with_overlay_kept_to_root(tmp_path):
    """enable_readonly_root with a stand-in raspi-config that behaves like bookworm's (overlayroot=tmpfs)."""
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / "cmdline.txt").write_text("console=tty1 root=PARTUUID=1-02 rootwait\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    fake = bin_dir / "raspi-config"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n'
                    f'[ "$1 $2" = "nonint enable_overlayfs" ] && sed -i "s/^/overlayroot=tmpfs /" {boot}/cmdline.txt\n')
    fake.chmod(0o755)
    src = FIRSTBOOT_SH.read_text()
    script = src[:src.index("main() {")].replace("export PATH=", f"export PATH={bin_dir}:") + \
        f'enable_readonly_root "{boot}"\n'
    # /proc and /sys stand in for the data partition's bind mounts: both are mount points
    env = {**os.environ, "STATE_DIR": "/proc", "CONFIG_DIR": "/sys", "REBOOT_AFTER_READONLY": "no"}
    first = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    if "root file system is read-only" in first.stdout:
        pytest.skip("this machine's root is itself an overlay")
    assert first.returncode == 0, first.stdout + first.stderr
    assert (boot / "cmdline.txt").read_text().split() == \
        ["overlayroot=tmpfs:recurse=0", "console=tty1", "root=PARTUUID=1-02", "rootwait"]
    second = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert "configured" in second.stdout
    assert calls.read_text().splitlines() == ["nonint enable_overlayfs"]  # once only
    # no data partition: the root stays writable
    (boot / "cmdline.txt").write_text("console=tty1 rootwait\n")
    calls.unlink()
    env_nodata = {**env, "STATE_DIR": str(tmp_path)}
    third = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env_nodata, timeout=60)
    assert "keeping the root writable" in third.stderr and not calls.exists()


def test_readonly_root_on_debian_without_raspi_config(tmp_path):
    """Debian's arm64 image has overlayroot but no raspi-config: first boot sets the token itself,
    in cmdline.txt and in raspi-firmware's extra command line (which rewrites cmdline.txt)."""
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / "cmdline.txt").write_text("console=tty0 root=LABEL=RASPIROOT rw rootwait\n")
    (tmp_path / "overlayroot.conf").write_text('overlayroot=""\n')
    extra = tmp_path / "raspi-extra-cmdline"
    src = FIRSTBOOT_SH.read_text()
    script = src[:src.index("main() {")].replace("export PATH=", f"export PATH={tmp_path}/none:/usr/bin:/bin:") + \
        f'enable_readonly_root "{boot}"\n'
    env = {**os.environ, "STATE_DIR": "/proc", "CONFIG_DIR": "/sys", "REBOOT_AFTER_READONLY": "no",
           "OVERLAYROOT_CONF": str(tmp_path / "overlayroot.conf"), "RASPI_EXTRA_CMDLINE": str(extra)}
    first = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    if "root file system is read-only" in first.stdout:
        pytest.skip("this machine's root is itself an overlay")
    assert first.returncode == 0, first.stdout + first.stderr
    assert (boot / "cmdline.txt").read_text().split() == \
        ["console=tty0", "root=LABEL=RASPIROOT", "rw", "rootwait", "overlayroot=tmpfs:recurse=0"]
    assert extra.read_text().split() == ["overlayroot=tmpfs:recurse=0"]
    second = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert "configured" in second.stdout
    assert (boot / "cmdline.txt").read_text().count("overlayroot") == 1
    # neither raspi-config nor overlayroot: the root stays writable, as before
    (tmp_path / "overlayroot.conf").unlink()
    (boot / "cmdline.txt").write_text("console=tty0 rootwait\n")
    third = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert "not available" in third.stdout and "overlayroot" not in (boot / "cmdline.txt").read_text()


def _stand_ins(bin_dir: Path, calls: Path, label_after: int, fsck_rc: int = 0) -> None:
    """blkid shows the label only from its ``label_after``-th call; e2fsck, mount, mountpoint, udevadm log."""
    bin_dir.mkdir()
    tools = {
        "blkid": f'n=$(cat {calls}.blkid 2>/dev/null || echo 0); n=$((n+1)); echo $n > {calls}.blkid\n'
                 f'[ $n -ge {label_after} ] && echo /dev/vdb1 && exit 0; exit 2\n',
        "e2fsck": f'echo "e2fsck $*" >> {calls}\necho "KIOSKDATA: recovering journal"\n'
                  f'echo "KIOSKDATA: clean, 11/32768 files"\nexit {fsck_rc}\n',
        "mount": f'echo "mount $*" >> {calls}\n',
        "mountpoint": f'grep -qx "mount $2" {calls} 2>/dev/null\n',
        "udevadm": "exit 0\n",
        "sleep": "exit 0\n",
    }
    for name, body in tools.items():
        (bin_dir / name).write_text("#!/bin/sh\n" + body)
        (bin_dir / name).chmod(0o755)


def _setup_data(tmp_path: Path, label_after: int, fstab: str, fsck_rc: int = 0):
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    _stand_ins(bin_dir, calls, label_after, fsck_rc)
    (tmp_path / "fstab").write_text(fstab)
    src = FIRSTBOOT_SH.read_text()
    script = src[:src.index("main() {")].replace("export PATH=", f"export PATH={bin_dir}:") + "setup_data\n"
    env = {**os.environ, "FSTAB": str(tmp_path / "fstab"), "DATA_MNT": str(tmp_path / "data"),
           "STATE_DIR": str(tmp_path / "state"), "CONFIG_DIR": str(tmp_path / "config"),
           "AGENT_USER": getpass.getuser(), "DEVICE_WAIT": "5"}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    return done, (calls.read_text().splitlines() if calls.exists() else [])


KNOWN = "LABEL=KIOSKDATA /mnt/kiosk-data ext4 defaults,noatime,nofail,x-systemd.device-timeout=60s 0 2\n"


def test_a_data_partition_udev_shows_late_is_waited_for_and_checked_before_it_is_mounted(tmp_path):
    """systemd's fsck gave up on the late device (the power-cut lab saw it under load): firstboot
    waits for the partition fstab already names, then runs e2fsck before mounting it."""
    done, calls = _setup_data(tmp_path, label_after=3, fstab=KNOWN)
    assert "waiting up to 5s for the KIOSKDATA partition" in done.stdout, done.stdout + done.stderr
    assert calls[0] == "e2fsck -y /dev/vdb1"
    assert calls[1] == f"mount {tmp_path / 'data'}"  # checked first, then mounted
    assert "data partition check (the boot's fsck did not run): rc 0: KIOSKDATA: recovering journal" in done.stdout


def test_an_unrepairable_data_partition_is_reported(tmp_path):
    done, calls = _setup_data(tmp_path, label_after=1, fstab=KNOWN, fsck_rc=4)
    assert "e2fsck could not repair /dev/vdb1 (rc 4)" in done.stderr
    assert calls[0] == "e2fsck -y /dev/vdb1"


def test_a_partition_systemd_already_mounted_is_not_checked_again(tmp_path):
    (tmp_path / "calls").write_text(f"mount {tmp_path / 'data'}\n")  # mountpoint: yes
    done, calls = _setup_data(tmp_path, label_after=1, fstab=KNOWN)
    assert not any(c.startswith("e2fsck") for c in calls), calls
    assert "waiting" not in done.stdout
