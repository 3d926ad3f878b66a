"""Shared test plumbing for the encoder link: a scripted encoder on a real pty."""

from __future__ import annotations

import os
import select
import threading
import time
import tty

from hal.encoder.frame import FrameReader


class ScriptedEncoder:
    """A pty peer that runs ``script(self)`` in a thread; assertion errors surface in ``join``."""

    def __init__(self, script):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.reader = FrameReader()
        self.pending: list = []
        self.error = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self.thread.start()

    def _run(self, script):
        try:
            script(self)
        except BaseException as e:  # noqa: BLE001 - reported by join()
            self.error = e
        finally:
            self.done.set()

    def next(self, timeout=5.0):
        """The next ("control", byte) or ("frame", bytes) the host sent, or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                self.pending += list(self.reader.feed(os.read(self.master, 4096)))
        return self.pending.pop(0)

    def send(self, data):
        os.write(self.master, bytes(data))

    def expect(self, kind, value=None):
        got = self.next()
        assert got is not None, f"host sent nothing, expected {kind}"
        assert got[0] == kind, f"expected {kind}, got {got}"
        if value is not None:
            assert got[1] == value, f"expected {value!r}, got {got[1]!r}"
        return got[1]

    def quiet(self, timeout=0.3):
        assert self.next(timeout) is None, "host sent more than expected"

    def join(self):
        self.done.wait(10)
        if self.error:
            raise self.error

    def close(self):
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
