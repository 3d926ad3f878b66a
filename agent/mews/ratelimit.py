"""Client-side sliding-window limiter: stay under the platform's 200 requests / 30 s per token."""

from __future__ import annotations

import collections
import hashlib
import threading
import time
from typing import Callable

LIMIT = 200
WINDOW = 30.0
# The platform counts a request when it arrives, a little after we counted it; without a
# margin the 201st request can land inside the platform's window and draw a 429.
MARGIN = 1.0


class RateLimiter:
    """At most ``limit`` acquisitions per key in any ``window`` seconds; ``acquire`` blocks for a slot.

    ``clock`` and ``sleep`` are injectable so tests can run a fake time.
    """

    def __init__(self, limit: int = LIMIT, window: float = WINDOW + MARGIN, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: dict[str, collections.deque] = {}

    @staticmethod
    def _key(token: str) -> str:
        # Keep only a digest in memory: the limiter has no need for the token itself.
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    def _wait_needed(self, key: str, now: float) -> float:
        sent = self._sent.get(key)
        if sent is None:
            return 0.0
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        if len(sent) < self.limit:
            return 0.0
        return sent[0] + self.window - now

    def acquire(self, token: str) -> float:
        """Take a slot for ``token``, sleeping until one frees; returns the seconds waited."""
        key = self._key(token)
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(key, now)
                if wait <= 0:
                    self._sent.setdefault(key, collections.deque()).append(now)
                    self._forget_idle(now)
                    return waited
            self._sleep(wait)
            waited += wait

    def available(self, token: str) -> int:
        """Requests ``token`` may send right now without waiting."""
        key = self._key(token)
        with self._lock:
            self._wait_needed(key, self._clock())
            return self.limit - len(self._sent.get(key, ()))

    def _forget_idle(self, now: float) -> None:
        # Tokens replaced by a new sign-in must not pile up forever.
        if len(self._sent) <= 4:
            return
        for key in [k for k, d in self._sent.items() if not d or d[-1] <= now - self.window]:
            del self._sent[key]
