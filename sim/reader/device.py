"""VirtualReader: a document reader's serial side on a pty (MRZ text and QR codes, as readers frame them).

``framing="cr"``: every line ended by CR (the common USB-CDC default);
``framing="stx"``: STX, the lines separated by CR, ETX (readers set to "block" mode).
``present(text)`` is the guest laying a document (or a phone's QR code) on the glass.
"""

from __future__ import annotations

import os
import threading
import tty

STX, ETX, CR = b"\x02", b"\x03", b"\r"


def frame(text: str, framing: str = "cr") -> bytes:
    """The bytes a reader sends for one scan."""
    lines = [ln.encode("ascii", "replace") for ln in text.splitlines() if ln]
    if framing == "stx":
        return STX + CR.join(lines) + ETX
    if framing == "cr":
        return b"".join(ln + CR for ln in lines)
    raise ValueError(f"unknown framing {framing!r}")


class VirtualReader:
    """A reader on a new pty; ``.path`` is what ``reader.port`` names."""

    def __init__(self, framing: str = "cr"):
        self.framing = framing
        self.path = ""
        self.presented: list[str] = []
        self._fds: list[int] = []
        self._lock = threading.Lock()

    def start(self) -> "VirtualReader":
        master, slave = os.openpty()
        tty.setraw(slave)  # bytes verbatim: no echo, no CR -> LF translation
        self._fds = [master, slave]  # holding the slave open keeps the pty alive between clients
        self.path = os.ttyname(slave)
        return self

    def present(self, text: str, *, framing: str | None = None) -> None:
        """Send one scan (a zone or a QR code's text)."""
        data = frame(text, framing or self.framing)
        with self._lock:
            self.presented.append(text)
            self.send_raw(data)

    def send_raw(self, data: bytes) -> None:
        """Bytes as they are: noise, half a frame, a reader's garbage."""
        view = memoryview(data)
        while view:
            n = os.write(self._fds[0], view)
            view = view[n:]

    def drain(self) -> bytes:
        """What the agent wrote to the reader (readers ignore it; tests check nothing was)."""
        import select

        out = b""
        while select.select([self._fds[0]], [], [], 0)[0]:
            try:
                chunk = os.read(self._fds[0], 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        return out

    def stop(self) -> None:
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []

    def __enter__(self) -> "VirtualReader":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
