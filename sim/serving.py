"""How every `kiosk-agent sim ...` command serves: until SIGINT or SIGTERM, then a clean stop."""

from __future__ import annotations

import signal
import socket
import threading
from typing import Callable


def serve_until_signalled(stop: Callable[[], None], ready: str) -> None:
    """Print the ``ready`` line, block until SIGINT/SIGTERM arrives, then call ``stop``.

    The line goes out only once the handlers are in place: a script that reads it
    and signals at once gets a clean stop (exit 0), not a KeyboardInterrupt.
    The previous handlers are restored."""
    done = threading.Event()
    previous = {s: signal.signal(s, lambda signum, frame: done.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(ready, flush=True)
        while not done.wait(0.5):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        stop()


def free_port() -> int:
    """A loopback port free right now, for a server that must be told its port in advance."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
