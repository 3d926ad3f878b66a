"""Keyboard-wedge readers through evdev (issue 26 item 1): US-layout keys -> scans; grabbed on a real uinput device."""

from __future__ import annotations

import os
import time

import pytest

from hal.reader.scans import ScanAssembler
from hal.reader.wedge import KeyTranslator
from sim.reader import specimens
from sim.reader.wedge import keystrokes

evdev = pytest.importorskip("evdev", reason="python-evdev is not installed (pip install evdev)")
from evdev import ecodes  # noqa: E402


def events(text):
    """The key events a wedge reader sends for ``text`` (Shift down/up around shifted keys)."""
    out = []
    for name, shift in keystrokes(text):
        if shift:
            out.append((ecodes.KEY_LEFTSHIFT, 1))
        out += [(ecodes.ecodes[name], 1), (ecodes.ecodes[name], 2), (ecodes.ecodes[name], 0)]  # 2: auto-repeat
        if shift:
            out.append((ecodes.KEY_LEFTSHIFT, 0))
    return out


def name_of(code):
    name = ecodes.KEY.get(code, "")
    return name[0] if isinstance(name, list) else name


@pytest.mark.parametrize("text", [specimens.ICAO_TD3, specimens.ICAO_TD1,
                                  specimens.booking_qr("3b6ad0d2-5d1d-4b3e-9d1f-0c1f5a0f2b11", group_id="g-1")])
def test_typed_keys_become_the_scan(text):
    keys = KeyTranslator(name_of)
    typed = "".join(keys.event(code, value) for code, value in events(text))
    scans = ScanAssembler("cr", gap=0.1)
    got = scans.feed(typed.encode("latin-1"), 0.0) + scans.tick(1.0)
    assert got == [text]


def test_caps_lock_does_not_garble_a_zone():
    keys = KeyTranslator(name_of)
    typed = keys.event(ecodes.KEY_CAPSLOCK, 1) + "".join(keys.event(c, v) for c, v in events("p<uto"))
    assert typed == "P<UTO\r"


needs_uinput = pytest.mark.skipif(not os.path.exists("/dev/uinput"),
                                  reason="no /dev/uinput on this machine (a container without the uinput module): "
                                         "the grabbed-device test needs a kernel virtual keyboard")


@needs_uinput
def test_a_grabbed_wedge_reads_the_zone_and_nobody_else_sees_the_keys():
    from agent.devices.reader.config import ReaderConfig
    from agent.devices.reader.handler import ReaderHandler
    from sim.reader.wedge import VirtualWedge

    wedge = VirtualWedge().start()
    try:
        handler = ReaderHandler(ReaderConfig(port="evdev:" + wedge.path, gap=0.1))  # grabs at start-up
        reader = handler.reader
        try:
            other = evdev.InputDevice(wedge.path)
            try:
                with pytest.raises(OSError):
                    other.grab()  # the reader holds it exclusively: the browser gets no keystrokes
            finally:
                other.close()
            reader.discard()
            wedge.present(specimens.ICAO_TD3)
            assert reader.read(time.monotonic() + 5) == specimens.ICAO_TD3
        finally:
            reader.close()
    finally:
        wedge.stop()
