"""Document readers: MRZ text and 2D codes from serial/USB-CDC readers and keyboard-wedge (HID) readers.

``open_reader(port, ...)`` picks the transport from ``reader.port``: ``evdev:PATH``
is a keyboard wedge read through evdev with the device grabbed; anything else is a
serial port or pyserial URL. Both answer ``read(deadline, check)`` with one scan's
text (lines joined by "\\n") and ``discard()`` to drop what was scanned earlier.
"""

from __future__ import annotations

from hal.reader.scans import ScanAssembler

__all__ = ["ScanAssembler", "open_reader"]


def open_reader(port: str, *, baudrate: int = 9600, framing: str = "auto", gap: float = 0.25):
    """The reader ``port`` names (nothing is opened until the first read)."""
    if port.startswith("evdev:"):
        from hal.reader.wedge import WedgeReader

        return WedgeReader(port[len("evdev:"):], gap=gap)
    from hal.reader.serial_reader import SerialReader

    return SerialReader(port, baudrate=baudrate, framing=framing, gap=gap)
