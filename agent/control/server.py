"""The agent's side of the control socket: device checks and staff jobs, run by the device's owner.

A check never interrupts a job: while a device works (busy, or waiting for a card) the answer
is "busy" with what it is doing; otherwise the printer is asked DLE EOT under its port lock
(the lock its print jobs take) and the encoder ENQ under its own lock (the lock every
transaction takes). A job goes through the device's one worker like every other job.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading
from pathlib import Path

from agent.control import SOCKET_NAME
from agent.control.protocol import MAX_LINE, Answer, MalformedMessage, Request
from agent.runtime.health import BUSY, WAITING

log = logging.getLogger(__name__)

READ_TIMEOUT = 5.0  # seconds a client has to send its request line


def _short(e: BaseException) -> str:
    text = " ".join((str(e).strip() or type(e).__name__).split())
    from agent.runtime.logs import redact

    return redact(text)[:300]


class ControlServer:
    """Listens on ``state_dir/control.sock`` while the agent runs."""

    def __init__(self, state_dir: Path | str, jobs, handlers: list, health):
        self.path = Path(state_dir) / SOCKET_NAME
        self.jobs, self.handlers, self.health = jobs, list(handlers), health
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind (replacing a dead agent's socket file: ``agent.lock`` says we are the only agent here)."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # Connecting needs write permission on the socket file: with the usual umask no other
            # user ever had it, and 0600 keeps it the agent's user's (and root's) alone.
            sock.bind(str(self.path))
            os.chmod(self.path, 0o600)
            sock.listen(8)
            sock.settimeout(0.5)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        try:
            self.path.unlink()
        except OSError:
            pass

    def _serve(self) -> None:
        sock = self._sock
        if sock is None:  # closed before the thread ran
            return
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            threading.Thread(target=self._connection, args=(conn,), name="control-client", daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        with conn:
            try:
                if not self._trusted(conn):
                    return
                answer = self.answer(self._read_line(conn))
            except MalformedMessage as e:
                answer = Answer("error", str(e), pid=os.getpid())
            except Exception as e:  # a client's mistake never reaches the agent's threads
                log.warning("control socket: %s", _short(e))
                answer = Answer("error", _short(e), pid=os.getpid())
            try:
                conn.sendall(answer.to_line())
            except OSError:
                pass  # the client left; a job it started has its outcome in the log

    @staticmethod
    def _trusted(conn: socket.socket) -> bool:
        """The peer runs as root or as the agent's own user (the file mode says so too)."""
        try:
            _, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                            struct.calcsize("3i")))
        except (OSError, AttributeError):
            return True  # no SO_PEERCRED here: the 0600 file mode alone decides
        return uid in (0, os.geteuid())

    @staticmethod
    def _read_line(conn: socket.socket) -> bytes:
        conn.settimeout(READ_TIMEOUT)
        data = b""
        while b"\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
            if len(data) > MAX_LINE:
                raise MalformedMessage("request too large")
        return data.split(b"\n", 1)[0]

    # ---- operations ---------------------------------------------------------------

    def answer(self, line: bytes) -> Answer:
        req = Request.from_line(line)
        return self._check(req.device) if req.op == "check" else self._job(req)

    def _handler(self, name: str):
        return next((h for h in self.handlers if getattr(h, "name", "") == name), None)

    def _check(self, device: str) -> Answer:
        pid = os.getpid()
        handler = self._handler(device)
        if handler is None:
            return Answer("fail", f"the running agent has no {device}", f"add a [{device}] table and restart", pid=pid)
        state = self.health.devices.get(handler.name)
        if state is not None and state.state in (BUSY, WAITING):
            return Answer("busy", state.activity or state.state, pid=pid)
        from hal.errors import DeviceError

        check = getattr(handler, "check", None)
        if check is None:
            return Answer("ok", f"no status check for this {device}", pid=pid)
        try:
            result = check()
        except DeviceError as e:
            return Answer("fail", _short(e), pid=pid)
        return Answer(result.status, result.detail, result.fix, pid=pid)

    def _job(self, req: Request) -> Answer:
        from agent.runtime.jobs import Job, JobKind, Source

        handle = self.jobs.submit(Job(kind=JobKind(req.kind), data=req.data, source=Source.CLI))
        outcome = handle.wait(req.wait)
        if outcome is None:
            handle.cancel()  # skipped if still queued, stopped between steps if running
            return Answer("failed", f"no outcome within {req.wait:g} s: the job was cancelled", pid=os.getpid())
        return Answer(outcome.state.value, outcome.note, result=dict(outcome.result), pid=os.getpid())
