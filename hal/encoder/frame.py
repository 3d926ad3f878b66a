"""PMS "Industry Standard" frames: ``STX SEP f0 SEP ... SEP fn SEP ETX LRC``.

Text is Latin-1; the LRC is the XOR of every byte after STX up to and
including ETX, and an LRC of 0x0D means "do not check" (field notes).
"""

from __future__ import annotations

from hal.errors import InvalidInput

STX = 0x02
ETX = 0x03
ENQ = 0x05
ACK = 0x06
NAK = 0x15
SEP = 0xB3
NO_CHECK = 0x0D

MAX_FRAME = 2048  # bytes; a longer run without ETX is line noise, not a frame


class FrameError(ValueError):
    """Received bytes are not a valid frame (bad structure or LRC)."""


def lrc(data: bytes | bytearray) -> int:
    """XOR of ``data`` (the bytes after STX through ETX)."""
    value = 0
    for b in data:
        value ^= b
    return value


def _forbidden(b: int) -> bool:
    # C0 controls (STX, ETX, ENQ, ACK, NAK among them), DEL, C1 controls, and SEP
    # itself: any of them inside a field would let a guest name break the framing.
    return b < 0x20 or b == 0x7F or 0x80 <= b <= 0x9F or b == SEP


def field_bytes(value: str) -> bytes:
    """Encode one field as Latin-1, rejecting what would break the framing."""
    if not isinstance(value, str):
        raise InvalidInput(f"frame field must be text, got {type(value).__name__}")
    try:
        data = value.encode("latin-1")
    except UnicodeEncodeError:
        raise InvalidInput(f"frame field {value!r} has characters the encoder cannot take (Latin-1 only)") from None
    bad = next((b for b in data if _forbidden(b)), None)
    if bad is not None:
        raise InvalidInput(f"frame field {value!r} contains the forbidden byte 0x{bad:02X}")
    return data


def check_fields(fields: list[str]) -> None:
    """Raise InvalidInput unless every field can travel in a frame."""
    encode_frame(fields)


def encode_frame(fields: list[str]) -> bytes:
    """The frame for ``fields`` (at least one), with its LRC."""
    if not fields:
        raise InvalidInput("a frame needs at least one field")
    body = bytearray([SEP])
    for f in fields:
        body += field_bytes(f)
        body.append(SEP)
    body.append(ETX)
    return bytes([STX]) + bytes(body) + bytes([lrc(body)])


def decode_frame(data: bytes) -> list[str]:
    """The fields of one complete frame; FrameError if anything is wrong."""
    if len(data) < 4:
        raise FrameError(f"frame too short ({len(data)} bytes)")
    if data[0] != STX:
        raise FrameError("frame does not start with STX")
    if data[-2] != ETX:
        raise FrameError("frame does not end with ETX and LRC")
    body = data[1:-2]
    if STX in body or ETX in body:
        raise FrameError("STX or ETX inside a frame")
    received = data[-1]
    expected = lrc(data[1:-1])
    if received != NO_CHECK and received != expected:
        raise FrameError(f"bad LRC: got 0x{received:02X}, expected 0x{expected:02X}")
    if body[:1] != bytes([SEP]) or body[-1:] != bytes([SEP]):
        raise FrameError("frame fields are not enclosed in separators")
    if len(body) == 1:
        return []
    return [part.decode("latin-1") for part in body[1:-1].split(bytes([SEP]))]


class FrameReader:
    """Collects frames out of a byte stream; bytes outside frames are handed back as controls."""

    def __init__(self):
        self._buf: bytearray | None = None  # None: outside a frame
        self._want_lrc = False

    @property
    def in_frame(self) -> bool:
        return self._buf is not None

    def feed(self, data: bytes):
        """Yield ``("control", byte)`` for bytes between frames and ``("frame", bytes)`` per frame."""
        for b in data:
            if self._buf is None:
                if b == STX:
                    self._buf = bytearray([STX])
                else:
                    yield "control", b
                continue
            if self._want_lrc:
                self._buf.append(b)
                frame = bytes(self._buf)
                self._buf, self._want_lrc = None, False
                yield "frame", frame
                continue
            if b == STX:  # a new frame starts: the previous one was cut short
                yield "frame", bytes(self._buf)
                self._buf = bytearray([STX])
                continue
            self._buf.append(b)
            if b == ETX:
                self._want_lrc = True
            elif len(self._buf) > MAX_FRAME:
                frame = bytes(self._buf)
                self._buf = None
                yield "frame", frame

    def flush(self) -> bytes | None:
        """Give up on a partial frame (the line went quiet); returns its bytes."""
        buf, self._buf, self._want_lrc = self._buf, None, False
        return bytes(buf) if buf is not None else None
