"""Faults on demand (latency, 5xx share, websocket drop/silence, displacement) and the rate limit."""

from __future__ import annotations

import collections
import math
import random
import threading
import time

# commands_missing: getAllActive answers {} (no Commands); stall_websockets: the upgrade request is
# never answered; trickle_websockets: each new socket gets a frame one byte per trickle_interval;
# slow_rest: every API answer trickles one byte per trickle_interval (slow-loris).
_BOOL_KEYS = ("rate_limit", "drop_websockets", "silence_websockets", "displace", "commands_missing",
              "stall_websockets", "trickle_websockets", "slow_rest")
KNOWN = ("latency_ms", "error_rate", "seed", "rate_limit_requests", "rate_limit_window",
         "trickle_interval", "failing_operations", "losing_operations") + _BOOL_KEYS
_SERVER_ERRORS = (500, 502, 503, 504)


class Faults:
    """Current fault settings; ``update`` validates like the admin route and raises ValueError."""

    def __init__(self, rate_limit: bool = True):
        self._lock = threading.Lock()
        self.latency_ms = 0.0
        self.error_rate = 0.0
        self.rate_limit = rate_limit
        self.rate_limit_requests = 200
        self.rate_limit_window = 30.0
        self.drop_websockets = False
        self.silence_websockets = False
        self.commands_missing = False
        self.stall_websockets = False
        self.trickle_websockets = False
        self.slow_rest = False
        self.trickle_interval = 0.5
        # operation -> 5xx status it answers with (a platform side that is down for one operation only)
        self.failing_operations: dict[str, int] = {}
        # operation -> how many of its next requests are carried out and then lose their answer
        self.losing_operations: dict[str, int] = {}
        self._rng = random.Random(0)  # deterministic unless reseeded

    def update(self, **changes) -> None:
        unknown = sorted(set(changes) - set(KNOWN))
        if unknown:
            raise ValueError(f"Unknown fault {', '.join(unknown)}; known: {', '.join(KNOWN)}.")
        for key in _BOOL_KEYS:
            if key in changes and not isinstance(changes[key], bool):
                raise ValueError(f"Fault {key} must be true or false.")
        for key in ("latency_ms", "error_rate", "rate_limit_window", "trickle_interval"):
            value = changes.get(key)
            if key in changes and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise ValueError(f"Fault {key} must be a non-negative number.")
        failing = changes.get("failing_operations")
        if "failing_operations" in changes and (not isinstance(failing, dict) or not all(
                isinstance(k, str) and v in _SERVER_ERRORS for k, v in failing.items())):
            raise ValueError("Fault failing_operations maps operations to 500, 502, 503 or 504.")
        losing = changes.get("losing_operations")
        if "losing_operations" in changes and (not isinstance(losing, dict) or not all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
                for k, v in losing.items())):
            raise ValueError("Fault losing_operations maps operations to a count of answers to lose.")
        if changes.get("error_rate", 0) > 1:
            raise ValueError("Fault error_rate is a share between 0 and 1.")
        for key in ("seed", "rate_limit_requests"):
            value = changes.get(key)
            if key in changes and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"Fault {key} must be a whole number.")
        with self._lock:
            for key, value in changes.items():
                if key == "seed":
                    self._rng = random.Random(value)
                elif key != "displace":  # an action, not a setting
                    setattr(self, key, value)

    def server_error(self) -> int | None:
        """A 5xx status for this request, drawn with probability ``error_rate``, else None."""
        with self._lock:
            if self.error_rate <= 0:
                return None
            if self._rng.random() < self.error_rate:
                return self._rng.choice(_SERVER_ERRORS)
            return None

    def operation_error(self, operation: str) -> int | None:
        """The 5xx status ``operation`` answers with while it is set failing, else None."""
        with self._lock:
            return self.failing_operations.get(operation)

    def lose_answer(self, operation: str) -> bool:
        """True (once per count) when this request, already carried out, must lose its answer."""
        with self._lock:
            left = self.losing_operations.get(operation, 0)
            if left > 0:
                self.losing_operations[operation] = left - 1
            return left > 0

    def snapshot(self) -> dict:
        with self._lock:
            return {"latency_ms": self.latency_ms, "error_rate": self.error_rate, "rate_limit": self.rate_limit,
                    "rate_limit_requests": self.rate_limit_requests, "rate_limit_window": self.rate_limit_window,
                    "drop_websockets": self.drop_websockets, "silence_websockets": self.silence_websockets,
                    "commands_missing": self.commands_missing, "stall_websockets": self.stall_websockets,
                    "trickle_websockets": self.trickle_websockets, "slow_rest": self.slow_rest,
                    "trickle_interval": self.trickle_interval,
                    "failing_operations": dict(self.failing_operations)}


class RateLimiter:
    """Sliding window per token: at most N accepted requests in the last W seconds."""

    def __init__(self, faults: Faults, clock=time.monotonic):
        self._faults = faults
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, collections.deque] = collections.defaultdict(collections.deque)

    def admit(self, token: str) -> float | None:
        """Record a request; None when admitted, else the seconds to wait (for Retry-After)."""
        if not self._faults.rate_limit:
            return None
        limit, window = self._faults.rate_limit_requests, self._faults.rate_limit_window
        now = self._clock()
        with self._lock:
            times = self._windows[token]
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) >= limit:
                oldest = times[len(times) - limit] if limit else now
                return max(oldest + window - now, 0.0)
            times.append(now)
            return None


def retry_after_header(seconds: float) -> str:
    """Whole seconds, at least 1, as HTTP's Retry-After wants."""
    return str(max(1, math.ceil(seconds)))
