"""A virtual ESC/POS printer on a pty or a TCP port; every cut-off receipt becomes a PNG.

In-process use (tests, demo)::

    with VirtualPrinter(out_dir="out").start() as vp:
        ...print to vp.url...
        vp.receipts        # PIL images, one per cut
        vp.set_state(paper_out=True)
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
import tty
from pathlib import Path
from typing import Callable

from sim.printer.mechanism import Mechanism

log = logging.getLogger(__name__)


class VirtualPrinter:
    """ESC/POS printer simulator; ``tcp=False`` listens on a new pty, ``tcp=True`` on host:port."""

    def __init__(self, width_dots: int = 384, out_dir: str | os.PathLike | None = None, *,
                 tcp: bool = False, host: str = "127.0.0.1", port: int = 0,
                 on_receipt: Callable[[object, Path | None], None] | None = None):
        self.width_dots = width_dots
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.tcp, self.host, self.port = tcp, host, port
        self.receipts: list = []
        self.receipt_paths: list[Path] = []
        self.bytes_received = 0
        self._on_receipt = on_receipt
        self._mech = Mechanism(width_dots, on_receipt=self._receipt)
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._held = threading.Event()
        self._thread: threading.Thread | None = None
        self._master = self._slave = None
        self._server: socket.socket | None = None
        self._conn: socket.socket | None = None
        self.path: str | None = None
        self._next_number = 1

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> "VirtualPrinter":
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._next_number = _next_free_number(self.out_dir)
        if self.tcp:
            self._server = socket.create_server((self.host, self.port))
            self._server.settimeout(0.1)
            self.port = self._server.getsockname()[1]
            target = self._serve_tcp
        else:
            self._master, self._slave = os.openpty()
            tty.setraw(self._slave)  # no echo, no newline translation until a client configures it
            self.path = os.ttyname(self._slave)
            target = self._serve_pty
        self._thread = threading.Thread(target=target, name="virtual-printer", daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        """What the agent's ``printer.port`` should say: the pty path or a socket:// URL."""
        return f"socket://{self.host}:{self.port}" if self.tcp else self.path

    @property
    def tcp_url(self) -> str:
        """The raw-TCP form the agent reads status over (``tcp://``); TCP mode only."""
        return f"tcp://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop serving (an "unplugged" printer); pending paper becomes a last receipt."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None
        for s in (self._conn, self._server):
            if s is not None:
                s.close()
        with self._lock:
            self._mech.flush()

    def __enter__(self) -> "VirtualPrinter":
        return self if self._thread else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- control -------------------------------------------------------------

    def set_state(self, **state) -> None:
        """paper_out, cover_open, paper_near_end, error (bools); paper_rows (dot rows left, None = endless);
        near_end_rows (the near-end sensor trips below it); presenter, ticket_taken (a Custom-style presenter)."""
        with self._lock:
            self._mech.set_state(**state)

    def hold(self, held: bool = True) -> None:
        """Stop reading (a printer holding off): the sender's writes block and then time out."""
        if held:
            self._held.set()
        else:
            self._held.clear()

    def wait_receipts(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``count`` receipts were cut."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.receipts) >= count, timeout)

    @property
    def mechanism(self) -> Mechanism:
        return self._mech

    @property
    def state(self) -> dict:
        m = self._mech
        return {"paper_out": m.paper_out, "cover_open": m.cover_open, "paper_near_end": m.paper_near_end,
                "error": m.error, "paper_rows": m.paper_rows, "near_end_rows": m.near_end_rows,
                "presenter": m.presenter, "ticket_in_output": m.ticket_in_output, "retracted": m.retracted}

    @property
    def drawer_kicks(self) -> int:
        return self._mech.drawer_kicks

    @property
    def unknown_commands(self) -> list[bytes]:
        return list(self._mech.unknown)

    # -- serving -------------------------------------------------------------

    def _receipt(self, image) -> None:
        path = None
        if self.out_dir is not None:
            path = self.out_dir / f"receipt-{self._next_number:04d}.png"
            self._next_number += 1
            image.save(path)
            self.receipt_paths.append(path)
        self.receipts.append(image)
        self._lock.notify_all()
        if self._on_receipt is not None:
            try:
                self._on_receipt(image, path)
            except Exception:
                log.exception("receipt callback failed")

    def _handle(self, data: bytes) -> bytes:
        with self._lock:
            self.bytes_received += len(data)
            return self._mech.feed_bytes(data)

    def _serve_pty(self) -> None:
        master = self._master
        while not self._stop.is_set():
            if self._held.is_set():
                time.sleep(0.02)
                continue
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # no client has the slave open right now (EIO): wait for one
                time.sleep(0.02)
                continue
            answer = self._handle(data)
            if answer:
                os.write(master, answer)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (socket.timeout, OSError):
                continue
            self._conn = conn
            conn.settimeout(0.05)
            try:
                while not self._stop.is_set():
                    if self._held.is_set():
                        time.sleep(0.02)
                        continue
                    try:
                        data = conn.recv(65536)
                    except socket.timeout:
                        continue
                    if not data:
                        break
                    answer = self._handle(data)
                    if answer:
                        conn.sendall(answer)
            except OSError as e:
                log.debug("virtual printer connection: %s", e)
            finally:
                conn.close()
                self._conn = None
                with self._lock:
                    self._mech.flush()  # a job without a cut ends with the connection


def _next_free_number(folder: Path) -> int:
    """Continue numbering after receipts already in the folder, never overwrite one."""
    numbers = [int(p.stem.split("-")[1]) for p in folder.glob("receipt-[0-9][0-9][0-9][0-9]*.png")
               if p.stem.split("-")[1].isdigit()]
    return max(numbers, default=0) + 1
