"""Command lifecycle: take commands, route them to device workers, report every state.

States reported: ``Received`` as soon as we take a command, ``Processing`` when the
device starts work (with ``Progress``, at most one update a second), then
``Processed`` or ``Error`` with a human note. Each device runs one command at a
time in creation order; different devices work in parallel. The journal makes
sure no command is executed twice because of a restart, a duplicate event or a
replayed drain.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time

from agent.logs import redact
from agent.mews.models import FINAL_STATES, Command
from agent.runtime import store as st
from agent.runtime.backoff import Backoff
from agent.runtime.handler import CommandCancelled, Handler
from agent.runtime.health import BUSY, FAULT, IDLE, WAITING, DeviceHealth, Health
from hal.errors import DeviceError, InvalidInput

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 1.0  # seconds between Progress reports


def describe(command: Command) -> str:
    return f"{command.device.type or 'device'} command {command.id[:8]}"


class DeviceWorker:
    """One thread per handler: runs its commands one at a time, oldest first."""

    def __init__(self, dispatcher: "Dispatcher", handler: Handler):
        self.dispatcher = dispatcher
        self.handler = handler
        self._queue: list = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"device-{handler.name}", daemon=True)
        self.current: Command | None = None

    def start(self) -> None:
        self._thread.start()

    def put(self, command: Command) -> None:
        with self._cv:
            heapq.heappush(self._queue, (command.created_utc, next(self._seq), command))
            self._cv.notify()

    def queued_ids(self) -> list[str]:
        with self._cv:
            return [c.id for _, _, c in self._queue]

    def wake(self) -> None:
        with self._cv:
            self._cv.notify_all()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        d = self.dispatcher
        while True:
            with self._cv:
                while not self._queue and not d.stopping.is_set():
                    self._cv.wait(1.0)
                if d.stopping.is_set():
                    return
                _, _, command = heapq.heappop(self._queue)
                self.current = command
            try:
                d.execute(self.handler, command)
            except Exception:  # the worker must survive anything
                log.exception("unexpected failure running %s", describe(command))
            finally:
                self.current = None
                d.forget(command.id)


class CommandProgress:
    """The Progress a handler sees: reports Processing lazily, throttles Progress, checks cancellation."""

    def __init__(self, dispatcher: "Dispatcher", handler: Handler, command: Command):
        self.d, self.handler, self.command = dispatcher, handler, command
        self.started = False
        self._last_report = 0.0

    def _check_cancelled(self) -> None:
        if self.command.id in self.d.cancelled:
            raise CommandCancelled(f"{describe(self.command)} was cancelled on the platform")

    def step(self, done: int, total: int, activity: str = "") -> None:
        self._check_cancelled()
        self.d.device_state(self.handler, BUSY, activity, done=done, total=total)
        if total <= 0 or done >= total:
            return  # the work is complete: Processed follows at once and supersedes Processing
        now = self.d.clock()
        if not self.started or now - self._last_report >= PROGRESS_INTERVAL:
            self.started = True
            self._last_report = now
            self.d.report(self.command.id, "Processing", progress=round(100.0 * done / total, 1))

    def activity(self, text: str, deadline: float | None = None) -> None:
        self._check_cancelled()
        if not self.started:  # the device started visible work
            self.started = True
            self._last_report = self.d.clock()
            self.d.report(self.command.id, "Processing")
        dev = self.d.health.devices.get(self.handler.name)
        self.d.device_state(self.handler, WAITING if deadline else BUSY, text,
                            done=dev.done if dev else 0, total=dev.total if dev else 0, deadline=deadline)


class Dispatcher:
    """Routes commands to handlers and owns their lifecycle."""

    def __init__(self, store: st.Store, handlers: list[Handler], health: Health, *,
                 device_timeout: float = 600.0, on_report=lambda: None, clock=time.time,
                 retry_backoff: Backoff | None = None):
        self.store = store
        self.handlers = list(handlers)
        self.health = health
        self.device_timeout = device_timeout
        self.on_report = on_report
        self.clock = clock
        self._retry_backoff = retry_backoff
        self.stopping = threading.Event()
        self.cancelled: set[str] = set()
        self._known: set[str] = set()  # queued or executing in this process
        self._lock = threading.Lock()
        self.workers = {id(h): DeviceWorker(self, h) for h in self.handlers}
        for h in self.handlers:
            health.devices.setdefault(h.name, DeviceHealth(name=h.name))

    # ---- intake ---------------------------------------------------------------

    def start(self) -> None:
        self.recover()
        for w in self.workers.values():
            w.start()

    def handler_for(self, command: Command) -> Handler | None:
        dev = command.device
        for h in self.handlers:
            if dev.type in h.device_types and (not h.device or h.device in (dev.id, dev.name)):
                return h
        return None

    def offer(self, commands: list[Command]) -> int:
        """Take the platform's active commands (the full getAllActive list); returns how many were new."""
        active = {c.id for c in commands}
        self._detect_cancelled(active)
        new = 0
        for command in sorted(commands, key=lambda c: c.created_utc):
            if command.state in FINAL_STATES or command.state == "Processing":
                continue
            with self._lock:
                if command.id in self._known:
                    continue
                journal = self.store.journal_state(command.id)
                if journal is not None and journal[0] != st.RETRY:
                    continue  # executed (or being reported) already: never twice
                self._known.add(command.id)
            new += 1
            self._take(command)
        return new

    def _take(self, command: Command) -> None:
        handler = self.handler_for(command)
        if handler is None:
            kind = command.device.type or "unknown"
            note = f"no device of type {kind} is attached to this agent"
            if any(command.device.type in h.device_types for h in self.handlers):
                note = f"no device named {command.device.name or command.device.id!r} of type {kind} is attached to this agent"
            log.warning("%s: %s", describe(command), note)
            self.report(command.id, "Error", notes=note, journal_done=command.device.type or "")
            self.forget(command.id)
            return
        if command.state == "Pending":
            self.report(command.id, "Received")
        self.workers[id(handler)].put(command)

    def _detect_cancelled(self, active: set[str]) -> None:
        # getAllActive lists Pending and Received commands only. A queued command that
        # left it after our Received report reached the platform was cancelled there (the
        # only signal in poll mode). Not so a command that has run before (a restart's
        # retry): the platform may hold it as Processing, which is not listed either.
        # A running command cannot be judged this way at all, for the same reason.
        for w in self.workers.values():
            for cid in w.queued_ids():
                if cid not in active and not self.store.has_unsent(cid) and self.store.journal_state(cid) is None:
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

    def forget(self, command_id: str) -> None:
        with self._lock:
            self._known.discard(command_id)
            self.cancelled.discard(command_id)

    # ---- reports --------------------------------------------------------------

    def report(self, command_id: str, state: str, *, progress: float | None = None, notes: str | None = None,
               journal_done: str | None = None) -> None:
        self.store.enqueue_report(command_id, state, progress=progress, notes=redact(notes) if notes else None,
                                  journal_done=journal_done)
        if state in FINAL_STATES:
            self.health.last_command = f"{command_id[:8]} {state}" + (f": {notes}" if notes else "")
        self.on_report()

    def device_state(self, handler: Handler, state: str, activity: str = "", *, done: int = 0, total: int = 0,
                     deadline: float | None = None, fault: str = "") -> None:
        self.health.devices[handler.name] = DeviceHealth(name=handler.name, state=state, activity=activity,
                                                         done=done, total=total, deadline=deadline, fault=fault)

    # ---- execution ------------------------------------------------------------

    def execute(self, handler: Handler, command: Command) -> None:
        """Run one command to a final state, retrying retryable device errors up to device_timeout."""
        if command.id in self.cancelled:
            log.info("%s cancelled before it started; not executed", describe(command))
            self._finish_quietly(command)
            return
        first_try = self.clock()
        backoff = self._retry_backoff or Backoff(1.0, 30.0)
        # One journal entry per execution (not per retry): its run count counts restarts.
        # Only handlers retried after a crash keep the payload (key-cutter data holds passwords).
        payload = json.dumps(command.to_json()) if handler.retry_after_crash else None
        self.store.journal_begin(command.id, command.device.type, payload)
        while True:
            progress = CommandProgress(self, handler, command)
            self.device_state(handler, BUSY, "working")
            try:
                notes = handler.execute(command, progress) or "done"
            except CommandCancelled:
                log.info("%s stopped: cancelled on the platform", describe(command))
                self._finish_quietly(command)
                return
            except DeviceError as e:
                message = str(e) or type(e).__name__
                waited = self.clock() - first_try
                if e.retryable and waited < self.device_timeout and not self.stopping.is_set():
                    delay = backoff.next_delay() + 0.2
                    log.warning("%s waits: %s (retry in %.0f s)", describe(command), message, delay)
                    self.device_state(handler, FAULT, message, fault=message)
                    if self._wait(command, delay):
                        self._finish_quietly(command)
                        return
                    continue
                if e.retryable:
                    message = f"{message} (gave up after {waited / 60:.0f} min)"
                self._fail(handler, command, f"{handler.name}: {message}")
                return
            except InvalidInput as e:
                self._fail(handler, command, str(e) or "the command's data is invalid")
                return
            except Exception as e:
                log.exception("%s failed unexpectedly", describe(command))
                self._fail(handler, command, f"internal error in the {handler.name} handler ({type(e).__name__})")
                return
            self.report(command.id, "Processed", notes=notes, journal_done=command.device.type or "")
            self.device_state(handler, IDLE)
            self.health.counters["commands_processed"] = self.health.counters.get("commands_processed", 0) + 1
            return

    def _wait(self, command: Command, delay: float) -> bool:
        """Sleep before a retry; True when the command was cancelled meanwhile."""
        end = self.clock() + delay
        while self.clock() < end:
            if command.id in self.cancelled:
                return True
            if self.stopping.wait(min(0.5, max(0.0, end - self.clock()))):
                return False
        return command.id in self.cancelled

    def _fail(self, handler: Handler, command: Command, note: str) -> None:
        log.warning("%s ends in Error: %s", describe(command), note)
        self.report(command.id, "Error", notes=note, journal_done=command.device.type or "")
        self.device_state(handler, IDLE)
        self.health.counters["commands_failed"] = self.health.counters.get("commands_failed", 0) + 1

    def _finish_quietly(self, command: Command) -> None:
        """Cancelled on the platform: it knows; just close the journal entry."""
        self.store.journal_finish(command.id, command.device.type or "")
        handler = self.handler_for(command)
        if handler:
            self.device_state(handler, IDLE)

    # ---- crash recovery -------------------------------------------------------

    def recover(self) -> None:
        """Commands interrupted by a crash: printing is retried once, key cutting never repeated."""
        for command_id, device_type, runs, payload in self.store.interrupted():
            handler = next((h for h in self.handlers if device_type in h.device_types), None)
            if handler is not None and handler.retry_after_crash and runs < 2 and payload:
                try:
                    command = Command.from_json(json.loads(payload))
                except Exception:
                    command = None
                if command is not None:
                    log.warning("%s was interrupted by a restart; retrying it once", describe(command))
                    with self._lock:
                        self._known.add(command.id)
                    self.store.journal_mark_retry(command_id)
                    self.workers[id(handler)].put(command)
                    continue
            if handler is not None and not handler.retry_after_crash:
                note = (f"the unit restarted during {handler.name} work; no result was confirmed, "
                        "so it is not repeated automatically: please issue the command again")
            elif runs >= 2:
                note = "interrupted by a restart twice; not retried again: please issue the command again"
            else:
                note = "interrupted by a restart; please issue the command again"
            log.warning("command %s: %s", command_id[:8], note)
            self.report(command_id, "Error", notes=note, journal_done=device_type or "")

    def stop(self, timeout: float = 25.0) -> None:
        """Finish the current device step (bounded), then stop the workers."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for w in self.workers.values():
            w.wake()
        for w in self.workers.values():
            w.join(max(0.1, deadline - time.monotonic()))
