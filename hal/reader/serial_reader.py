"""A reader on a serial port, USB-CDC tty, pty or pyserial URL; opened at the first read, kept open."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hal.errors import DeviceDisconnected, port_problem
from hal.reader.scans import ScanAssembler, ScanReader

if TYPE_CHECKING:  # pyserial is imported when the port opens
    import serial

log = logging.getLogger(__name__)
POLL = ScanReader.POLL  # the port's read timeout: one wait of the shared loop


class SerialReader(ScanReader):
    def __init__(self, url: str, *, baudrate: int = 9600, framing: str = "auto", gap: float = 0.25,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(ScanAssembler(framing, gap), clock)
        self.url = url
        self.baudrate = baudrate
        self._port: serial.Serial | None = None

    def _open(self):
        if self._port is None:
            import serial

            try:
                self._port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=POLL)
            except (OSError, ValueError, serial.SerialException) as e:
                raise DeviceDisconnected(port_problem("document reader", self.url, "reader.port", e)) from None
        return self._port

    def open(self) -> None:
        self._open()

    def discard(self) -> None:
        """Drop every byte and partial scan that arrived before now."""
        port = self._open()
        try:
            port.reset_input_buffer()
            while port.in_waiting:
                port.read(port.in_waiting)
        except (OSError, ValueError) as e:
            self.close()
            raise DeviceDisconnected(port_problem("document reader", self.url, "reader.port", e)) from None
        self.scans.reset()
        self._ready.clear()

    def _chunk(self, wait: float) -> bytes:
        port = self._open()  # its read timeout is POLL
        try:
            return port.read(256)
        except (OSError, ValueError) as e:
            self.close()
            raise DeviceDisconnected(port_problem("document reader", self.url, "reader.port", e)) from None

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:
                pass
