"""A keyboard-wedge (USB HID) reader through evdev, grabbed so its keystrokes never reach the kiosk browser.

Such readers "type" what they read, followed by Enter. Keys are translated with
the US layout (readers are set to it in the field; the MRZ filler ``<`` is
Shift+comma there) and fed to the same scan assembly as a serial reader, with
Enter as CR. ``python-evdev`` is imported only here.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hal.errors import DeviceDisconnected, port_problem
from hal.reader.scans import ScanAssembler, ScanReader

if TYPE_CHECKING:  # evdev is imported when the reader opens
    from evdev import InputDevice

_PLAIN = {"SPACE": " ", "MINUS": "-", "EQUAL": "=", "LEFTBRACE": "[", "RIGHTBRACE": "]", "SEMICOLON": ";",
          "APOSTROPHE": "'", "GRAVE": "`", "BACKSLASH": "\\", "COMMA": ",", "DOT": ".", "SLASH": "/",
          "ENTER": "\r", "KPENTER": "\r", "TAB": "\t"}
_SHIFTED = {"MINUS": "_", "EQUAL": "+", "LEFTBRACE": "{", "RIGHTBRACE": "}", "SEMICOLON": ":", "APOSTROPHE": '"',
            "GRAVE": "~", "BACKSLASH": "|", "COMMA": "<", "DOT": ">", "SLASH": "?", "1": "!", "2": "@", "3": "#",
            "4": "$", "5": "%", "6": "^", "7": "&", "8": "*", "9": "(", "0": ")"}
_SHIFTS = ("KEY_LEFTSHIFT", "KEY_RIGHTSHIFT")


def key_text(name: str, shift: bool) -> str:
    """The character a key name (``KEY_A``, ``KEY_COMMA``) types on the US layout; "" for others."""
    key = name[4:] if name.startswith("KEY_") else name
    if len(key) == 1 and key.isalpha():
        return key.upper() if shift else key.lower()
    if shift and key in _SHIFTED:
        return _SHIFTED[key]
    if len(key) == 1 and key.isdigit():
        return key
    if key.startswith("KP") and len(key) == 3 and key[2].isdigit():
        return key[2]
    return _PLAIN.get(key, "")


class KeyTranslator:
    """Key events (code, value) -> text; tracks Shift (and Caps Lock) across events."""

    def __init__(self, names: Callable[[int], str]):
        self.names = names
        self.shift = False
        self.caps = False

    def event(self, code: int, value: int) -> str:
        name = self.names(code)
        if name in _SHIFTS:
            self.shift = value != 0
            return ""
        if value != 1:  # only key-down types (0 = up, 2 = auto-repeat)
            return ""
        if name == "KEY_CAPSLOCK":
            self.caps = not self.caps
            return ""
        text = key_text(name, self.shift)
        if self.caps and len(text) == 1 and text.isalpha():
            text = text.swapcase()
        return text


def _name_of(code: int) -> str:
    from evdev import ecodes

    name = ecodes.KEY.get(code, "")
    return name[0] if isinstance(name, (list, tuple)) else name


class WedgeReader(ScanReader):
    def __init__(self, path: str, *, gap: float = 0.25, clock: Callable[[], float] = time.monotonic):
        super().__init__(ScanAssembler("cr", gap), clock)
        self.path = path
        self._device: InputDevice | None = None
        self._keys = KeyTranslator(_name_of)

    def _open(self):
        if self._device is None:
            try:
                from evdev import InputDevice
            except ImportError:
                raise DeviceDisconnected("the keyboard-wedge reader needs python-evdev: pip install evdev",
                                         retryable=False) from None
            try:
                device = InputDevice(self.path)
            except OSError as e:
                raise DeviceDisconnected(port_problem("document reader", self.path, "reader.port", e)) from None
            try:
                device.grab()  # exclusive: the browser (and every other reader of input) sees nothing
            except OSError as e:
                device.close()
                raise DeviceDisconnected(f"the document reader at {self.path} is grabbed by another program "
                                         f"({e.strerror or e}): stop it, or check reader.port") from None
            self._device = device
        return self._device

    def open(self) -> None:
        """Grab the device now (at start-up), so a scan before the first request never types into the browser."""
        self._open()

    def _events(self, timeout: float) -> str:
        device = self._open()
        try:
            ready, _, _ = select.select([device.fd], [], [], timeout)
            if not ready:
                return ""
            from evdev import ecodes

            return "".join(self._keys.event(e.code, e.value) for e in device.read() if e.type == ecodes.EV_KEY)
        except BlockingIOError:
            return ""
        except OSError as e:
            self.close()
            raise DeviceDisconnected(port_problem("document reader", self.path, "reader.port", e)) from None

    def discard(self) -> None:
        while self._events(0):
            pass
        self.scans.reset()
        self._ready.clear()

    def _chunk(self, wait: float) -> bytes:
        return self._events(wait).encode("latin-1", "replace")

    def close(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            try:
                device.ungrab()
            except OSError:
                pass
            device.close()
