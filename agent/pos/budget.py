"""Client-side rate budgets: the gateway's "+N/100 per 30 s" per command, never overrun.

Each command has a level that rises by its cost on every call and drains
continuously at 100 points per 30 s (a leaky bucket, as the simulator enforces
and the field notes describe). A call that would lift the level over 100 waits.

Budgets belong to the api key, not to one connection or process: the levels
live in a small JSON file in ``state_dir`` (one per instance + api key, named
by a hash, never by the key), read and written under ``flock`` so the service
and a `kiosk-agent pos` call in another process share them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

CAPACITY = 100.0
WINDOW = 30.0
# points per request, from the spec; listpos is undocumented (assumed +10, as the simulator does)
COSTS = {
    "getconfig": 25, "getdeposit": 10, "getlicense": 4, "listpm": 20, "listproducts": 25,
    "payitems": 1, "registerdevice": 10, "version": 50, "getstatus": 15, "listtransactions": 2,
    "listpos": 10,
}
DEFAULT_COST = 25  # a command missing from the table is treated as expensive


def budget_file(state_dir: str | Path, instance: str, api_key: str) -> Path:
    """The budget file for one instance + api key (the name is a hash: the key never reaches disk)."""
    digest = hashlib.sha256(f"{instance}\0{api_key}".encode()).hexdigest()[:16]
    return Path(state_dir) / f"pos-budget-{digest}.json"


class Budget:
    """Leaky-bucket budgets per command, optionally persisted and shared through a file."""

    def __init__(self, path: str | Path | None = None, *, window: float = WINDOW, capacity: float = CAPACITY,
                 costs: dict[str, int] | None = None, clock=time.time):
        self.path = Path(path) if path else None
        self.window, self.capacity = float(window), float(capacity)
        self.rate = self.capacity / self.window  # points drained per second
        self.costs = dict(COSTS if costs is None else costs)
        self.clock = clock  # wall clock: the file outlives the process, monotonic time does not
        self._lock = threading.Lock()
        self._memory: dict[str, list[float]] = {}
        self._file_ok = self.path is not None

    def cost(self, command: str) -> float:
        return float(self.costs.get(command, DEFAULT_COST))

    # -- public API --------------------------------------------------------------------------

    def reserve(self, command: str, *, stop: threading.Event | None = None) -> float:
        """Wait until ``command`` fits its budget, charge it, return the time charged.

        Returns early (without charging) only when ``stop`` is set; then it returns -1.
        """
        cost = self.cost(command)
        while True:
            with self._buckets() as buckets:
                now = self.clock()
                level = self._level(buckets, command, now)
                if level + cost <= self.capacity + 1e-9:
                    buckets[command] = [level + cost, now]
                    return now
                wait = (level + cost - self.capacity) / self.rate
            log.debug("budget: %s waits %.2f s", command, wait)
            if stop is not None:
                if stop.wait(wait + 0.001):
                    return -1.0
            else:
                time.sleep(wait + 0.001)

    def settle(self, command: str, charged_at: float) -> None:
        """The reply came: the gateway counted the call somewhere between send and now.

        Linear drain makes the moment irrelevant except where the level touched
        zero, so add back what drained meanwhile (capped at the cost): the local
        level is then never below the gateway's.
        """
        if charged_at < 0:
            return
        cost = self.cost(command)
        with self._buckets() as buckets:
            now = self.clock()
            level = self._level(buckets, command, now)
            extra = min(cost, max(0.0, now - charged_at) * self.rate)
            buckets[command] = [min(self.capacity, level + extra), now]

    def penalise(self, command: str, retry_after: float | None) -> None:
        """The gateway said ``ratelimit``: align so the next call fits only after ``retry_after``."""
        cost = self.cost(command)
        wait = self.window if retry_after is None else max(0.0, retry_after)
        with self._buckets() as buckets:
            now = self.clock()
            level = self._level(buckets, command, now)
            buckets[command] = [max(level, self.capacity - cost + wait * self.rate), now]

    def level(self, command: str) -> float:
        """The current level of ``command`` (0..capacity)."""
        with self._buckets() as buckets:
            return self._level(buckets, command, self.clock())

    def wait_time(self, command: str) -> float:
        """Seconds until ``command`` would fit (0 = now)."""
        level = self.level(command)
        return max(0.0, (level + self.cost(command) - self.capacity) / self.rate)

    # -- internals ---------------------------------------------------------------------------

    def _level(self, buckets: dict, command: str, now: float) -> float:
        entry = buckets.get(command)
        if not entry:
            return 0.0
        level, at = entry
        # a clock that went backwards drains nothing (conservative); a level can never exceed capacity
        return min(self.capacity, max(0.0, level - max(0.0, now - at) * self.rate))

    @contextmanager
    def _buckets(self):
        """The bucket table, locked across threads and (through flock) across processes."""
        with self._lock:
            if not self._file_ok:
                yield self._memory
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                lock_fd = os.open(str(self.path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as e:
                log.warning("budget: cannot use %s (%s); budgets kept in memory only", self.path, e)
                self._file_ok = False
                yield self._memory
                return
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX)
                buckets = self._read()
                before = json.dumps(buckets, sort_keys=True)
                yield buckets
                if json.dumps(buckets, sort_keys=True) != before:
                    self._write(buckets)
                self._memory = buckets
            finally:
                os.close(lock_fd)  # releases the flock

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
            buckets = data.get("buckets", {}) if isinstance(data, dict) else {}
            return {k: [float(v[0]), float(v[1])] for k, v in buckets.items()
                    if isinstance(v, list) and len(v) == 2}
        except FileNotFoundError:
            return dict(self._memory)
        except (OSError, ValueError, TypeError, IndexError) as e:
            # unreadable: assume every budget was just spent, rather than risk the gateway's limit
            log.warning("budget: %s unreadable (%s); assuming full budgets", self.path, e)
            now = self.clock()
            return {cmd: [self.capacity, now] for cmd in self.costs}

    def _write(self, buckets: dict) -> None:
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".pos-budget-")
            with os.fdopen(fd, "w") as f:
                json.dump({"window": self.window, "capacity": self.capacity, "buckets": buckets}, f)
            os.replace(tmp, self.path)
        except OSError as e:
            log.warning("budget: cannot write %s (%s)", self.path, e)
