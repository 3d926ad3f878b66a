"""The interface every device handler implements, and the errors it may raise.

A handler does one job at a time on its device::

    outcome = handler.run(job, progress)      # an Outcome (note, result, platform records)

Mews commands arrive as jobs too (``Job.of_command``); a handler reads ``job.data``
whatever the source, and what it produced goes back in the Outcome for the source
to deliver (agent.runtime.jobs).
``serves(job)`` is the one place that decides who takes a job (dispatch and crash
recovery alike); ``kinds`` lists the job kinds a handler takes, so an optional
capability (``JobKind.REPRINT_LAST``) is discovered through the protocol.

Handlers raise:

- ``hal.errors.DeviceError`` (``retryable`` True: paper out, encoder busy, no
  card): a Mews command stays ``Received`` and is retried with backoff up to
  ``agent.device_timeout``; ``retryable`` False ends it in ``Error``. A local
  job fails at once with the reason (its caller decides).
- ``CommandRejected`` (or ``hal.errors.InvalidInput``): the data is unusable.
- ``CommandCancelled`` / ``JobStopped`` are raised *by* ``progress.step`` when
  the job was cancelled or the agent is stopping; handlers let them propagate
  (they stop between steps: a card is never left half-written).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agent.runtime.jobs import Job, JobKind, Outcome
from hal.errors import DeviceError, InvalidInput

__all__ = ["Handler", "DeviceCheck", "Progress", "CommandRejected", "CommandCancelled", "JobStopped", "DeviceError",
           "InvalidInput", "NullProgress", "serves_job"]


class CommandRejected(InvalidInput):
    """The command's data is unusable; retrying cannot help."""


class CommandCancelled(Exception):
    """The platform (or the local caller) cancelled the job; work stops between steps."""


class JobStopped(Exception):
    """The agent is stopping; work stops between steps and resumes (or is accounted for) after the restart."""


class Progress(Protocol):
    """What a handler reports while it works; the display, the platform and local callers observe it."""

    def step(self, done: int, total: int, activity: str = "") -> None:
        """Report ``done`` of ``total`` steps (copies, keys); raises CommandCancelled / JobStopped."""

    def activity(self, text: str, deadline: float | None = None) -> None:
        """Say what the device is doing or waiting for ("present card 1 of 2"), for the display.

        ``deadline`` (unix time) marks a wait with a countdown, e.g. until the encoder gives up.
        """

    def key_made(self, made: int, total: int) -> None:
        """Key ``made`` of ``total`` is on a card: journalled before the next key is cut."""


@dataclass(frozen=True)
class DeviceCheck:
    """A handler's answer to a status check (doctor through the running agent): ok | busy | fail."""

    status: str
    detail: str
    fix: str = ""


class Handler(Protocol):
    """A device handler; ``device_types`` are the Mews ``Device.Type`` values it serves."""

    device_types: tuple[str, ...]
    kinds: frozenset[JobKind]  # the job kinds it takes (REPRINT_LAST: it can reprint its last document)
    device: str  # Mews Device Id or Name served; "" = every command of these types
    name: str  # short device name for the display and health ("printer", "encoder")
    retry_after_crash: bool  # True: an interrupted command is retried once; False: it ends in Error

    def serves(self, job: Job) -> bool: ...

    def run(self, job: Job, progress: Progress) -> Outcome: ...

    def ready(self) -> bool:
        """Optional cheap status poll while a job waits for the device (paper reloaded, re-plugged)."""

    # Optional: ``check() -> DeviceCheck``, a status query for doctor while the agent owns the device.

    def close(self) -> None: ...


def serves_job(handler, job: Job) -> bool:
    """The rule every handler's ``serves`` follows: its kind, its device type, its device."""
    if job.kind not in handler.kinds:
        return False
    if job.device_type and job.device_type not in handler.device_types:
        return False
    if not handler.device:
        return True
    command = job.command
    names = (command.device.id, command.device.name) if command is not None else (job.device,)
    return not any(names) or handler.device in names


class NullProgress:
    """A Progress that records calls; for tests and one-off CLI use."""

    def __init__(self):
        self.steps: list[tuple[int, int, str]] = []
        self.activities: list[str] = []
        self.keys: list[tuple[int, int]] = []

    def step(self, done: int, total: int, activity: str = "") -> None:
        self.steps.append((done, total, activity))

    def activity(self, text: str, deadline: float | None = None) -> None:
        self.activities.append(text)

    def key_made(self, made: int, total: int) -> None:
        self.keys.append((made, total))
