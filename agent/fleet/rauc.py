"""RAUC, the A/B update engine, as the technician's commands and doctor see it.

Only RAUC's command line is used (``rauc status --detailed --output-format=json``,
``rauc install``, ``rauc status mark-good``): the same calls a technician would
type, found on PATH. On a unit without RAUC (a single-slot image) every call
raises ``RaucMissing`` and callers say so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field

STATUS_TIMEOUT = 30.0
INSTALL_TIMEOUT = 3600.0  # a bundle streamed over a hotel's line can take long
SYSTEM_CONF = "/etc/rauc/system.conf"  # the A/B image's; $KIOSK_RAUC_SYSTEM_CONF in tests
TRYBOOT_BACKEND = "/usr/lib/kiosk/tryboot-backend"  # image/rauc/tryboot-backend: its `reboot` tries the new slot


class RaucError(Exception):
    """RAUC ran and failed (its own message, one line)."""


class RaucMissing(RaucError):
    """No ``rauc`` on this unit."""

    def __init__(self, why: str = "rauc is not installed"):
        super().__init__(f"{why}: this unit has no A/B updates (a single-slot image)")


@dataclass(frozen=True)
class Slot:
    name: str  # "rootfs.0"
    bootname: str  # "A"
    state: str  # "booted" | "active" | "inactive"
    boot_status: str  # "good" | "bad" | ""
    bundle_version: str = ""
    installed: str = ""  # RAUC's timestamp text of the last install into the slot


@dataclass(frozen=True)
class RaucStatus:
    compatible: str
    booted: str  # bootname
    primary: str  # bootname of the slot the bootloader boots next
    slots: tuple[Slot, ...] = field(default_factory=tuple)

    def slot(self, bootname: str) -> Slot | None:
        return next((s for s in self.slots if s.bootname == bootname), None)


def parse_status(text: str) -> RaucStatus:
    """``rauc status --detailed --output-format=json`` as a RaucStatus; unknown fields are ignored."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise RaucError(f"rauc status printed no JSON: {e}") from None
    if not isinstance(data, dict):
        raise RaucError("rauc status printed JSON that is not an object")
    slots = []
    for entry in data.get("slots") or []:
        if not isinstance(entry, dict):
            continue
        for name, info in entry.items():
            if not isinstance(info, dict) or info.get("class", "rootfs") != "rootfs":
                continue
            st = info.get("slot_status") or {}
            bundle = st.get("bundle") or {}
            installed = st.get("installed") or {}
            slots.append(Slot(name=str(name), bootname=str(info.get("bootname") or ""),
                              state=str(info.get("state") or ""), boot_status=str(info.get("boot_status") or ""),
                              bundle_version=str(bundle.get("version") or ""),
                              installed=str(installed.get("timestamp") or "")))
    by_name = {s.name: s for s in slots}
    primary = str(data.get("boot_primary") or "")
    primary = by_name[primary].bootname if primary in by_name else primary
    return RaucStatus(compatible=str(data.get("compatible") or ""), booted=str(data.get("booted") or ""),
                      primary=primary, slots=tuple(slots))


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    exe = shutil.which("rauc")
    if exe is None:
        raise RaucMissing()
    conf = os.environ.get("KIOSK_RAUC_SYSTEM_CONF", SYSTEM_CONF)
    if not os.path.exists(conf):
        # the rauc package alone (a developer's machine, Raspberry Pi OS) is not an A/B system
        raise RaucMissing(f"no RAUC system configuration ({conf})")
    try:
        done = subprocess.run([exe, *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RaucError(f"rauc {' '.join(args[:2])}: no answer within {timeout:.0f} s") from None
    except OSError as e:
        raise RaucError(f"cannot run rauc: {e}") from None
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}").splitlines()[-1]
        raise RaucError(f"rauc {' '.join(args[:2])} failed: {last[:300]}")
    return done


def status() -> RaucStatus:
    return parse_status(_run(["status", "--detailed", "--output-format=json"], STATUS_TIMEOUT).stdout)


def install(source: str) -> None:
    """``rauc install SOURCE`` (a bundle path or an http(s) URL RAUC streams); RaucError on any failure."""
    _run(["install", source], INSTALL_TIMEOUT)


def mark_good() -> str:
    """``rauc status mark-good`` for the booted slot; RAUC's message."""
    return _run(["status", "mark-good"], STATUS_TIMEOUT).stdout.strip()


def mark_bad() -> str:
    """``rauc status mark-bad`` for the booted slot (the health gate's rollback); RAUC's message."""
    return _run(["status", "mark-bad"], STATUS_TIMEOUT).stdout.strip()
