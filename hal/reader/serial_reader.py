"""A reader on a serial port, USB-CDC tty, pty or pyserial URL; opened at the first read, kept open."""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Callable

from hal.errors import DeviceDisconnected, port_problem
from hal.reader.scans import ScanAssembler

log = logging.getLogger(__name__)
POLL = 0.05  # seconds a read waits for bytes before the caller is asked whether to go on


class SerialReader:
    def __init__(self, url: str, *, baudrate: int = 9600, framing: str = "auto", gap: float = 0.25,
                 clock: Callable[[], float] = time.monotonic):
        self.url = url
        self.baudrate = baudrate
        self.scans = ScanAssembler(framing, gap)
        self.clock = clock
        self._port = None
        self._ready: deque[str] = deque(maxlen=8)  # whole scans that came in one burst

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

    def read(self, deadline: float, check: Callable[[], None] = lambda: None) -> str | None:
        """The next whole scan, or None at ``deadline`` (monotonic); ``check()`` may raise to stop the wait."""
        port = self._open()
        while True:
            if self._ready:
                return self._ready.popleft()
            check()
            now = self.clock()
            for scan in self.scans.tick(now):
                return scan
            if now >= deadline:
                return None
            try:
                data = port.read(256)
            except (OSError, ValueError) as e:
                self.close()
                raise DeviceDisconnected(port_problem("document reader", self.url, "reader.port", e)) from None
            if data:
                self._ready.extend(self.scans.feed(data, self.clock()))

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:
                pass
