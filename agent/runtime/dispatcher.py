"""Jobs in, final states out: take Mews commands and local jobs, route them to device workers.

Mews commands are reported: ``Received`` as soon as we take one, ``Processing``
when the device starts work (``Progress`` at most once a second), then
``Processed`` or ``Error`` with a human note. Local jobs (kiosk, front panel,
POS) report through their ``JobHandle``. Each device runs one job at a time in
creation order, whatever its source; different devices work in parallel. The
journal makes sure no command is executed twice because of a restart, a
duplicate event or a replayed drain. Implements ``agent.runtime.jobs.Jobs``.
"""

from __future__ import annotations

import logging
import threading
import time

from agent.devices import card_device_types
from agent.mews.models import FINAL_STATES, Command
from agent.runtime import store as st
from agent.runtime.backoff import Backoff
from agent.runtime.health import IDLE, DeviceHealth, Health
from agent.runtime.jobs import Job, JobHandle, JobKind, Outcome, OutcomeState, Source
from agent.runtime.logs import redact
from agent.runtime.recovery import recover
from agent.runtime.spool import Spool
from agent.runtime.worker import DeviceWorker, Work

log = logging.getLogger(__name__)

LOST_RECORDS = "the unit lost its records of this command; please issue it again"
MEWS_STATE = {OutcomeState.DONE: "Processed", OutcomeState.FAILED: "Error"}


class Dispatcher:
    """Routes jobs to handlers and owns their lifecycle."""

    def __init__(self, store: st.Store, handlers: list, health: Health, *, device_timeout: float = 600.0,
                 on_report=lambda: None, clock=time.time, retry_backoff: Backoff | None = None, spool=None):
        self.store = store
        self.spool = spool or Spool(store.path.parent)
        self.handlers = list(handlers)
        self.health = health
        self.device_timeout = device_timeout
        self.on_report = on_report
        self.clock = clock
        self.retry_backoff = retry_backoff
        self.stopping = threading.Event()
        self.cancelled: set[str] = set()
        self.journal_fault = ""  # why the last journal entry could not be written ("" = fine)
        self._known: set[str] = set()  # queued or executing in this process
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()
        self.workers = {id(h): DeviceWorker(self, h) for h in self.handlers}
        for h in self.handlers:
            health.devices.setdefault(h.name, DeviceHealth(name=h.name))

    def start(self) -> None:
        recover(self)
        for w in self.workers.values():
            w.start()

    def handler_for(self, job: Job):
        """The one handler that takes ``job`` (``Handler.serves`` decides), or None."""
        return next((h for h in self.handlers if h.serves(job)), None)

    def worker_of(self, handler) -> DeviceWorker:
        return self.workers[id(handler)]

    # ---- Jobs (local callers) -------------------------------------------------

    def submit(self, job: Job) -> JobHandle:
        """Queue a local job on its device's worker; one no device serves fails at once."""
        handle = JobHandle(job)
        handler = self.handler_for(job)
        if handler is None or self.stopping.is_set():
            note = "the unit is stopping" if handler else f"no attached device takes {job.kind.value} jobs"
            handle.finish(Outcome(OutcomeState.FAILED, note))
            return handle
        with self._lock:
            self._known.add(job.id)
        log.info("took %s for the %s", job.describe(), handler.name)
        self.worker_of(handler).put(Work(job, handle))
        return handle

    def serves(self, kind: JobKind, device: str = "") -> bool:
        probe = Job(kind=kind, data={}, source=Source.CLI, device=device)
        return self.handler_for(probe) is not None

    # ---- Mews commands ----------------------------------------------------------

    def offer(self, commands: list[Command], complete: bool = True) -> int:
        """Take the platform's commands; returns how many were new.

        ``complete``: the full getAllActive list (what is missing from it may have been cancelled);
        a getAllByIds answer lists only what events named, so it says nothing about the others.
        """
        if complete:
            self._detect_cancelled({c.id for c in commands})
        new = 0
        for command in sorted(commands, key=lambda c: c.created_utc or ""):
            if command.state in FINAL_STATES or command.state == "Processing":
                continue
            with self._lock:
                if command.id in self._known:
                    continue
                journal = self.store.journal.state(command.id)
                if journal is not None and journal[0] != st.RETRY:
                    continue  # executed (or being reported) already: never twice
                self._known.add(command.id)
            new += 1
            self._take(command)
        return new

    def _take(self, command: Command) -> None:
        job = Job.of_command(command)
        if command.invalid:
            return self._refuse(command, command.invalid)
        if self.store.lost_state and command.state == "Received" and command.device.type in card_device_types():
            return self._refuse(command, LOST_RECORDS)  # it may have been cut before the records went
        handler = self.handler_for(job)
        if handler is None:
            kind = command.device.type or "unknown"
            note = f"no device of type {kind} is attached to this agent"
            if any(command.device.type in h.device_types for h in self.handlers):
                note = f"no device named {command.device.name or command.device.id!r} of type {kind} is attached to this agent"
            return self._refuse(command, note)
        log.info("took command %s (%s, %s)", command.id[:8], command.device.type or "device",
                 redact(command.device.name or command.device.id))
        if command.state == "Pending":
            self.report(command.id, "Received")
        self.worker_of(handler).put(Work(job))

    def _refuse(self, command: Command, note: str) -> None:
        log.warning("command %s (%s) ends in Error: %s", command.id[:8], command.device.type or "device", note)
        self.report(command.id, "Error", notes=note, journal_done=command.device.type or "")
        self.forget(command.id)

    def _detect_cancelled(self, active: set[str]) -> None:
        # getAllActive lists Pending and Received commands only. A queued command that
        # left it after our Received report reached the platform was cancelled there (the
        # only signal in poll mode). Not so a command that has run before (a restart's
        # retry): the platform may hold it as Processing, which is not listed either.
        # A running command cannot be judged this way at all, for the same reason.
        for w in self.workers.values():
            for work in w.queued():
                cid = work.job.id
                if work.mews and cid not in active and not self.store.outbox.has_unsent(cid) \
                        and self.store.journal.state(cid) is None:
                    self.cancel(cid)

    def cancel(self, command_id: str) -> None:
        """The platform cancelled this command: skip it if queued, stop it between steps if running."""
        with self._lock:
            if command_id not in self._known:
                return
            self.cancelled.add(command_id)
        log.info("command %s cancelled on the platform", command_id[:8])
        for w in self.workers.values():
            w.wake()

    def is_cancelled(self, work: Work) -> bool:
        return work.job.id in self.cancelled or (work.handle is not None and work.handle.cancel_requested)

    def forget(self, command_id: str) -> None:
        with self._lock:
            self._known.discard(command_id)
            self.cancelled.discard(command_id)

    def requeue(self, handler, work: Work) -> None:
        """Crash recovery: put a journalled job back on its worker."""
        with self._lock:
            self._known.add(work.job.id)
        self.worker_of(handler).put(work)

    # ---- reports --------------------------------------------------------------

    def report(self, command_id: str, state: str, *, progress: float | None = None, notes: str | None = None,
               journal_done: str | None = None) -> None:
        self.store.outbox.enqueue_report(command_id, state, progress=progress, notes=redact(notes) if notes else None,
                                         journal_done=journal_done)
        if state in FINAL_STATES:
            self.health.last_command = f"{command_id[:8]} {state}" + (f": {notes}" if notes else "")
        self.on_report()

    def finish(self, handler, work: Work, outcome: Outcome, *, journal: bool = True) -> None:
        """The job's final state, to its source: the outbox (Mews) or the caller's handle (local)."""
        job = work.job
        took = self.clock() - job.created if not work.mews else None
        if work.mews and outcome.state is OutcomeState.CANCELLED:
            self.store.journal.finish(job.id, job.device_type)  # the platform knows: nothing to report
        elif work.mews:
            if outcome.ok:
                self._queue_records(job, outcome)
            self.report(job.id, MEWS_STATE[outcome.state], notes=outcome.note, journal_done=job.device_type)
        elif job.touches_card and journal:
            try:
                self.store.journal.finish(job.id, f"local:{job.kind.value}")
            except Exception as e:
                log.error("%s: cannot close its journal entry: %s", job.describe(), e)
        if work.mews:
            self.spool.discard(job.id)
        if work.handle is not None:
            work.handle.finish(outcome)
        if outcome.state is not OutcomeState.CANCELLED:
            self.health.count("commands_processed" if outcome.ok else "commands_failed")
        level = logging.INFO if outcome.ok or outcome.state is OutcomeState.CANCELLED else logging.WARNING
        state = MEWS_STATE.get(outcome.state, "Cancelled") if work.mews else outcome.state.value
        log.log(level, "%s ends %s%s: %s", job.describe(), state,
                f" after {took:.1f} s" if took is not None else "", redact(outcome.note) or "-")
        if handler is not None:
            self.device_state(handler, IDLE)

    def _queue_records(self, job: Job, outcome: Outcome) -> None:
        """What a Mews job produced for the platform, queued in the outbox before the command's final state."""
        queue = {"document": self.store.outbox.enqueue_document}
        for record in outcome.records:
            if record.kind not in queue:
                log.error("%s: a %s record has no way to the platform; dropped", job.describe(), record.kind)
                continue
            queue[record.kind](record.payload)
        if outcome.records:
            self.on_report()

    def stopped_unstarted(self, work: Work) -> None:
        """A job the stop caught in the queue: a Mews command stays as it is; a local caller hears why."""
        if work.handle is not None:
            work.handle.finish(Outcome(OutcomeState.FAILED, "the unit is stopping; try again in a minute"))

    def device_state(self, handler, state: str, activity: str = "", *, done: int = 0, total: int = 0,
                     deadline: float | None = None, fault: str = "") -> None:
        old = self.health.devices.get(handler.name)
        self.health.devices[handler.name] = DeviceHealth(name=handler.name, state=state, activity=activity,
                                                         done=done, total=total, deadline=deadline, fault=fault,
                                                         paper=old.paper if old is not None else "")

    def wait_for_device(self, handler, work: Work, delay: float) -> str:
        """Sleep before a retry, ending early when the device says it is ready again.

        Returns "cancelled", "stopped" or "" (time to try again).
        """
        end = self.clock() + delay
        ready = getattr(handler, "ready", None)  # optional: a cheap status poll (paper back, port present)
        was_ready = True
        while self.clock() < end:
            if self.is_cancelled(work):
                return "cancelled"
            if self.stopping.wait(min(0.5, max(0.0, end - self.clock()))):
                return "stopped"
            if ready is not None:
                now_ready = bool(ready())
                if now_ready and not was_ready:
                    return ""  # the fault cleared (paper reloaded, device plugged back): try at once
                was_ready = now_ready
        return "cancelled" if self.is_cancelled(work) else ""

    def stop(self, timeout: float = 8.0) -> None:
        """Finish the current device step (bounded), then stop the workers."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for w in self.workers.values():
            w.wake()
        for w in self.workers.values():
            w.join(max(0.1, deadline - time.monotonic()))
