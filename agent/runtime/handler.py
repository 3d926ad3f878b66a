"""The interface every device handler implements, and the errors it may raise.

A handler turns a Mews command into HAL calls::

    notes = handler.execute(command, progress)

It returns a short human note for ``Processed`` and raises:

- ``hal.errors.DeviceError`` (``retryable`` True: paper out, encoder busy, no
  card): the command stays ``Received`` and is retried with backoff up to
  ``agent.device_timeout``; ``retryable`` False ends it in ``Error``.
- ``CommandRejected`` (or ``hal.errors.InvalidInput``): the data is unusable;
  the command ends in ``Error`` with the message as its note.
- ``CommandCancelled`` is raised *by* ``progress.step`` when the platform
  cancelled the command; handlers let it propagate (they stop between steps).
"""

from __future__ import annotations

from typing import Protocol

from agent.mews.models import Command
from hal.errors import DeviceError, InvalidInput

__all__ = ["Handler", "Progress", "CommandRejected", "CommandCancelled", "DeviceError",
           "InvalidInput", "NullProgress"]


class CommandRejected(InvalidInput):
    """The command's data is unusable; retrying cannot help."""


class CommandCancelled(Exception):
    """The platform cancelled the command; work stops between steps."""


class Progress(Protocol):
    """What a handler reports while it works; the display and the platform observe it."""

    def step(self, done: int, total: int, activity: str = "") -> None:
        """Report ``done`` of ``total`` steps (copies, keys); raises CommandCancelled when cancelled."""

    def activity(self, text: str, deadline: float | None = None) -> None:
        """Say what the device is doing or waiting for ("present card 1 of 2"), for the display.

        ``deadline`` (unix time) marks a wait with a countdown, e.g. until the encoder gives up.
        """


class Handler(Protocol):
    """A device handler; ``device_types`` are the Mews ``Device.Type`` values it serves."""

    device_types: tuple[str, ...]
    device: str  # Mews Device Id or Name served; "" = every command of these types
    name: str  # short device name for the display and health ("printer", "encoder")
    retry_after_crash: bool  # True: an interrupted command is retried once; False: it ends in Error

    def execute(self, command: Command, progress: Progress) -> str: ...

    def close(self) -> None: ...


class NullProgress:
    """A Progress that records calls; for tests and one-off CLI use."""

    def __init__(self):
        self.steps: list[tuple[int, int, str]] = []
        self.activities: list[str] = []

    def step(self, done: int, total: int, activity: str = "") -> None:
        self.steps.append((done, total, activity))

    def activity(self, text: str, deadline: float | None = None) -> None:
        self.activities.append(text)
