"""The byte links a printer sits behind, chosen from ``printer.port``.

- ``tcp://HOST:PORT``: raw ESC/POS over a socket (port 9100 on most printers);
  status when the printer answers ``DLE EOT``.
- any other ``scheme://`` URL: pyserial's ``serial_for_url`` as before
  (``socket://`` keeps working, without the status guarantees of ``tcp://``).
- an absolute path: opened read-write; a tty (a serial adapter, the Pi's UART,
  a pty) goes through pyserial with ``exclusive=True``, anything else (a USB
  printer-class device ``/dev/usb/lp0``, ``/dev/usb/by-id/...``) is written and
  read directly, its status read with ``select`` and a timeout. We decide by
  "is it a tty", not by the file type: a USB printer node is a character device
  but so are many things, and a test stand-in need not be one.

Every link has the same four operations (write, read_byte, drop_input, close)
and says whether byte-time pacing applies (``paced``): only a serial line
without handshaking needs it; TCP and USB have flow control of their own.
Exclusive use: pyserial's ``exclusive`` for ttys, ``flock`` for other paths, so
a second program on the same printer is told, not interleaved.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import time
from collections.abc import Callable
from typing import Any, Protocol

from hal.errors import DeviceDisconnected, DeviceError, PortInUse, port_problem

KEY = "printer.port"


class Link(Protocol):
    paced: bool

    def write(self, data: bytes) -> None: ...
    def read_byte(self, timeout: float) -> int | None: ...
    def drop_input(self) -> None: ...
    def close(self) -> None: ...


class LinkTimeout(Exception):
    """The printer took no data for the write timeout (paper, cover, a full buffer)."""


def tcp_address(url: str) -> tuple[str, int] | None:
    """``("192.168.1.50", 9100)`` for ``tcp://192.168.1.50:9100``; None when ``url`` is not tcp://."""
    if not url.lower().startswith("tcp://"):
        return None
    host, sep, port = url[6:].rstrip("/").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise DeviceError(f"printer port {url!r} is not usable: expected tcp://HOST:PORT, "
                          f"e.g. tcp://192.168.1.50:9100; check {KEY}", retryable=False)
    return host.strip("[]"), int(port)


def open_link(url: str, *, baudrate: int, flow_control: str, write_timeout: float,
              opener: Callable | None = None) -> Link:
    """Open the link ``url`` names; DeviceError (config mistake) or DeviceDisconnected (absent, busy)."""
    address = tcp_address(url)
    if address is not None:
        return TcpLink.connect(url, address, write_timeout)
    if opener is None and url.startswith("/"):
        fd = _open_path(url)
        if not os.isatty(fd):
            return FileLink.take(url, fd, write_timeout)
        os.close(fd)  # a tty: pyserial sets its line discipline and baud rate
        return SerialLink.open(url, baudrate=baudrate, flow_control=flow_control,
                               write_timeout=write_timeout, exclusive=True)
    return SerialLink.open(url, baudrate=baudrate, flow_control=flow_control,
                           write_timeout=write_timeout, opener=opener)


def may_be_status_less(url: str) -> bool:
    """True for links where silence means "no back channel" rather than "no printer": tcp://, non-tty paths.

    A serial line opens whether or not a printer is on it, so there silence means absent or off.
    """
    if url.lower().startswith("tcp://"):
        return True
    if not url.startswith("/"):
        return False
    try:
        fd = os.open(url, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return not os.isatty(fd)
    finally:
        os.close(fd)


def _open_path(path: str) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise DeviceDisconnected(port_problem("printer", path, KEY, e)) from e


def _in_use(url: str) -> DeviceDisconnected:
    return PortInUse(port_problem("printer", url, KEY, OSError(errno.EAGAIN, "in use")))


class SerialLink:
    """pyserial: ttys, ptys and pyserial URLs (today's path)."""

    def __init__(self, ser, paced: bool):
        self.ser, self.paced = ser, paced

    @classmethod
    def open(cls, url: str, *, baudrate: int, flow_control: str, write_timeout: float,
             opener: Callable | None = None, exclusive: bool = False) -> SerialLink:
        extra: dict[str, Any] = {}
        if opener is None:
            import serial  # imported here: `kiosk-agent --help` must not load pyserial
            opener = serial.serial_for_url
            if exclusive:
                extra["exclusive"] = True
        try:
            ser = opener(url, baudrate=baudrate, rtscts=flow_control == "rtscts",
                         xonxoff=flow_control == "xonxoff", write_timeout=write_timeout, timeout=1.0, **extra)
        except ValueError as e:  # unknown URL scheme, impossible baud rate: a config mistake
            raise DeviceError(f"printer port {url!r} is not usable (not a device path, tcp://host:port or "
                              f"socket://host:port): check {KEY} and printer.baudrate", retryable=False) from e
        except Exception as e:  # serial.SerialException is an OSError (IOError) subclass
            if "exclusively" in str(e) or _errno_of(e) in (errno.EAGAIN, errno.EWOULDBLOCK):
                raise _in_use(url) from e
            raise DeviceDisconnected(port_problem("printer", url, KEY, e)) from e
        # A network printer has TCP flow control and a large buffer: byte-time
        # pacing would only slow it down. Serial links without handshaking need it.
        link = cls(ser, paced=flow_control == "none" and not url.lower().startswith("socket://"))
        link.drop_input()
        return link

    def write(self, data: bytes) -> None:
        try:
            self.ser.write(data)
        except Exception as e:
            from serial import SerialTimeoutException  # loaded already: the port is open

            if isinstance(e, SerialTimeoutException):
                raise LinkTimeout() from e
            raise

    def read_byte(self, timeout: float) -> int | None:
        self.ser.timeout = timeout
        answer = self.ser.read(1)
        return answer[0] if answer else None

    def drop_input(self) -> None:
        try:
            self.ser.reset_input_buffer()
        except Exception:
            pass

    def close(self) -> None:
        self.ser.close()


def _errno_of(e: BaseException) -> int | None:
    cause: BaseException | None = e
    while cause is not None:
        number = getattr(cause, "errno", None)
        if isinstance(number, int):
            return number
        cause = cause.__cause__ or cause.__context__
    return None


class _FdLink:
    """Shared by links over a plain descriptor: non-blocking, every wait bounded by ``select``."""

    paced = False

    def __init__(self, url: str, fd: int, write_timeout: float):
        self.url, self.fd, self.write_timeout = url, fd, write_timeout

    def _send(self, data: bytes | memoryview) -> int:
        return os.write(self.fd, data)

    def _recv(self, n: int) -> bytes:
        return os.read(self.fd, n)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + self.write_timeout
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LinkTimeout()
            _, writable, _ = select.select([], [self.fd], [], left)
            if not writable:
                continue
            try:
                n = self._send(view)
            except (BlockingIOError, InterruptedError):
                continue
            view = view[n:]

    def read_byte(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([self.fd], [], [], left)
            if not readable:
                return None
            try:
                data = self._recv(1)
            except (BlockingIOError, InterruptedError):
                continue
            # End of file: a device that cannot talk back (or a plain file). Nothing will come.
            return data[0] if data else None

    def drop_input(self) -> None:
        for _ in range(64):  # bounded: a chatty device must not keep us here
            try:
                readable, _, _ = select.select([self.fd], [], [], 0)
                if not readable or not self._recv(4096):
                    return
            except OSError:
                return

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)


class FileLink(_FdLink):
    """A path that is not a tty: USB printer-class devices (``/dev/usb/lp0``), held with ``flock``."""

    @classmethod
    def take(cls, url: str, fd: int, write_timeout: float) -> FileLink:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                raise _in_use(url) from e
            raise DeviceDisconnected(port_problem("printer", url, KEY, e)) from e
        return cls(url, fd, write_timeout)


class TcpLink(_FdLink):
    """Raw ESC/POS over TCP (``tcp://HOST:9100``): one connection per job, as the printer serves one at a time."""

    def __init__(self, url: str, sock: socket.socket, write_timeout: float):
        super().__init__(url, sock.fileno(), write_timeout)
        self.sock = sock

    @classmethod
    def connect(cls, url: str, address: tuple[str, int], write_timeout: float) -> TcpLink:
        try:
            sock = socket.create_connection(address, timeout=min(5.0, write_timeout))
        except OSError as e:
            raise DeviceDisconnected(port_problem("printer", url, KEY, e)) from e
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # status requests must not wait for Nagle
        sock.setblocking(False)
        return cls(url, sock, write_timeout)

    def _send(self, data) -> int:
        return self.sock.send(data)

    def _recv(self, n: int) -> bytes:
        return self.sock.recv(n)

    def close(self) -> None:
        self.fd = -1
        self.sock.close()
