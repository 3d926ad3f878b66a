"""What a device's worker, one job's run and crash recovery need of the dispatcher, and no more.

The dispatcher is the one implementation; naming these narrow protocols lets the type
checker see the free functions of ``execution``, ``worker`` and ``recovery`` (and keeps
them from reaching into the rest of the dispatcher).
"""

from __future__ import annotations

import threading
from typing import Protocol

from agent.runtime.backoff import Backoff
from agent.runtime.handler import Handler
from agent.runtime.health import Health
from agent.runtime.jobs import Job, Outcome
from agent.runtime.spool import Spool
from agent.runtime.store import Store
from agent.runtime.worker import Work


class Reporter(Protocol):
    """Sends a Mews command's state to the platform (through the store's outbox)."""

    def report(self, command_id: str, state: str, *, progress: float | None = None, notes: str | None = None,
               journal_done: str | None = None) -> None: ...


class JobRunner(Reporter, Protocol):
    """What a device's worker and one job's run (``execution.run_work``, ``WorkProgress``) use."""

    store: Store
    spool: Spool
    health: Health
    stopping: threading.Event
    device_timeout: float  # seconds a Mews command waits out retryable device faults
    retry_backoff: Backoff | None
    journal_fault: str  # why the last journal entry could not be written ("" = fine)

    def clock(self) -> float: ...

    def is_cancelled(self, work: Work) -> bool: ...

    def finish(self, handler: Handler, work: Work, outcome: Outcome, *, journal: bool = True) -> None: ...

    def stopped_unstarted(self, work: Work) -> None: ...

    def forget(self, command_id: str) -> None: ...

    def device_state(self, handler: Handler, state: str, activity: str = "", *, done: int = 0, total: int = 0,
                     deadline: float | None = None, fault: str = "") -> None: ...

    def wait_for_device(self, handler: Handler, work: Work, delay: float) -> str: ...


class Recovering(Reporter, Protocol):
    """What crash recovery (``recovery.recover``) uses: the journal, the spool, handlers and their queues."""

    store: Store
    spool: Spool

    def handler_for(self, job: Job) -> Handler | None: ...

    def requeue(self, handler: Handler, work: Work) -> None: ...
