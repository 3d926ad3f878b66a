"""Hostile HTTP clients for the kiosk's web server, and the screen's probe (tests, bench).

``Attack`` keeps ``count`` connections open to a server, reopening every one the server
closes, either idle (connect and say nothing) or slow-loris (a request head that never
ends: one more header byte every ``trickle`` seconds). ``probe`` is the kiosk screen's
view: a fresh connection, ``GET /api/config``, the whole answer within ``timeout``.
"""

from __future__ import annotations

import random
import resource
import selectors
import socket
import threading
import time


def raise_file_limit(wanted: int) -> None:
    """Soft RLIMIT_NOFILE up to ``wanted`` (never above the hard limit): the attack's sockets are files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class Attack:
    """``count`` connections to ``host:port`` kept open until ``stop()``; ``trickle`` None = idle."""

    def __init__(self, host: str, port: int, count: int, *, trickle: float | None = None, tick: float = 0.05):
        self.address, self.count, self.trickle, self.tick = (host, int(port)), count, trickle, tick
        self.opened = self.reopened = self.failed = 0
        self._selector = selectors.DefaultSelector()
        self._next_byte: dict[socket.socket, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="web-attack", daemon=True)

    def start(self) -> "Attack":
        raise_file_limit(self.count * 2 + 512)
        for _ in range(self.count):
            self._open()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for key in list(self._selector.get_map().values()):
            self._close(key.fileobj)
        self._selector.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def open_now(self) -> int:
        return len(self._selector.get_map())

    def _open(self) -> None:
        try:
            s = socket.create_connection(self.address, timeout=0.5)
        except OSError:
            self.failed += 1
            return
        s.setblocking(False)
        if self.trickle is not None:
            try:
                s.send(f"GET /api/config HTTP/1.1\r\nHost: {self.address[0]}:{self.address[1]}\r\nX-Slow: ".encode())
            except OSError:
                s.close()
                self.failed += 1
                return
            # spread the trickle so the server sees a steady drip, not bursts
            self._next_byte[s] = time.monotonic() + random.uniform(0, self.trickle)
        self._selector.register(s, selectors.EVENT_READ)
        self.opened += 1

    def _close(self, s: socket.socket) -> None:
        try:
            self._selector.unregister(s)
        except (KeyError, ValueError):
            pass
        self._next_byte.pop(s, None)
        s.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(self.tick):
                s = key.fileobj
                try:
                    if s.recv(65536):
                        continue  # an answer (e.g. a timeout page): the connection stays ours
                except BlockingIOError:
                    continue
                except OSError:
                    pass
                self._close(s)  # the server closed it: open another in its place
            now = time.monotonic()
            for s, due in list(self._next_byte.items()):
                if now >= due:
                    try:
                        s.send(b"a")
                    except BlockingIOError:
                        pass
                    except OSError:
                        self._close(s)
                        continue
                    self._next_byte[s] = now + self.trickle
            while self.open_now < self.count and not self._stop.is_set():
                self._open()
                self.reopened += 1


def probe(host: str, port: int, timeout: float = 1.0) -> float | None:
    """Seconds for a fresh ``GET /api/config`` to answer 200 in full, or None (refused, wrong, too slow)."""
    start = time.monotonic()
    deadline = start + timeout
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as s:
            s.sendall(f"GET /api/config HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                s.settimeout(left)
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    if not data.startswith(b"HTTP/1.1 200") or not data.rstrip().endswith(b"}"):
        return None
    return time.monotonic() - start


def probes(host: str, port: int, count: int, every: float, timeout: float = 1.0) -> list[float | None]:
    """``count`` probes, one every ``every`` seconds; each one's time or None."""
    out = []
    for i in range(count):
        t = time.monotonic()
        out.append(probe(host, port, timeout))
        time.sleep(max(0.0, every - (time.monotonic() - t)))
    return out


def share(results: list[float | None]) -> float:
    """The fraction of probes answered in time."""
    return sum(r is not None for r in results) / len(results) if results else 0.0
