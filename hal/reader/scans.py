"""Bytes from a reader -> whole scans, for both framings readers use in the field.

- ``cr``: every line ends with CR (LF tolerated); a scan is the lines that arrive
  together: it ends after ``gap`` seconds of silence, or at once when its lines
  already have the shape of a whole zone (2x44, 2x36, 3x30).
- ``stx``: STX, the lines separated by CR, ETX. Bytes outside a frame are noise.
- ``auto``: a scan that starts with STX is framed, anything else is CR lines.

A scan is capped at ``MAX_SCAN`` bytes: a reader spewing garbage cannot grow memory.
"""

from __future__ import annotations

from collections import deque

STX, ETX = 0x02, 0x03
MAX_SCAN = 4096
_ZONES = ((44, 44), (36, 36), (30, 30, 30))


def _text(raw: bytes) -> str:
    lines = raw.replace(b"\r\n", b"\r").replace(b"\n", b"\r").split(b"\r")
    return "\n".join(ln.decode("latin-1").strip() for ln in lines if ln.strip())


class ScanAssembler:
    """Feed bytes with the time they arrived; take whole scans out."""

    def __init__(self, framing: str = "auto", gap: float = 0.25):
        if framing not in ("auto", "cr", "stx"):
            raise ValueError(f"unknown framing {framing!r}")
        self.framing = framing
        self.gap = gap
        self._buf = bytearray()
        self._framed = False  # inside STX .. ETX
        self._last = 0.0

    def reset(self) -> None:
        """Forget a partial scan (what was scanned before the request is not the guest's answer)."""
        self._buf.clear()
        self._framed = False

    def feed(self, data: bytes, now: float) -> list[str]:
        out: list[str] = []
        for b in data:
            if b == STX and self.framing != "cr":
                if self._buf and not self._framed:
                    out += self._flush()
                self._buf.clear()
                self._framed = True
            elif b == ETX and self._framed:
                out += self._flush()
            elif self.framing == "stx" and not self._framed:
                continue  # noise between frames
            else:
                if len(self._buf) >= MAX_SCAN:
                    self._buf.clear()  # garbage: drop it and resynchronise
                self._buf.append(b)
                if b in (0x0D, 0x0A) and not self._framed and self._whole():
                    out += self._flush()
        self._last = now
        return [s for s in out if s]

    def tick(self, now: float) -> list[str]:
        """Scans ended by silence (CR framing)."""
        if self._buf and not self._framed and now - self._last >= self.gap:
            return [s for s in self._flush() if s]  # also a code sent without any terminator
        if self._framed and now - self._last >= max(1.0, 8 * self.gap):
            self.reset()  # a frame whose ETX was lost: drop it rather than wait for ever
        return []

    def _whole(self) -> bool:
        text = _text(bytes(self._buf))
        return tuple(len(ln) for ln in text.split("\n")) in _ZONES

    def _flush(self) -> list[str]:
        text = _text(bytes(self._buf))
        self._buf.clear()
        self._framed = False
        return [text]


class ScanReader:
    """The read loop every reader shares: whole scans, a deadline, and a caller's ``check`` between waits.

    A reader supplies ``_chunk(wait)``: the bytes that came within ``wait`` seconds (b"" for none)."""

    POLL = 0.05  # seconds a wait lasts before the caller is asked whether to go on

    def __init__(self, scans: ScanAssembler, clock):
        self.scans, self.clock = scans, clock
        self._ready: deque[str] = deque(maxlen=8)  # whole scans that came in one burst

    def _chunk(self, wait: float) -> bytes:
        raise NotImplementedError

    def read(self, deadline: float, check=lambda: None) -> str | None:
        """The next whole scan, or None at ``deadline`` (monotonic); ``check()`` may raise to stop the wait."""
        while True:
            if self._ready:
                return self._ready.popleft()
            check()
            now = self.clock()
            for scan in self.scans.tick(now):
                return scan
            if now >= deadline:
                return None
            data = self._chunk(min(self.POLL, max(0.0, deadline - now)))
            if data:
                self._ready.extend(self.scans.feed(data, self.clock()))
