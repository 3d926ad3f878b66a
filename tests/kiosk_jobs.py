"""A test-side Jobs: runs the REAL device handlers against the virtual encoder/printer in a worker thread.

Stands in for the runtime dispatcher's Jobs until it lands; the kiosk tests that
need a real agent process (kill -9 between start and keys) must move to it then.
"""

from __future__ import annotations

import threading

from agent.handlers.encoder import EncoderHandler
from agent.handlers.printer import PrinterHandler
from agent.mews.models import Command
from agent.runtime.jobs import Job, JobHandle, JobKind, JobProgress, Outcome, OutcomeState


class _Progress:
    def __init__(self, handle):
        self.handle = handle

    def step(self, done, total, activity=""):
        p = self.handle.progress()
        self.handle.set_progress(JobProgress(activity or p.text, done, total, p.deadline))
        if self.handle.cancel_requested:
            from agent.runtime.handler import CommandCancelled

            raise CommandCancelled("cancelled")

    def activity(self, text, deadline=None):
        p = self.handle.progress()
        self.handle.set_progress(JobProgress(text, p.done, p.total, deadline))


class DeviceJobs:
    def __init__(self, encoder: EncoderHandler | None = None, printer: PrinterHandler | None = None):
        self.encoder, self.printer = encoder, printer
        self.jobs: list[Job] = []
        self._lock = threading.Lock()  # one worker per device: jobs never interleave

    def serves(self, kind, device=""):
        return (self.printer if kind is JobKind.PRINT_DOCUMENT else self.encoder) is not None

    def submit(self, job: Job) -> JobHandle:
        handle = JobHandle(job)
        self.jobs.append(job)
        threading.Thread(target=self._run, args=(handle,), daemon=True).start()
        return handle

    def _run(self, handle: JobHandle) -> None:
        job = handle.job
        with self._lock:
            try:
                handle.finish(self._execute(job, handle))
            except Exception as e:  # noqa: BLE001 - the outcome carries the reason
                made = 0
                text = str(e)
                if job.kind is JobKind.CUT_KEYS and " of " in text and text.split(" ")[0].isdigit():
                    made = int(text.split(" ")[0])
                handle.finish(Outcome(OutcomeState.FAILED, text, {"keys_made": made,
                                                                   "keys_asked": job.data.get("KeyCount", 1)}))

    def _execute(self, job: Job, handle: JobHandle) -> Outcome:
        if job.kind is JobKind.CUT_KEYS:
            command = Command.from_json({"Id": job.id, "State": "Pending", "CreatedUtc": "2024-01-01T00:00:00Z",
                                         "Device": {"Id": "kiosk", "Name": "kiosk", "Type": "KeyCutter"},
                                         "Data": job.data})
            note = self.encoder.execute(command, _Progress(handle))
            n = job.data["KeyCount"]
            return Outcome(OutcomeState.DONE, note, {"keys_made": n, "keys_asked": n})
        if job.kind is JobKind.PRINT_DOCUMENT:
            command = Command.from_json({"Id": job.id, "State": "Pending", "CreatedUtc": "2024-01-01T00:00:00Z",
                                         "Device": {"Id": "kiosk-p", "Name": "kiosk-p", "Type": "Printer"},
                                         "Data": job.data})
            return Outcome(OutcomeState.DONE, self.printer.execute(command, _Progress(handle)), {"copies": 1})
        if job.kind is JobKind.READ_CARD:
            info = self.encoder.encoder.read_card()
            return Outcome(OutcomeState.DONE, "read", {"blank": not info.rooms, "rooms": list(info.rooms),
                                                       "valid_until": None})
        if job.kind is JobKind.CHECKOUT_CARD:
            self.encoder.encoder.check_out(job.data["LockIds"][0])
            return Outcome(OutcomeState.DONE, "checked out", {})
        return Outcome(OutcomeState.FAILED, f"no device for {job.kind.value}")
