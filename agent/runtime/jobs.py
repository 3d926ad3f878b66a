"""The job contract: one unit of device work, from any source, with its outcome and result.

Sources: Mews commands (``Job.of_command``; their outcome is reported through the
durable outbox) and local callers (the kiosk flow, the front panel, staff tools, POS
receipts) that hold a ``JobHandle``: live progress ("present card 1 of 2", percent,
countdown) and a final ``Outcome``. Every job for a device goes through that device's
one worker, in order, so a Mews key command and a kiosk key job never interleave.

A handler runs a ``Job`` and returns an ``Outcome``; it never sees where the job came
from beyond ``Job.source``. What a job produced travels in the outcome: ``result``
(facts for the caller: a card read, a scanned document, keys made) and ``records``
(what the platform should receive: a scanned document for the guest's profile). The
source delivers them: for a Mews command the dispatcher queues the records in the
durable outbox before the command's final state; a local caller reads ``result``.

``Job.data`` has the shape of the Mews command's ``Data`` for the same device kind,
so one handler serves both: print jobs carry ``FileType``/``FileData`` (base64)/
``CopyCount``; key jobs carry KeyCutter data (``LockIds``, ``KeyCount``,
``StartUtc``/``EndUtc``, guest name fields, reservation number).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # a job only carries the command; mews.models is not needed to run jobs
    from agent.mews.models import Command

__all__ = ["JobKind", "PlatformRecord", "Source", "Job", "OutcomeState", "Outcome", "JobProgress", "JobHandle", "Jobs"]


class JobKind(str, Enum):
    PRINT_DOCUMENT = "print_document"
    REPRINT_LAST = "reprint_last"
    CUT_KEYS = "cut_keys"
    READ_CARD = "read_card"
    CHECKOUT_CARD = "checkout_card"
    READ_DOCUMENT = "read_document"  # an identity document (MRZ) or a booking QR code from the reader
    DEVICE_COMMAND = "device_command"  # a Mews command for a device type with no kind of its own




class Source(str, Enum):
    MEWS = "mews"
    KIOSK = "kiosk"
    PANEL = "panel"
    POS = "pos"
    CLI = "cli"


@dataclass(frozen=True)
class Job:
    kind: JobKind
    data: dict
    source: Source
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    device: str = ""  # device Id or Name; "" = the one device that serves this kind
    created: float = field(default_factory=time.time)
    device_type: str = ""  # Mews Device.Type of a Mews command ("Printer", "KeyCutter", ...)
    command: Command | None = field(default=None, compare=False, repr=False)  # the Mews Command (source MEWS)

    @classmethod
    def of_command(cls, command: Command) -> Job:
        """The job a Mews command asks for."""
        from agent.devices import job_of_device_type  # the device kinds declare which job their commands are

        kind = job_of_device_type(command.device.type or "")
        return cls(kind=kind, data=command.data if isinstance(command.data, dict) else {}, source=Source.MEWS,
                   id=command.id, device=command.device.id, device_type=command.device.type or "",
                   command=command)

    @property
    def touches_card(self) -> bool:
        """Jobs that write to or void a card: journalled (at most once), refused after a lost state."""
        from agent.devices import card_jobs

        return self.kind in card_jobs()

    def describe(self) -> str:
        what = self.device_type or self.kind.value
        return f"{what} {'command' if self.source is Source.MEWS else self.source.value + ' job'} {self.id[:8]}"


class OutcomeState(str, Enum):
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class PlatformRecord:
    """Something a job produced that the platform should receive (Mews: queued in the outbox).

    ``kind`` names the outbox row kind the source queues it as: "document" (an identity
    document for a customer's profile, ``agent.documents.platform.payload``).
    """

    kind: str
    payload: dict


@dataclass(frozen=True)
class Outcome:
    state: OutcomeState
    note: str = ""  # done: what was done ("2 keys made"); failed: a human reason ("paper out")
    # Kind-specific facts for the caller: cut_keys {"keys_made": k, "keys_asked": n};
    # read_card {"blank": bool, "rooms": [...], "valid_until": "YYYY-MM-DDTHH:MM"}; print {"copies": n};
    # read_document {"document": IdentityDocument} or {"booking": BookingCode}
    result: dict = field(default_factory=dict)
    records: tuple[PlatformRecord, ...] = ()  # for the platform, delivered by the job's source

    @classmethod
    def done(cls, note: str, result: dict | None = None, records: tuple[PlatformRecord, ...] = ()) -> Outcome:
        return cls(OutcomeState.DONE, note, result or {}, records)

    @property
    def ok(self) -> bool:
        return self.state is OutcomeState.DONE


@dataclass(frozen=True)
class JobProgress:
    text: str = ""  # "present card 1 of 2", "printing copy 1 of 1"; "" = queued
    done: int = 0
    total: int = 0
    deadline: float | None = None  # unix time a wait gives up (countdown on screen)

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.done / self.total, 1) if self.total > 0 else None


class JobHandle:
    """What a local caller holds: progress while the job runs, then its outcome. Thread-safe."""

    def __init__(self, job: Job):
        self.job = job
        self._cv = threading.Condition()
        self._progress = JobProgress()
        self._outcome: Outcome | None = None
        self._cancel = threading.Event()

    @property
    def id(self) -> str:
        return self.job.id

    # ---- caller side ----------------------------------------------------------

    def progress(self) -> JobProgress:
        with self._cv:
            return self._progress

    @property
    def outcome(self) -> Outcome | None:
        with self._cv:
            return self._outcome

    def wait(self, timeout: float | None = None) -> Outcome | None:
        """The outcome, waiting up to ``timeout`` seconds (None: for ever); None if not final yet."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while self._outcome is None:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cv.wait(left)
            return self._outcome

    def cancel(self) -> None:
        """Ask the job to stop: skipped if queued, stopped between steps (copies, keys) if running."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    # ---- worker side ----------------------------------------------------------

    def set_progress(self, progress: JobProgress) -> None:
        with self._cv:
            self._progress = progress
            self._cv.notify_all()

    def finish(self, outcome: Outcome) -> None:
        with self._cv:
            if self._outcome is None:
                self._outcome = outcome
            self._cv.notify_all()


class Jobs(Protocol):
    """Where local callers submit device work (implemented by the runtime's dispatcher)."""

    def submit(self, job: Job) -> JobHandle:
        """Queue ``job`` on its device's worker; a job no device serves finishes FAILED at once."""

    def serves(self, kind: JobKind, device: str = "") -> bool:
        """True when an attached device takes jobs of this kind."""
