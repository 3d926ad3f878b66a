"""The printer's byte channel, opened per job, with write pacing where the link needs it.

``/dev/serial0``, ``/dev/ttyUSB0``, a pty path, ``socket://host:9100``,
``tcp://host:9100`` and a USB printer-class path (``/dev/usb/lp0``) open alike
through ``hal.printer.transport``. Every failure becomes a DeviceError
with a message for staff; nothing here can hang: writes have a timeout and
status reads have their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from hal.errors import DeviceDisconnected, DeviceError

if TYPE_CHECKING:  # the transport is imported when the port opens
    from hal.printer.transport import Link

log = logging.getLogger(__name__)

BITS_PER_BYTE = 10  # 8N1 on the wire: start bit, 8 data bits, stop bit

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def port_lock(url: str) -> threading.Lock:
    """One lock per port in this process, so a POS receipt and a Mews job never interleave bytes."""
    with _locks_guard:
        return _locks.setdefault(url, threading.Lock())


class Pacer:
    """Paces writes to a printer without flow control so its receive buffer never overflows.

    Model: the printer takes ``bytes * 10 / baud`` to receive a chunk and
    ``row_time`` per dot row (printed or fed) to print it. Before each chunk we
    wait until the previous one is done, so the printer holds at most one
    chunk (one band) at a time. ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(self, baudrate: int, row_time: float, *, enabled: bool = True,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.byte_time = BITS_PER_BYTE / baudrate
        self.row_time = row_time
        self.enabled = enabled
        self.clock, self.sleep = clock, sleep
        self.ready_at = 0.0

    def cost(self, nbytes: int, rows: int) -> float:
        """Seconds the printer needs to receive and print a chunk."""
        return nbytes * self.byte_time + rows * self.row_time

    def wait(self) -> None:
        """Block until the printer has finished what it was sent."""
        if not self.enabled:
            return
        delay = self.ready_at - self.clock()
        if delay > 0:
            self.sleep(delay)

    def sent(self, nbytes: int, rows: int) -> None:
        start = max(self.clock(), self.ready_at)
        self.ready_at = start + self.cost(nbytes, rows)


class PrinterPort:
    """An open-per-job connection to the printer; use as a context manager.

    The link under it (serial, USB printer-class path, TCP) comes from
    ``hal.printer.transport.open_link``; pacing applies only where the link needs it.
    """

    def __init__(self, url: str, *, baudrate: int = 19200, flow_control: str = "none",
                 write_timeout: float = 10.0, row_time: float = 0.0025,
                 opener: Callable | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        if flow_control not in ("rtscts", "xonxoff", "none"):
            raise ValueError(f"flow_control must be rtscts, xonxoff or none, got {flow_control!r}")
        self.url = url
        self.baudrate = baudrate
        self.flow_control = flow_control
        self.write_timeout = write_timeout
        self._opener = opener
        self.pacer = Pacer(baudrate, row_time, enabled=False, clock=clock, sleep=sleep)
        self._link: Link | None = None

    # -- lifecycle -----------------------------------------------------------

    def open(self) -> PrinterPort:
        from hal.printer.transport import open_link

        link = self._link = open_link(self.url, baudrate=self.baudrate, flow_control=self.flow_control,
                                      write_timeout=self.write_timeout, opener=self._opener)
        self.pacer.enabled = link.paced
        return self

    def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            try:
                link.close()
            except Exception as e:  # the device may already be gone
                log.debug("closing printer port: %s", e)

    def __enter__(self) -> PrinterPort:
        return self.open() if self._link is None else self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- I/O -----------------------------------------------------------------

    def write(self, data: bytes, rows: int = 0) -> None:
        """Send one chunk (at most one band), paced; ``rows`` = dot rows it prints or feeds."""
        from hal.printer.transport import LinkTimeout

        link = self._require()
        self.pacer.wait()
        try:
            link.write(data)
        except LinkTimeout as e:
            self.close()
            raise DeviceError(
                f"printer stopped accepting data for {self.write_timeout:g} s: "
                "check paper, cover and cable", retryable=True) from e
        except Exception as e:
            self.close()
            raise DeviceDisconnected(f"printer disconnected while printing at {self.url}: "
                                     "check the cable and the printer's power") from e
        self.pacer.sent(len(data), rows)

    def drain(self) -> None:
        """Wait until the printer should have printed everything sent (paced links only)."""
        self.pacer.wait()

    def query(self, request: bytes, timeout: float) -> int | None:
        """Send a real-time request and return the one-byte answer, or None after ``timeout``."""
        from hal.printer.transport import LinkTimeout

        link = self._require()
        try:
            link.drop_input()  # drop stale answers and unsolicited status bytes
            link.write(request)
            return link.read_byte(timeout)
        except LinkTimeout:
            return None  # a printer that takes no bytes answers nothing either
        except Exception as e:
            self.close()
            raise DeviceDisconnected(f"printer disconnected at {self.url}: check the cable and the printer's power") from e

    def query_many(self, request: bytes, count: int, timeout: float) -> bytes:
        """Send a request answered by ``count`` bytes; returns what came within ``timeout`` per byte."""
        from hal.printer.transport import LinkTimeout

        link = self._require()
        out = bytearray()
        try:
            link.drop_input()
            link.write(request)
            while len(out) < count:
                byte = link.read_byte(timeout)
                if byte is None:
                    break
                out.append(byte)
        except LinkTimeout:
            pass
        except Exception as e:
            self.close()
            raise DeviceDisconnected(f"printer disconnected at {self.url}: check the cable and the printer's power") from e
        return bytes(out)

    def _require(self):
        if self._link is None:
            raise DeviceDisconnected(f"printer port {self.url} is not open")
        return self._link
