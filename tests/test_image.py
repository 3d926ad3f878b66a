"""The SD image's static parts: units verified by systemd-analyze, pi-gen layout, scripts."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.image_harness import SYSTEM_UNITS, SYSTEMD_ANALYZE, make_root, verify

REPO = Path(__file__).resolve().parents[1]
IMAGE = REPO / "image"
STAGE = IMAGE / "stage-kiosk"
SUBSTAGE = STAGE / "00-kiosk-agent"
FILES = SUBSTAGE / "files"
UNITS = ["kiosk-agent.service", "kiosk-firstboot.service"]
SCRIPTS = [IMAGE / "install.sh", IMAGE / "build.sh", IMAGE / "test" / "run.sh", STAGE / "prerun.sh",
           SUBSTAGE / "01-run.sh", FILES / "kiosk-firstboot", IMAGE / "test" / "files" / "kiosk-imagetest",
           IMAGE / "test" / "powercut.sh", IMAGE / "test" / "powercut-files" / "powercut-probe",
           IMAGE / "test" / "powercut-files" / "powercut-ready", IMAGE / "wheelhouse.sh",
           IMAGE / "arm64" / "build.sh", IMAGE / "arm64" / "test.sh", IMAGE / "arm64" / "pytest.sh"]
needs_analyze = pytest.mark.skipif(SYSTEMD_ANALYZE is None or SYSTEM_UNITS is None,
                                   reason="systemd-analyze or the system's unit files are not installed")


def unit(name: str) -> dict[str, list[tuple[str, str]]]:
    """A unit file as {section: [(key, value), ...]} (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in (FILES / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
            continue
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def values(sections, section: str, key: str) -> list[str]:
    return [v for k, v in sections.get(section, []) if k == key]


def one(sections, section: str, key: str) -> str:
    found = values(sections, section, key)
    assert len(found) == 1, f"[{section}] {key}= appears {len(found)} times"
    return found[0]


@needs_analyze
@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verify_is_clean(tmp_path, name):
    result = verify(make_root(tmp_path), name)
    # systemd-analyze exits 0 on "ignoring" warnings, so any output is a failure too.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


@needs_analyze
def test_verify_catches_a_broken_unit(tmp_path):
    """The check above can fail: a typo'd key is reported."""
    root = make_root(tmp_path)
    path = root / "etc/systemd/system/kiosk-agent.service"
    path.write_text(path.read_text().replace("Restart=always", "Restrat=always"))
    result = verify(root, "kiosk-agent.service")
    assert "Restrat" in result.stdout + result.stderr


@needs_analyze
def test_agent_unit_exposure_is_low(tmp_path):
    """systemd's own hardening score stays "OK" (below 3.0 of 10)."""
    result = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=yes", f"--root={make_root(tmp_path)}",
                             "--threshold=30", "--no-pager", "kiosk-agent.service"],
                            capture_output=True, text=True, timeout=60)
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("this systemd-analyze has no offline security check")
    assert result.returncode == 0, result.stdout[-600:] + result.stderr


def test_agent_unit_contract():
    u = unit("kiosk-agent.service")
    svc = "Service"
    assert one(u, svc, "Type") == "notify"
    assert one(u, svc, "WatchdogSec") == "30"
    assert one(u, svc, "Restart") == "always"
    assert one(u, svc, "User") == "kiosk"
    assert one(u, svc, "ExecStart") == \
        "/opt/kiosk-agent/bin/kiosk-agent run --config /etc/kiosk-agent/config.toml"
    assert one(u, svc, "ProtectSystem") == "strict"
    assert one(u, svc, "ReadWritePaths") == "/var/lib/kiosk-agent"
    assert one(u, svc, "WorkingDirectory") == "/var/lib/kiosk-agent"  # lgpio writes its FIFOs there
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome", "ProtectKernelTunables",
                "ProtectControlGroups", "LockPersonality"):
        assert one(u, svc, key) == "yes", key
    assert one(u, svc, "RestrictAddressFamilies").split() == ["AF_UNIX", "AF_INET", "AF_INET6"]
    assert set(one(u, svc, "SupplementaryGroups").split()) == {"dialout", "i2c", "gpio", "lp"}  # lp: /dev/usb/lp* printers
    assert one(u, svc, "DevicePolicy") == "closed"
    allowed = {v.split()[0] for v in values(u, svc, "DeviceAllow")}
    assert {"char-ttyS", "char-ttyAMA", "char-ttyUSB", "char-i2c", "char-gpiochip"} <= allowed
    burst, interval = int(one(u, "Unit", "StartLimitBurst")), int(one(u, "Unit", "StartLimitIntervalSec"))
    restart_sec = int(one(u, svc, "RestartSec"))
    assert 3 <= burst <= 20 and interval > burst * restart_sec  # a crash loop does hit the limit
    # The agent does not wait for the clock: it reports "clock not set" itself.
    after = " ".join(values(u, "Unit", "After") + values(u, "Unit", "Wants") + values(u, "Unit", "Requires"))
    assert "time-sync" not in after and "network-online" not in after
    assert "kiosk-firstboot.service" in after
    assert not any(k.startswith("Standard") and v not in ("journal", "journal+console")
                   for k, v in u[svc])


def test_firstboot_unit_runs_before_the_agent_every_boot():
    u = unit("kiosk-firstboot.service")
    assert one(u, "Service", "Type") == "oneshot"
    assert "kiosk-agent.service" in one(u, "Unit", "Before")
    assert not values(u, "Unit", "ConditionFirstBoot") and not values(u, "Unit", "ConditionPathExists")
    assert one(u, "Service", "ExecStart") == "/usr/local/sbin/kiosk-firstboot"


def _conf(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.optionxform = str
    parser.read_string((FILES / name).read_text())
    return parser


def _seconds(text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|min)?", text.strip())
    assert m, text
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "min": 60, None: 1}[m.group(2)]


def test_hardware_watchdog_within_bcm2835_cap():
    manager = _conf("system-watchdog.conf")["Manager"]
    assert 5 <= _seconds(manager["RuntimeWatchdogSec"]) <= 15


def test_journal_is_volatile_and_capped():
    journal = _conf("journald-kiosk.conf")["Journal"]
    assert journal["Storage"] == "volatile"
    assert journal["RuntimeMaxUse"].rstrip("MK").isdigit()


def package_names(path: Path) -> list[str]:
    """A pi-gen package list as pi-gen reads it: comments dropped, names split on blanks."""
    return " ".join(line.split("#", 1)[0] for line in path.read_text().splitlines()).split()


def test_pi_gen_stage_layout():
    assert (STAGE / "EXPORT_IMAGE").is_file()
    for script in (STAGE / "prerun.sh", SUBSTAGE / "01-run.sh"):
        assert script.stat().st_mode & stat.S_IXUSR, f"{script} must be executable for pi-gen"
    assert "copy_previous" in (STAGE / "prerun.sh").read_text()
    # pi-gen runs only NN-name sub-stage folders; each file in them is NN-kind
    subs = [p for p in STAGE.iterdir() if p.is_dir()]
    assert subs and all(re.fullmatch(r"\d\d-[\w-]+", p.name) for p in subs)
    for p in SUBSTAGE.iterdir():
        assert p.name == "files" or re.fullmatch(r"\d\d-(packages(-nr)?|run\.sh|run-chroot\.sh|debconf|patches)",
                                                  p.name), p.name
    shared = set(package_names(SUBSTAGE / "00-packages"))
    assert {"python3-venv", "fdisk", "e2fsprogs", "overlayroot"} <= shared
    assert set(package_names(SUBSTAGE / "01-packages")) == {"raspi-config", "python3-lgpio"}  # Raspberry Pi OS only
    assert "on_chroot" in (SUBSTAGE / "01-run.sh").read_text()
    config = (IMAGE / "config").read_text()
    for var in ("IMG_NAME", "TARGET_HOSTNAME", "LOCALE_DEFAULT", "TIMEZONE_DEFAULT", "ENABLE_SSH"):
        assert re.search(rf"^\s*{var}=", config, re.M), var


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(REPO)))
def test_script_syntax(script):
    assert script.stat().st_mode & stat.S_IXUSR, f"{script} is not executable"
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed (apt-get install shellcheck)")
def test_shellcheck_clean():
    result = subprocess.run(["shellcheck", "-x", *map(str, SCRIPTS)], capture_output=True, text=True,
                            cwd=IMAGE)
    assert result.returncode == 0, result.stdout[-3000:]


def _cmdline_after_install(tmp_path, text: str, image: bool) -> str:
    """Run install.sh's own cmdline/config.txt editing on a copy (its configure_boot function)."""
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / "cmdline.txt").write_text(text + "\n")
    (boot / "config.txt").write_text("# stock\ndtparam=audio=on\n")
    src = (IMAGE / "install.sh").read_text()
    functions = src[src.index("boot_dir() {"):src.index("install_packages\ncreate_user")]
    functions = functions.replace("/boot/firmware", str(boot))
    script = f"set -euo pipefail\nIMAGE={'yes' if image else 'no'}\nstep() {{ :; }}\nsystemctl() {{ :; }}\n" \
             f"{functions}\nconfigure_boot\nconfigure_boot\n"  # twice: must be idempotent
    subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True)
    return (boot / "cmdline.txt").read_text().strip(), (boot / "config.txt").read_text()


def test_install_boot_settings(tmp_path):
    stock = "console=serial0,115200 console=tty1 root=PARTUUID=1-02 rootfstype=ext4 fsck.repair=yes rootwait resize"
    cmdline, config_txt = _cmdline_after_install(tmp_path, stock, image=True)
    assert cmdline == "console=tty1 root=PARTUUID=1-02 rootfstype=ext4 fsck.repair=yes rootwait"
    for line in ("dtparam=i2c_arm=on", "enable_uart=1", "dtparam=watchdog=on"):
        assert config_txt.count(f"\n{line}\n") == 1, config_txt
    assert config_txt.count("[all]") == 1


def test_install_on_running_system_keeps_resize_tokens(tmp_path):
    old = "console=serial0,115200 root=/dev/mmcblk0p2 rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot"
    cmdline, _ = _cmdline_after_install(tmp_path, old, image=False)
    assert cmdline == "root=/dev/mmcblk0p2 rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot"
    (tmp_path / "boot").rename(tmp_path / "boot-1")
    cmdline, _ = _cmdline_after_install(tmp_path, old, image=True)
    assert cmdline == "root=/dev/mmcblk0p2 rootwait quiet"


def test_firstboot_fstab_entries_use_label_and_nofail():
    src = (FILES / "kiosk-firstboot").read_text()
    script = src[:src.index("log() {")] + src[src.index("fstab_entries() {"):src.index("ensure_fstab() {")] + \
        "fstab_entries\n"
    out = subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True,
                         env={**os.environ, "DATA_LABEL": "KIOSKDATA"}).stdout.splitlines()
    assert out[0].split()[:3] == ["LABEL=KIOSKDATA", "/mnt/kiosk-data", "ext4"]
    binds = {line.split()[1]: line.split()[0] for line in out[1:]}
    assert binds == {"/var/lib/kiosk-agent": "/mnt/kiosk-data/state", "/etc/kiosk-agent": "/mnt/kiosk-data/config"}
    assert all("nofail" in line.split()[3] for line in out)
