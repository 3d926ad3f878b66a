"""Count malformed platform input and log it, at most one line per interval.

A hostile or buggy platform can send thousands of bad frames or command entries a
second; each is counted, but the log gets one line per ``interval`` saying how many
were skipped since the last line (the first one is logged at once).
"""

from __future__ import annotations

import logging
import threading
import time

from agent.runtime.logs import redact


class MalformedCounter:
    """``total`` counts every malformed item; ``note`` logs rate-limited."""

    def __init__(self, what: str, logger: logging.Logger, *, interval: float = 60.0, clock=time.monotonic):
        self.what = what
        self.total = 0
        self._log = logger
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._unlogged = 0
        self._last_line: float | None = None

    def note(self, detail: str, n: int = 1) -> None:
        """Count ``n`` malformed items; log ``detail`` unless a line was written within the interval."""
        with self._lock:
            self.total += n
            self._unlogged += n
            now = self._clock()
            if self._last_line is not None and now - self._last_line < self._interval:
                return
            count, self._unlogged, self._last_line = self._unlogged, 0, now
        more = f" ({count} since the last report, {self.total} in all)" if count > 1 else ""
        self._log.warning("skipped malformed %s: %s%s", self.what, redact(detail)[:300], more)
