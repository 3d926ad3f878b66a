"""How every `kiosk-agent sim ...` command serves: until SIGINT or SIGTERM, then a clean stop."""

from __future__ import annotations

import signal
import threading
from typing import Callable


def serve_until_signalled(stop: Callable[[], None]) -> None:
    """Block until SIGINT/SIGTERM arrives, then call ``stop``; the previous handlers are restored."""
    done = threading.Event()
    previous = {s: signal.signal(s, lambda signum, frame: done.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not done.wait(0.5):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        stop()
