"""The Pi's tryboot bootloader backend for RAUC (image/rauc/tryboot-backend), run on the host.

A small model of the firmware stands in for the Pi, encoding what Raspberry Pi's
documentation says (autoboot.adoc, bootflow "Fail-safe OS updates (TRYBOOT)"):
autoboot.txt's [all] boot_partition boots; the one-shot tryboot flag makes its
[tryboot] section apply to one boot; the flag is cleared before the firmware starts,
so any reset during the trial boots [all] again; without autoboot.txt the first
bootable FAT partition (slot A's) boots. The backend must keep a unit on a working
slot through all of it.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BACKEND = REPO / "image" / "rauc" / "tryboot-backend"
FIRST_BOOTABLE = 2  # p1 is the selector (autoboot.txt, no start.elf); A's boot partition is p2


class Pi:
    """The firmware, the device tree it leaves, and the reboot call, as files in a folder."""

    def __init__(self, root: Path):
        self.root = root
        self.dt = root / "dt"
        self.dt.mkdir()
        self.autoboot = root / "select" / "autoboot.txt"
        self.autoboot.parent.mkdir()
        self.state = root / "data" / "tryboot.state"
        self.reboots = root / "reboots.log"
        stub = root / "reboot"
        stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{self.reboots}"\n')
        stub.chmod(0o755)
        self.env = {**os.environ, "DT_DIR": str(self.dt), "AUTOBOOT": str(self.autoboot),
                    "STATE_FILE": str(self.state), "REBOOT_CMD": str(stub), "SLOTS": "A=2 B=3",
                    "TRYBOOT_BACKEND_CONF": str(root / "none.conf")}
        self.power_on()

    def _sections(self) -> dict:
        if not self.autoboot.exists():
            return {}
        raw = self.autoboot.read_bytes()
        assert len(raw) <= 512, "the firmware reads at most 512 bytes of autoboot.txt"
        out, section = {}, None
        for line in raw.decode().replace("\r", "").splitlines():
            line = line.strip()
            if line.startswith("["):
                section = line
            elif line.startswith("boot_partition=") and section:
                out[section] = int(line.split("=", 1)[1])
        return out

    def boot(self, tryboot: bool) -> int:
        sections = self._sections()
        part = sections.get("[all]", FIRST_BOOTABLE)
        if tryboot and "[tryboot]" in sections:
            part = sections["[tryboot]"]
        (self.dt / "tryboot").write_bytes((1 if tryboot else 0).to_bytes(4, "big"))
        (self.dt / "partition").write_bytes(part.to_bytes(4, "big"))
        return part

    def power_on(self) -> int:
        return self.boot(tryboot=False)  # a power cut clears the one-shot flag

    def reboot_as_asked(self) -> int:
        """The firmware after the last `reboot` the backend called."""
        last = self.reboots.read_text().splitlines()[-1]
        return self.boot(tryboot=last == "0 tryboot")

    def rauc(self, *args, ok=True) -> str:
        done = subprocess.run([str(BACKEND), *args], capture_output=True, text=True, env=self.env, timeout=30)
        if ok:
            assert done.returncode == 0, f"{args}: {done.stderr}"
        return done.stdout.strip() if ok else done

    def slots(self) -> tuple[str, str, str, str]:
        return (self.rauc("get-current"), self.rauc("get-primary"), self.rauc("get-state", "A"),
                self.rauc("get-state", "B"))


@pytest.fixture
def pi(tmp_path):
    if shutil.which("od") is None or shutil.which("awk") is None:
        pytest.skip("od and awk are needed by the backend")
    return Pi(tmp_path)


def _install(pi, slot="B"):
    """What RAUC does around an install: the target marked bad while written, then made primary."""
    pi.rauc("set-state", slot, "bad")
    pi.rauc("set-primary", slot)


def test_a_unit_without_autoboot_txt_runs_slot_a_and_calls_it_primary(pi):
    assert pi.slots() == ("A", "A", "good", "bad")


def test_an_update_is_tried_once_then_committed_by_mark_good(pi):
    _install(pi)
    assert pi.rauc("get-primary") == "A"  # a power cut now still boots A: B is only armed
    pi.rauc("reboot")
    assert pi.reboots.read_text().splitlines() == ["0 tryboot"]  # one argument, as the firmware parses it
    assert pi.reboot_as_asked() == 3
    assert pi.rauc("get-current") == "B"
    pi.rauc("set-state", "B", "good")  # rauc status mark-good, from the health gate
    assert "boot_partition=3" in pi.autoboot.read_text().split("[tryboot]")[0]
    assert pi.slots() == ("B", "B", "good", "good")
    assert pi.power_on() == 3  # committed: B boots from now on, power cut or not


def test_a_trial_the_health_gate_marks_bad_goes_back_to_the_old_slot(pi):
    _install(pi)
    pi.rauc("reboot")
    pi.reboot_as_asked()
    pi.rauc("set-state", "B", "bad")
    pi.rauc("reboot")
    assert pi.reboots.read_text().splitlines()[-1] == ""  # a normal reboot
    assert pi.reboot_as_asked() == 2
    assert pi.slots() == ("A", "A", "good", "bad")


def test_a_power_cut_during_the_trial_boot_ends_on_the_old_slot_and_the_trial_counts_as_failed(pi):
    _install(pi)
    pi.rauc("reboot")
    assert pi.reboot_as_asked() == 3
    assert pi.power_on() == 2  # the flag was cleared before the firmware started the trial
    assert pi.slots() == ("A", "A", "good", "bad")
    pi.rauc("reboot")
    assert pi.reboots.read_text().splitlines()[-1] == ""  # nothing armed any more: no second trial
    # and a fresh install arms the slot again
    _install(pi)
    pi.rauc("reboot")
    assert pi.reboot_as_asked() == 3


def test_a_power_cut_during_the_install_keeps_the_old_slot(pi):
    pi.rauc("set-state", "B", "bad")  # RAUC starts writing B ... and the power goes
    assert pi.power_on() == 2
    assert pi.slots() == ("A", "A", "good", "bad")
    pi.rauc("reboot")
    assert pi.reboots.read_text().splitlines() == [""]


def test_a_lost_autoboot_txt_during_a_trial_boots_slot_a_and_nothing_is_committed(pi):
    _install(pi)
    pi.rauc("reboot")
    pi.autoboot.unlink()  # e.g. a technician's card reader
    assert pi.reboot_as_asked() == 2  # tryboot flag, but no [tryboot] section: the first bootable partition
    pi.rauc("set-state", "A", "good")
    assert pi.slots() == ("A", "A", "good", "bad")


def test_mark_good_outside_a_real_trial_does_not_swap_the_slots(pi):
    _install(pi)
    pi.boot(tryboot=True)  # a trial boot whose partition is B ...
    pi.autoboot.write_text("[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=2\n")
    # ... but [tryboot] no longer names it: R6 says do not commit
    pi.rauc("set-state", "B", "good")
    assert pi.rauc("get-primary") == "A"


def test_bad_input_is_refused_with_a_message(pi):
    for args in (("get-state", "C"), ("set-state", "A", "maybe"), ("set-primary",), ("frobnicate",), ()):
        done = pi.rauc(*args, ok=False)
        assert done.returncode != 0 and "tryboot-backend:" in done.stderr, args
    (pi.dt / "partition").unlink()
    assert "not booted by the Raspberry Pi firmware" in pi.rauc("get-current", ok=False).stderr


def test_the_backend_is_shellcheck_clean():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck; .ci/run installs it)")
    done = subprocess.run(["shellcheck", str(BACKEND)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
