"""Mews `Printer` commands (and POS receipts) on the ESC/POS thermal printer.

A document is rendered once, then printed ``CopyCount`` times with the status
checked before the job and after every copy. When paper runs out the command
waits (retryable DeviceError) and, on retry, prints only the copies still
missing. The last document this handler printed stays in memory (in the
handler) for the front panel's reprint job; nothing is written to disk.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from agent.devices.printer import KIND
from agent.runtime.handler import CommandRejected, DeviceCheck, DeviceError, NullProgress, serves_job
from agent.runtime.jobs import Job, JobKind, Outcome

log = logging.getLogger(__name__)

MAX_COPIES = 50
_PENDING_KEPT = 4  # commands waiting for paper whose rendered job we keep


def render(printer_cfg, file_type: str, data: bytes):
    """Rasterize and encode a document for this printer (InvalidInput on bad data)."""
    from hal.printer.escpos import encode_raster
    from hal.printer.raster import rasterize

    image = rasterize(file_type, data, printer_cfg.width_dots, max_pages=printer_cfg.max_pages,
                      max_length_mm=printer_cfg.max_length_mm)
    return encode_raster(image, printer_cfg.band_height)


def copy_count(value) -> int:
    """``CopyCount`` as an int in 1..MAX_COPIES; missing means 1."""
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise CommandRejected(f"CopyCount must be a whole number, got {str(value)[:20]!r}")
    if not 1 <= value <= MAX_COPIES:
        raise CommandRejected(f"CopyCount must be between 1 and {MAX_COPIES}, got {int(value)}")
    return int(value)


def note(copies: int, job) -> str:
    mm = round(copies * (job.rows / (203 / 25.4)))
    return f"printed {copies} {'copy' if copies == 1 else 'copies'}, {mm} mm"


def _print(printer, job, copies: int, progress, *, first: int = 1, after_copy=None) -> int:
    """Print copies first..copies, reporting progress (which may cancel) before each."""
    def before(k: int) -> None:
        progress.step(k - 1, copies, f"printing copy {k} of {copies}")
    return printer.print_job(job, copies, first=first, before_copy=before, after_copy=after_copy)


def print_document(printer_cfg, file_type: str, data: bytes, copies: int = 1, progress=None) -> str:
    """Print raw document bytes (POS receipts); returns "printed N copies, M mm".

    Raises InvalidInput for unusable data, DeviceError when the printer cannot print.
    """
    from hal.printer.escpos import EscPosPrinter

    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
        raise CommandRejected(f"copies must be between 1 and {MAX_COPIES}")
    job = render(printer_cfg, file_type, data)
    _print(EscPosPrinter.from_settings(printer_cfg), job, copies, progress or NullProgress())
    return note(copies, job)


@dataclass
class _Pending:
    job: object
    done: int = 0


class PrinterHandler:
    """Handler for Mews `Printer` commands on one ESC/POS printer."""

    device_types = KIND.device_types
    kinds = KIND.job_kinds
    name = KIND.label
    retry_after_crash = True  # a reprint after a crash wastes paper, a lost print loses a document

    def __init__(self, printer_cfg, *, printer=None):
        from hal.printer.escpos import EscPosPrinter

        self.cfg = printer_cfg
        self.device = printer_cfg.device
        self.printer = printer or EscPosPrinter.from_settings(printer_cfg)
        self._pending: OrderedDict[str, _Pending] = OrderedDict()
        self._lock = threading.Lock()
        self._last = None  # the RasterJob last printed by this handler, for the reprint job

    def serves(self, job: Job) -> bool:
        return serves_job(self, job)

    def run(self, job: Job, progress) -> Outcome:
        if job.kind is JobKind.REPRINT_LAST:
            return Outcome.done(self.reprint_last(progress), {"copies": 1})
        data = job.data if isinstance(job.data, dict) else {}
        copies = copy_count(data.get("CopyCount"))
        return Outcome.done(self._print_document(job.id, data, copies, progress), {"copies": copies})

    def _print_document(self, job_id: str, data: dict, copies: int, progress) -> str:
        with self._lock:
            pending = self._pending.get(job_id)
        if pending is None:
            from hal.printer.raster import decode_base64

            file_type = data.get("FileType")
            if not isinstance(file_type, str) or not file_type.strip():
                raise CommandRejected("FileType is missing")
            pending = _Pending(render(self.cfg, file_type, decode_base64(data.get("FileData"))))
        elif pending.done:
            log.info("printer: job %s resumes at copy %d of %d", job_id[:8], pending.done + 1, copies)

        def after(k: int) -> None:
            pending.done = k

        try:
            _print(self.printer, pending.job, copies, progress, first=pending.done + 1, after_copy=after)
        except DeviceError as e:
            if e.retryable:  # keep the rendered job and the copies done for the retry
                self._keep(job_id, pending)
            else:
                self._drop(job_id)
            raise
        except BaseException:
            self._drop(job_id)
            raise
        self._drop(job_id)
        self._last = pending.job
        return note(copies, pending.job)

    def reprint_last(self, progress=None) -> str:
        """Print the last document once more (the panel's reprint job); raises DeviceError on failure."""
        last = self._last
        if last is None:
            raise DeviceError("nothing printed yet: no document to reprint", retryable=False)
        try:
            _print(self.printer, last, 1, progress or NullProgress())
        except DeviceError as e:
            log.warning("printer: reprint failed: %s", e)
            raise
        log.info("printer: last document reprinted")
        return "reprinted"

    def ready(self) -> bool:
        """A cheap status poll while a job waits: True once paper, cover and link are fine again."""
        try:
            st = self.printer.status()
        except Exception:
            return False
        return bool(st.online and not (st.paper_out or st.cover_open or st.error))

    def check(self) -> DeviceCheck:
        """DLE EOT now (doctor through the running agent); DeviceError when it cannot be asked."""
        status = self.printer.status()
        if not status.ready:
            return DeviceCheck("fail", status.describe(), status.problem)
        return DeviceCheck("ok", status.describe())

    def close(self) -> None:
        with self._lock:
            self._pending.clear()

    def _keep(self, command_id: str, pending: _Pending) -> None:
        with self._lock:
            self._pending[command_id] = pending
            self._pending.move_to_end(command_id)
            while len(self._pending) > _PENDING_KEPT:
                self._pending.popitem(last=False)

    def _drop(self, command_id: str) -> None:
        with self._lock:
            self._pending.pop(command_id, None)


def from_config(cfg) -> PrinterHandler | None:
    """The printer handler, or None without a `[printer]` table."""
    if getattr(cfg, "printer", None) is None:
        return None
    return PrinterHandler(cfg.printer)
