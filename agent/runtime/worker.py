"""A device's one worker thread, the unit of work it runs, and the Progress its handler sees."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from agent.runtime.handler import CommandCancelled, DeviceError, JobStopped
from agent.runtime.health import BUSY, WAITING
from agent.runtime.jobs import Job, JobHandle, JobProgress, Source

if TYPE_CHECKING:  # runner's protocols name Work: only their types are needed here
    from agent.runtime.handler import Handler
    from agent.runtime.runner import JobRunner

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 1.0  # seconds between Progress reports to the platform
KEY_JOURNAL_TRIES = 3


@dataclass
class Work:
    """A job on its way through a worker; ``handle`` is the local caller's (None for Mews commands)."""

    job: Job
    handle: JobHandle | None = None

    @property
    def mews(self) -> bool:
        return self.job.source is Source.MEWS

    @property
    def order(self) -> float:
        command = self.job.command
        if command is not None:  # creation order on the platform
            try:
                return datetime.fromisoformat(command.created_utc.replace("Z", "+00:00")).timestamp()
            except (AttributeError, ValueError, TypeError):
                return 0.0
        return self.job.created


class DeviceWorker:
    """One thread per handler: runs its jobs one at a time, oldest first, whatever their source."""

    def __init__(self, dispatcher: JobRunner, handler: Handler):
        self.dispatcher = dispatcher
        self.handler = handler
        self._queue: list[tuple[float, int, Work]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"device-{handler.name}", daemon=True)
        self.current: Work | None = None

    def start(self) -> None:
        self._thread.start()

    def put(self, work: Work) -> None:
        with self._cv:
            heapq.heappush(self._queue, (work.order, next(self._seq), work))
            self._cv.notify()

    def queued(self) -> list[Work]:
        with self._cv:
            return [w for _, _, w in self._queue]

    def queued_ids(self) -> list[str]:
        return [w.job.id for w in self.queued()]

    def wake(self) -> None:
        with self._cv:
            self._cv.notify_all()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        from agent.runtime.execution import run_work

        d = self.dispatcher
        while True:
            with self._cv:
                while not self._queue and not d.stopping.is_set():
                    self._cv.wait(1.0)
                if d.stopping.is_set():
                    left = [w for _, _, w in self._queue]
                    self._queue.clear()
                    break
                _, _, work = heapq.heappop(self._queue)
                self.current = work
            try:
                run_work(d, self.handler, work)
            except Exception:  # the worker must survive anything
                log.exception("unexpected failure running %s", work.job.describe())
            finally:
                self.current = None
                d.forget(work.job.id)
        for work in left:  # never started: a Mews command stays as it is; a local caller hears why
            d.stopped_unstarted(work)


class WorkProgress:
    """The Progress a handler sees: reports Processing lazily, throttles Progress, checks cancel/stop."""

    def __init__(self, dispatcher: JobRunner, handler: Handler, work: Work):
        self.d, self.handler, self.work = dispatcher, handler, work
        self.started = False
        self.keys_made = self.keys_total = 0
        self._last_report = 0.0

    def _check(self, *, stop: bool = True) -> None:
        if self.d.is_cancelled(self.work):
            raise CommandCancelled(f"{self.work.job.describe()} was cancelled")
        if stop and self.d.stopping.is_set():
            raise JobStopped("the agent is stopping")

    def _local(self, text: str, done: int, total: int, deadline: float | None = None) -> None:
        if self.work.handle is not None:
            self.work.handle.set_progress(JobProgress(text=text, done=done, total=total, deadline=deadline))

    def step(self, done: int, total: int, activity: str = "") -> None:
        self._check(stop=total > 0 and done < total)  # finished work is not stopped: it is reported
        self.d.device_state(self.handler, BUSY, activity, done=done, total=total)
        self._local(activity, done, total)
        if total <= 0 or done >= total:
            return  # the work is complete: the final state follows at once and supersedes Processing
        now = self.d.clock()
        if not self.started or now - self._last_report >= PROGRESS_INTERVAL:
            self.started = True
            self._last_report = now
            if self.work.mews:
                self.d.report(self.work.job.id, "Processing", progress=round(100.0 * done / total, 1))

    def activity(self, text: str, deadline: float | None = None) -> None:
        self._check(stop=False)
        if not self.started:  # the device started visible work
            self.started = True
            self._last_report = self.d.clock()
            if self.work.mews:
                self.d.report(self.work.job.id, "Processing")
        dev = self.d.health.devices.get(self.handler.name)
        done, total = (dev.done, dev.total) if dev else (0, 0)
        self.d.device_state(self.handler, WAITING if deadline else BUSY, text, done=done, total=total,
                            deadline=deadline)
        self._local(text, done, total, deadline)

    def key_made(self, made: int, total: int) -> None:
        """Journal the key before the next is cut; a journal that cannot be written stops the run."""
        self.keys_made, self.keys_total = made, total
        from agent.runtime.execution import STORAGE_ERRORS

        for attempt in range(KEY_JOURNAL_TRIES):
            try:
                self.d.store.journal.key(self.work.job.id, made, total)
                return
            except STORAGE_ERRORS as e:
                fault = str(e) or type(e).__name__
                if attempt + 1 < KEY_JOURNAL_TRIES:
                    time.sleep(0.5)
        log.error("%s: cannot journal key %d of %d: %s", self.work.job.describe(), made, total, fault)
        raise DeviceError(f"{made} of {total} keys made; the unit cannot write its journal ({fault}), "
                          "so it cut no more", retryable=False)
