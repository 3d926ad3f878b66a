"""A virtual keyboard-wedge reader: types scans through /dev/uinput as a USB HID reader does (US layout)."""

from __future__ import annotations

_SHIFTED = {"_": "MINUS", "+": "EQUAL", "{": "LEFTBRACE", "}": "RIGHTBRACE", ":": "SEMICOLON", '"': "APOSTROPHE",
            "~": "GRAVE", "|": "BACKSLASH", "<": "COMMA", ">": "DOT", "?": "SLASH", "!": "1", "@": "2", "#": "3",
            "$": "4", "%": "5", "^": "6", "&": "7", "*": "8", "(": "9", ")": "0"}
_PLAIN = {" ": "SPACE", "-": "MINUS", "=": "EQUAL", "[": "LEFTBRACE", "]": "RIGHTBRACE", ";": "SEMICOLON",
          "'": "APOSTROPHE", "`": "GRAVE", "\\": "BACKSLASH", ",": "COMMA", ".": "DOT", "/": "SLASH",
          "\n": "ENTER", "\r": "ENTER"}


def keystrokes(text: str) -> list[tuple[str, bool]]:
    """(key name, with Shift) for each character a reader types; a scan ends with Enter."""
    out = []
    for ch in text.replace("\r\n", "\n"):
        if ch.isalpha() and ch.isascii():
            out.append((f"KEY_{ch.upper()}", ch.isupper()))
        elif ch.isdigit():
            out.append((f"KEY_{ch}", False))
        elif ch in _SHIFTED:
            out.append((f"KEY_{_SHIFTED[ch]}", True))
        elif ch in _PLAIN:
            out.append((f"KEY_{_PLAIN[ch]}", False))
    return out + [("KEY_ENTER", False)]


class VirtualWedge:
    """A uinput keyboard; ``.path`` is the /dev/input/event* node the agent reads (needs /dev/uinput)."""

    def __init__(self, name: str = "Virtual MRZ Reader"):
        self.name = name
        self._ui = None
        self.path = ""

    def start(self) -> "VirtualWedge":
        import time

        from evdev import UInput, ecodes

        keys = [c for n, c in ecodes.ecodes.items() if n.startswith("KEY_") and isinstance(c, int) and c < 256]
        self._ui = UInput({ecodes.EV_KEY: keys}, name=self.name)
        time.sleep(0.2)  # udev creates the event node
        self.path = self._ui.device.path
        return self

    def present(self, text: str) -> None:
        from evdev import ecodes

        ui = self._ui
        for name, shift in keystrokes(text):
            if shift:
                ui.write(ecodes.EV_KEY, ecodes.KEY_LEFTSHIFT, 1)
            ui.write(ecodes.EV_KEY, ecodes.ecodes[name], 1)
            ui.write(ecodes.EV_KEY, ecodes.ecodes[name], 0)
            if shift:
                ui.write(ecodes.EV_KEY, ecodes.KEY_LEFTSHIFT, 0)
            ui.syn()

    def stop(self) -> None:
        if self._ui is not None:
            self._ui.close()
            self._ui = None
