"""Exponential backoff with full jitter (AWS style): sleep a random time in [0, min(cap, base * 2**n)]."""

from __future__ import annotations

import random
import time


class Backoff:
    """Delays for a retry loop; ``reset_after`` seconds of success start it over."""

    def __init__(self, base: float = 0.5, cap: float = 60.0, *, reset_after: float = 60.0,
                 rng: random.Random | None = None, clock=time.monotonic):
        self.base, self.cap, self.reset_after = base, cap, reset_after
        self.rng = rng or random.Random()
        self.clock = clock
        self.failures = 0
        self._ok_since: float | None = None

    def next_delay(self) -> float:
        """Record a failure and return how long to wait before the next try."""
        self._ok_since = None
        ceiling = min(self.cap, self.base * (2 ** min(self.failures, 30)))
        self.failures += 1
        return self.rng.uniform(0, ceiling)

    def succeeded(self) -> None:
        """A try worked: start over (immediately; for connections use ``connected``/``check_stable``)."""
        self.failures = 0
        self._ok_since = None

    def connected(self) -> None:
        """A connection opened; the backoff resets only once it stayed up ``reset_after`` seconds."""
        self._ok_since = self.clock()

    def check_stable(self) -> None:
        if self._ok_since is not None and self.clock() - self._ok_since >= self.reset_after:
            self.failures = 0
            self._ok_since = None
