"""What a kiosk session works with: platform, device jobs, terminal, staff tasks, throttle, hotel clock."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from agent.kiosk.keymarks import KeyMarks

if TYPE_CHECKING:  # types only: the context is built by the composition root
    from agent.config import Config
    from agent.mews.client import MewsClient
    from agent.runtime.jobs import Jobs
    from hal.payment import PaymentTerminal
from agent.kiosk.ledger import PaymentLedger
from agent.mews import errors as mews_errors

log = logging.getLogger("agent.kiosk")


def utc_now() -> datetime:
    return datetime.now(UTC)


class LookupThrottle:
    """After ``limit`` failed lookups within ``window`` s, every lookup is refused for ``block`` s."""

    def __init__(self, limit: int = 5, window: float = 300.0, block: float = 120.0, clock=time.monotonic):
        self.limit, self.window, self.block, self.clock = limit, window, block, clock
        self._failures: deque[float] = deque()
        self._blocked_until = 0.0
        self._lock = threading.Lock()

    def blocked(self) -> bool:
        with self._lock:
            return self.clock() < self._blocked_until

    def failed(self) -> bool:
        """Count a failed lookup; True when this one starts a block."""
        with self._lock:
            now = self.clock()
            self._failures.append(now)
            while self._failures and self._failures[0] < now - self.window:
                self._failures.popleft()
            if len(self._failures) >= self.limit:
                self._failures.clear()
                self._blocked_until = now + self.block
                return True
            return False


class StaffCallLimit:
    """"Call staff" raises at most one task per session and one per ``window`` s overall.

    A guest (or a script) hammering the button must not flood the front desk's task
    list; the guest is told staff are called either way.
    """

    def __init__(self, window: float = 120.0, clock=time.monotonic, remember: int = 64):
        self.window, self.clock = window, clock
        self._last: float | None = None
        self._sessions: deque[str] = deque(maxlen=remember)  # sessions that raised theirs
        self._lock = threading.Lock()

    def allow(self, session_id: str) -> bool:
        """True when this call may raise a task (and counts it); False when it is one too many."""
        with self._lock:
            now = self.clock()
            if session_id in self._sessions or (self._last is not None and now - self._last < self.window):
                return False
            self._last = now
            self._sessions.append(session_id)
            return True

    def give_back(self, session_id: str) -> None:
        """The task was not raised after all (platform down): the next press may try again."""
        with self._lock:
            if session_id in self._sessions:
                self._sessions.remove(session_id)
                self._last = None


class StaffTasks:
    """tasks/add naming reservation and room, never the guest; a failure is logged, never raised."""

    def __init__(self, client, deadline_minutes: float, clock=utc_now):
        self.client, self.deadline, self.clock = client, deadline_minutes, clock
        self.raised: list[str] = []  # names of tasks raised (tests, status)

    def raise_task(self, name: str, description: str = "") -> bool:
        deadline = self.clock() + timedelta(minutes=self.deadline)
        try:
            self.client.add_task(f"Kiosk: {name}", deadline, description=description or None)
        except (mews_errors.MewsError, OSError, ValueError) as e:
            log.warning("kiosk: staff task %r not raised: %s", name, e)
            return False
        self.raised.append(name)
        log.info("kiosk: staff task raised: %s", name)
        return True


@dataclass
class KioskContext:
    cfg: Config
    client: MewsClient
    jobs: Jobs
    terminal: PaymentTerminal | None = None
    ledger: PaymentLedger | None = None  # the charges on disk; required when a terminal is attached
    clock: Callable[[], datetime] = utc_now
    throttle: LookupThrottle = field(default_factory=LookupThrottle)
    tasks: StaffTasks | None = None
    staff_calls: StaffCallLimit = field(default_factory=StaffCallLimit)
    key_marks: KeyMarks | None = None
    count: Callable[[str], None] | None = None  # a session's outcome into the store's counters (fleet metrics); None = off
    _spaces: tuple = (0.0, None)

    def __post_init__(self):
        if self.key_marks is None:
            self.key_marks = KeyMarks(Path(self.cfg.agent.state_dir) / "kiosk-keys")
        if self.tasks is None:
            self.tasks = StaffTasks(self.client, self.cfg.kiosk.task_deadline, self.clock)
        if self.terminal is not None and self.ledger is None:
            raise ValueError("a payment terminal needs the payment ledger (the agent's store)")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.cfg.agent.timezone)

    def local(self, moment: datetime | None = None) -> datetime:
        return (moment or self.clock()).astimezone(self.tz)

    def local_text(self, moment: datetime) -> str:
        return self.local(moment).strftime("%Y-%m-%dT%H:%M")

    @property
    def hotel_name(self) -> str:
        """``kiosk.hotel_name``, else the enterprise's name from the sign-in, else "Welcome"."""
        enterprise = getattr(self.client, "enterprise", None)
        return self.cfg.kiosk.hotel_name or getattr(enterprise, "name", None) or "Welcome"

    def spaces(self):
        """spaces/getAll, kept 30 s (room states change; the kiosk asks once per guest)."""
        at, result = self._spaces
        if result is None or time.monotonic() - at > 30.0:
            result = self.client.get_all_spaces()
            self._spaces = (time.monotonic(), result)
        return result

    def fresh_spaces(self):
        self._spaces = (0.0, None)
        return self.spaces()
