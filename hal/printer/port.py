"""The printer's byte channel: a pyserial URL, opened per job, with write pacing.

``/dev/serial0``, ``/dev/ttyUSB0``, a pty path and ``socket://host:9100`` open
alike through ``serial.serial_for_url``. Every failure becomes a DeviceError
with a message for staff; nothing here can hang: writes have a timeout and
status reads have their own.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from hal.errors import DeviceDisconnected, DeviceError, port_error

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
    """An open-per-job connection to the printer; use as a context manager."""

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
        # A network printer has TCP flow control and a large buffer: byte-time
        # pacing would only slow it down. Serial links without handshaking need it.
        paced = flow_control == "none" and not url.lower().startswith("socket://")
        self.pacer = Pacer(baudrate, row_time, enabled=paced, clock=clock, sleep=sleep)
        self._serial = None

    # -- lifecycle -----------------------------------------------------------

    def open(self) -> "PrinterPort":
        opener = self._opener
        if opener is None:
            import serial  # imported here: `kiosk-agent --help` must not load pyserial
            opener = serial.serial_for_url
        try:
            # exclusive: one owner per device (an flock on the tty; ignored by socket:// URLs)
            self._serial = opener(
                self.url, baudrate=self.baudrate, rtscts=self.flow_control == "rtscts",
                xonxoff=self.flow_control == "xonxoff", write_timeout=self.write_timeout, timeout=1.0,
                exclusive=True)
        except ValueError as e:  # unknown URL scheme, impossible baud rate: a config mistake
            raise DeviceError(f"printer port {self.url!r} is not usable (not a device path or socket://host:port): "
                              "check printer.port and printer.baudrate", retryable=False) from e
        except Exception as e:  # serial.SerialException is an OSError (IOError) subclass
            raise port_error("printer", self.url, "printer.port", e) from e
        try:
            self._serial.reset_input_buffer()
        except Exception:
            pass
        return self

    def close(self) -> None:
        ser, self._serial = self._serial, None
        if ser is not None:
            try:
                ser.close()
            except Exception as e:  # the device may already be gone
                log.debug("closing printer port: %s", e)

    def __enter__(self) -> "PrinterPort":
        return self.open() if self._serial is None else self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- I/O -----------------------------------------------------------------

    def write(self, data: bytes, rows: int = 0) -> None:
        """Send one chunk (at most one band), paced; ``rows`` = dot rows it prints or feeds."""
        ser = self._require()
        self.pacer.wait()
        try:
            ser.write(data)
        except Exception as e:
            self.close()
            from serial import SerialTimeoutException  # loaded already: the port is open

            if isinstance(e, SerialTimeoutException):
                raise DeviceError(
                    f"printer stopped accepting data for {self.write_timeout:g} s: "
                    "check paper, cover and cable", retryable=True) from e
            raise DeviceDisconnected(f"printer disconnected while printing at {self.url}: "
                                     "check the cable and the printer's power") from e
        self.pacer.sent(len(data), rows)

    def drain(self) -> None:
        """Wait until the printer should have printed everything sent (paced links only)."""
        self.pacer.wait()

    def query(self, request: bytes, timeout: float) -> int | None:
        """Send a real-time request and return the one-byte answer, or None after ``timeout``."""
        ser = self._require()
        try:
            ser.reset_input_buffer()  # drop stale answers and unsolicited status bytes
            ser.write(request)
            ser.timeout = timeout
            answer = ser.read(1)
        except Exception as e:
            self.close()
            raise DeviceDisconnected(f"printer disconnected at {self.url}: check the cable and the printer's power") from e
        return answer[0] if answer else None

    def _require(self):
        if self._serial is None:
            raise DeviceDisconnected(f"printer port {self.url} is not open")
        return self._serial
