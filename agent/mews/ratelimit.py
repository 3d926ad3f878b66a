"""Client-side sliding-window limiter: stay under the platform's 200 requests / 30 s per token.

The budget is one window per token, shared by two lanes. ``DEVICE`` (device-command
work: the drain, command reports, the outbox's payment records) may fill the whole
window; ``KIOSK`` (the guest's lookups, updates, tasks) only while ``reserved`` slots
stay free, so a kiosk flood can never take the slots a print or key command needs.
"""

from __future__ import annotations

import collections
import hashlib
import threading
import time
from collections.abc import Callable

from agent.mews.errors import BudgetSpent

LIMIT = 200
WINDOW = 30.0
# The platform counts a request when it arrives, a little after we counted it; without a
# margin the 201st request can land inside the platform's window and draw a 429.
MARGIN = 1.0
# Slots of LIMIT kept for device-command work. A print or key command costs 3 to 4 requests
# (getAllActive, Received, Processing, Processed); polling every 5 s while the websocket is
# down adds 7 per window. 40 carries the polls plus 8 commands per 30 s however busy the kiosk
# is, and leaves the kiosk 160 (a check-in costs about 8: 20 guests per 30 s, more than a screen
# can serve).
RESERVED = 40

DEVICE = "device"
KIOSK = "kiosk"
LANES = (DEVICE, KIOSK)


class RateLimiter:
    """At most ``limit`` acquisitions per key in any ``window`` seconds; ``acquire`` blocks for a slot.

    The kiosk lane takes a slot only while more than ``reserved`` are free. After a 429
    (``refused``) the device lane waits what the platform asked, the kiosk lane twice that.
    ``clock`` and ``sleep`` are injectable so tests can run a fake time.
    """

    def __init__(self, limit: int = LIMIT, window: float = WINDOW + MARGIN, *, reserved: int | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        if reserved is None:
            reserved = limit * RESERVED // LIMIT  # the same share at a scaled-down limit
        if not 0 <= reserved < limit:
            raise ValueError("reserved must be >= 0 and below limit")
        self.limit = limit
        self.window = window
        self.reserved = reserved
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: dict[str, collections.deque] = {}
        self._paused: dict[str, dict[str, float]] = {}  # key -> lane -> until (after a 429)

    @staticmethod
    def _key(token: str) -> str:
        # Keep only a digest in memory: the limiter has no need for the token itself.
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    def _cap(self, lane: str) -> int:
        if lane == DEVICE:
            return self.limit
        if lane == KIOSK:
            return self.limit - self.reserved
        raise ValueError(f"unknown lane {lane!r}; expected one of {', '.join(LANES)}")

    def _wait_needed(self, key: str, lane: str, now: float) -> float:
        paused = self._paused.get(key, {}).get(lane, 0.0) - now
        sent = self._sent.get(key)
        if sent is None:
            return max(paused, 0.0)
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        cap = self._cap(lane)
        if len(sent) < cap:
            return max(paused, 0.0)
        # The slot frees when enough of the oldest requests leave for the count to drop below the cap.
        return max(sent[len(sent) - cap] + self.window - now, paused)

    def acquire(self, token: str, lane: str = DEVICE, *, max_wait: float | None = None) -> float:
        """Take a slot for ``token`` in ``lane``, sleeping until one frees; returns the seconds waited.

        With ``max_wait``, a slot that would take longer raises ``BudgetSpent`` at once
        (its ``retry_after`` says when one frees) rather than sleeping past the caller's deadline.
        """
        key = self._key(token)
        self._cap(lane)
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_needed(key, lane, now)
                if wait <= 0:
                    self._sent.setdefault(key, collections.deque()).append(now)
                    self._forget_idle(now)
                    return waited
            if max_wait is not None and waited + wait > max_wait:
                raise BudgetSpent(f"the {lane} share of the request budget is spent for {wait:.1f} s",
                                  retry_after=wait)
            self._sleep(wait)
            waited += wait

    def available(self, token: str, lane: str = DEVICE) -> int:
        """Requests ``token`` may send in ``lane`` right now without waiting."""
        key = self._key(token)
        with self._lock:
            if self._wait_needed(key, lane, self._clock()) > 0:
                return 0
            return self._cap(lane) - len(self._sent.get(key, ()))

    def used(self) -> int:
        """Requests in the current window of the busiest token (the fleet metrics' budget use)."""
        with self._lock:
            now = self._clock()
            return max((sum(1 for t in sent if t > now - self.window) for sent in self._sent.values()), default=0)

    def refused(self, token: str, retry_after: float | None) -> None:
        """The platform answered 429: hold the device lane as long as it asked, the kiosk lane twice that.

        The kiosk resuming later lets the device work the 429 stopped go first; device work
        never waits longer than the platform asked (without Retry-After its callers back off).
        """
        key = self._key(token)
        asked = retry_after if retry_after is not None and retry_after > 0 else 0.0
        with self._lock:
            now = self._clock()
            paused = self._paused.setdefault(key, {})
            for lane, until in ((DEVICE, now + asked), (KIOSK, now + max(2 * asked, 1.0))):
                paused[lane] = max(paused.get(lane, 0.0), until)

    def _forget_idle(self, now: float) -> None:
        # Tokens replaced by a new sign-in must not pile up forever.
        if len(self._sent) <= 4:
            return
        for key in [k for k, d in self._sent.items() if not d or d[-1] <= now - self.window]:
            del self._sent[key]
            self._paused.pop(key, None)
