"""A network printer stand-in on loopback and a small raster job, shared by the printer tests."""

from __future__ import annotations

import socket
import threading

import pytest
from PIL import Image, ImageDraw

from hal.printer import escpos

OK_BYTE, NEAR_END, PAPER_OUT = 0x12, 0x12 | 0x0C, 0x12 | 0x0C | 0x60


class TcpPrinter:
    """A network printer on loopback: records what it is sent, answers DLE EOT n with ``answers[n]``."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = bytearray()
        self.answers = {1: OK_BYTE, 2: OK_BYTE, 4: OK_BYTE}
        self.silent = False
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn):
        pending = b""
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                pending += data
                while (i := pending.find(b"\x10\x04")) >= 0 and len(pending) >= i + 3:
                    n = pending[i + 2]
                    self.received += pending[:i]
                    pending = pending[i + 3:]
                    if not self.silent:
                        conn.sendall(bytes([self.answers.get(n, OK_BYTE)]))
                # keep a possible half request for the next read
                keep = 2 if pending.endswith(b"\x10\x04") else (1 if pending.endswith(b"\x10") else 0)
                self.received += pending[:len(pending) - keep]
                pending = pending[len(pending) - keep:]

    def close(self):
        self.server.close()


@pytest.fixture
def tcp_printer():
    p = TcpPrinter()
    yield p
    p.close()


def small_job():
    img = Image.new("1", (384, 60), 1)
    ImageDraw.Draw(img).rectangle((10, 5, 200, 40), fill=0)
    return escpos.encode_raster(img)
