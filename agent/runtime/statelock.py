"""One agent per state folder: ``run`` holds an exclusive lock on ``agent.state_dir/agent.lock``."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from agent.runtime.store import StateError


class StateFolderBusy(Exception):
    """Another agent runs on this state folder."""


class StateLock:
    def __init__(self, state_dir: Path | str):
        self.path = Path(state_dir) / "agent.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise StateError(f"cannot use the state folder {self.path.parent} (agent.state_dir): "
                             f"{e.strerror or e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                other = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            finally:
                os.close(fd)
            raise StateFolderBusy(f"another kiosk-agent (pid {other}) already runs on the state folder "
                                  f"{self.path.parent} (agent.state_dir)") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
