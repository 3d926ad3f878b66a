"""A staff tool's side of the control socket: ask the running agent, or learn that none runs."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from agent.control import SOCKET_NAME
from agent.control.protocol import MAX_LINE, Answer, MalformedMessage, Request


class AgentNotAnswering(Exception):
    """An agent listens on the socket but gave no usable answer in time (it still owns the devices)."""


def socket_path(state_dir: Path | str) -> Path:
    return Path(state_dir) / SOCKET_NAME


def ask(state_dir: Path | str, request: Request, timeout: float = 10.0) -> Answer | None:
    """The running agent's answer; None when no agent listens on this state folder.

    ``timeout`` bounds the connection and the wait for the answer (a job's ``wait`` is added).
    """
    path = socket_path(state_dir)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            return None  # no socket, or a dead agent's file: nobody owns the devices
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ECONNREFUSED, errno.ENOTDIR):
                return None
            raise AgentNotAnswering(f"cannot reach the running agent at {path}: {e.strerror or e}") from None
        sock.settimeout(timeout + (request.wait if request.op == "job" else 0.0))
        try:
            sock.sendall(request.to_line())
            data = b""
            while b"\n" not in data and len(data) <= MAX_LINE:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError as e:  # socket.timeout included
            raise AgentNotAnswering(f"the running agent did not answer ({e.strerror or e or 'timeout'})") from None
        try:
            return Answer.from_line(data.split(b"\n", 1)[0])
        except MalformedMessage as e:
            raise AgentNotAnswering(str(e)) from None
    finally:
        sock.close()


def listening(state_dir: Path | str, timeout: float = 2.0) -> bool:
    """True when an agent accepts connections on this state folder's control socket."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(socket_path(state_dir)))
        return True
    except OSError:
        return False
    finally:
        sock.close()
