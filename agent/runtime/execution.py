"""One job to its final state: journal first, run, retry what may be retried, report to its source.

Mews commands wait out retryable device faults (paper out, no encoder) up to
``agent.device_timeout``; a local job fails at once with the reason (its caller,
a person at the panel or the kiosk, decides; nothing is retried behind their
back). A stop never fails work: a job that touched nothing lasting is parked
and resumes after the restart; a key run stops after the current key.
"""

from __future__ import annotations

import logging
import sqlite3

from agent.runtime import store as st
from agent.runtime.backoff import Backoff
from agent.runtime.handler import CommandCancelled, Handler, JobStopped
from agent.runtime.health import FAULT, IDLE
from agent.runtime.jobs import Outcome, OutcomeState
from agent.runtime.runner import JobRunner
from agent.runtime.worker import Work, WorkProgress
from hal.errors import DeviceError, InvalidInput

log = logging.getLogger(__name__)

STORAGE_ERRORS = (st.StorageError, sqlite3.Error, OSError)
STORAGE_RETRY = 2.0  # seconds between attempts to journal a job while storage is faulty


def run_work(d: JobRunner, handler: Handler, work: Work) -> None:
    job = work.job
    if d.is_cancelled(work):
        log.info("%s cancelled before it started; not executed", job.describe())
        d.finish(handler, work, Outcome(OutcomeState.CANCELLED, "cancelled before it started"), journal=False)
        return
    if not _journal_begin(d, handler, work):
        d.stopped_unstarted(work)
        return
    first_try = d.clock()
    backoff = d.retry_backoff or Backoff(1.0, 30.0)
    while True:
        progress = WorkProgress(d, handler, work)
        d.device_state(handler, "busy", "working")
        try:
            result = handler.run(job, progress)
        except CommandCancelled:
            log.info("%s stopped: cancelled", job.describe())
            d.finish(handler, work, Outcome(OutcomeState.CANCELLED, "cancelled"))
            return
        except JobStopped:
            _stopped(d, handler, work, progress)
            return
        except DeviceError as e:
            message = str(e) or type(e).__name__
            if not (e.retryable and work.mews):
                d.finish(handler, work, _failed(handler, message, progress))
                return
            waited = d.clock() - first_try
            if d.stopping.is_set():
                _park(d, handler, work)
                return
            if waited >= d.device_timeout:
                d.finish(handler, work, _failed(handler, f"{message} (gave up after {waited / 60:.0f} min)",
                                                progress))
                return
            delay = backoff.next_delay() + 0.2
            log.warning("%s waits: %s (retry in %.0f s)", job.describe(), message, delay)
            d.device_state(handler, FAULT, message, fault=message)
            reason = d.wait_for_device(handler, work, delay)
            if reason == "cancelled":
                d.finish(handler, work, Outcome(OutcomeState.CANCELLED, "cancelled"))
                return
            if reason == "stopped":
                _park(d, handler, work)
                return
            continue
        except InvalidInput as e:
            d.finish(handler, work, Outcome(OutcomeState.FAILED, str(e) or "the command's data is invalid"))
            return
        except Exception as e:
            log.exception("%s failed unexpectedly", job.describe())
            d.finish(handler, work, Outcome(OutcomeState.FAILED,
                                            f"internal error in the {handler.name} handler ({type(e).__name__})"))
            return
        d.finish(handler, work, result)
        return


def _failed(handler: Handler, message: str, progress: WorkProgress) -> Outcome:
    result = {"keys_made": progress.keys_made, "keys_asked": progress.keys_total} if progress.keys_total else {}
    return Outcome(OutcomeState.FAILED, f"{handler.name}: {message}", result)


def _journal_begin(d: JobRunner, handler: Handler, work: Work) -> bool:
    """Journal the job before the device is touched; waits (the job does not start) while storage fails."""
    job = work.job
    if not (work.mews or job.touches_card):
        return True
    while not d.stopping.is_set():
        try:
            if work.mews:
                if job.command is not None:  # a Mews job carries its command (Job.of_command)
                    d.spool.save(job.command.to_json())
                d.store.journal.begin(job.id, job.device_type, None)
            else:
                d.store.journal.begin(job.id, f"local:{job.kind.value}", None)
            if d.journal_fault:
                d.journal_fault = ""
            return True
        except STORAGE_ERRORS as e:
            fault = str(e) or type(e).__name__
            log.error("%s waits: its journal entry cannot be written (%s)", job.describe(), fault)
            d.journal_fault = fault
            d.device_state(handler, FAULT, f"storage fault: {fault}", fault=f"storage fault: {fault}")
            if d.stopping.wait(STORAGE_RETRY):
                break
    return False


def _park(d: JobRunner, handler: Handler, work: Work) -> None:
    job = work.job
    log.info("%s waits for its device across the stop: resumes after the restart", job.describe())
    if work.mews:
        try:
            d.store.journal.park(job.id)
        except STORAGE_ERRORS as e:
            log.error("%s: cannot park it in the journal: %s", job.describe(), e)
        d.device_state(handler, IDLE)
    else:
        d.finish(handler, work, Outcome(OutcomeState.FAILED, "the unit is stopping; try again in a minute"))


def _stopped(d: JobRunner, handler: Handler, work: Work, progress: WorkProgress) -> None:
    made, total = progress.keys_made, progress.keys_total
    if made:
        note = (f"{made} of {total} keys made; the unit was stopped before the rest: "
                "please issue the missing keys again")
        log.warning("%s: %s", work.job.describe(), note)
        d.finish(handler, work, Outcome(OutcomeState.FAILED, note, {"keys_made": made, "keys_asked": total}))
    else:
        _park(d, handler, work)
