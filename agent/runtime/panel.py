"""What the front panel's buttons may ask of the agent: jobs through ``Jobs``, never its internals."""

from __future__ import annotations

import logging
import time

from agent.runtime.jobs import Job, JobHandle, JobKind, Outcome, OutcomeState, Source

log = logging.getLogger(__name__)

REPRINT_WAIT = 120.0  # seconds the panel follows a reprint before it says "still printing"


class PanelActions:
    def __init__(self, jobs, store):
        self.jobs, self.store = jobs, store

    def reprint_last(self, on_progress=None) -> Outcome:
        """Reprint the last document as a job on the printer's worker; returns its real outcome."""
        if not self.jobs.serves(JobKind.REPRINT_LAST):
            return Outcome(OutcomeState.FAILED, "no attached device can reprint")
        handle: JobHandle = self.jobs.submit(Job(kind=JobKind.REPRINT_LAST, data={}, source=Source.PANEL))
        seen = None
        while True:
            outcome = handle.wait(0.2)
            progress = handle.progress()
            if on_progress is not None and progress != seen:
                seen = progress
                on_progress(progress)
            if outcome is not None:
                return outcome
            if handle.job.created + REPRINT_WAIT < time.time():
                return Outcome(OutcomeState.FAILED, "still waiting for the printer")

    def clear_dead_letters(self) -> int:
        n = self.store.outbox.drop(dead_only=True)
        log.info("cleared %d dead letter(s) from the front panel", n)
        return n
