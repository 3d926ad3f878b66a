"""The printer's paper as a health state, and one staff task per roll when it runs low.

Every status read (before each job, after each copy, and the idle poll at least
every ``printer.status_interval`` seconds) lands in ``observe``: the printer's
health entry gets ``paper`` = ``ok`` | ``low`` | ``out`` | ``unknown``. The first
``low`` (or ``out``) of a roll raises one staff task on the platform through
the agent's client (``tasks/add``, as the kiosk's staff tasks do); ``ok`` again
means a new roll, and the next near end raises a new task. The latch lives in
``state_dir/printer-paper.json`` so a restart on the same roll raises nothing.

The task is sent from the watch's own thread, never from the printer's worker:
a slow platform must not hold a receipt.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common.atomic import write_atomically

log = logging.getLogger(__name__)

OK, LOW, OUT, UNKNOWN = "ok", "low", "out", "unknown"
LATCH_FILE = "printer-paper.json"
TASK_DEADLINE_MINUTES = 60.0


class PaperLatch:
    """Whether this roll's task was raised; on disk so a restart does not raise it again."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.raised = bool(json.loads(path.read_text()).get("task_raised"))
        except (OSError, ValueError, AttributeError):
            self.raised = False  # absent or damaged: at worst one task too many, never a crash

    def set(self, raised: bool) -> None:
        if raised == self.raised:
            return
        self.raised = raised
        try:
            write_atomically(self.path, json.dumps({"task_raised": raised}).encode(), mode=0o644)
        except OSError as e:  # a full disk costs at most a repeated task after a restart
            log.warning("printer paper: cannot keep the task latch: %s", e)


class PaperWatch:
    """Observes printer status reads; polls while idle; raises the paper-low task once per roll."""

    def __init__(self, printer, health, state_dir, add_task: Callable[[str, datetime, str], None], *,
                 kiosk: str, interval: float = 60.0, utc_now: Callable[[], datetime] | None = None):
        self.printer, self.health = printer, health
        self.add_task, self.kiosk, self.interval = add_task, kiosk, interval
        self.utc_now = utc_now or (lambda: datetime.now(UTC))
        self.latch = PaperLatch(Path(state_dir) / LATCH_FILE)
        self.paper = UNKNOWN
        self._task_due = False
        self._poll_now = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        printer.on_status = self.observe
        self._show()

    @classmethod
    def for_agent(cls, cfg, handler, health, client) -> PaperWatch:
        kiosk = cfg.printer.device or socket.gethostname()

        def add_task(name: str, deadline: datetime, description: str) -> None:
            client.add_task(name, deadline, description=description)

        return cls(handler.printer, health, cfg.state_dir, add_task, kiosk=kiosk,
                   interval=cfg.printer.status_interval)

    # -- status --------------------------------------------------------------

    def observe(self, status) -> None:
        """One status read: a PrinterStatus, or None when the printer did not answer."""
        paper = UNKNOWN if status is None else status.paper
        if paper != self.paper:
            log.info("printer paper: %s", paper)
        self.paper = paper
        if paper == OK and self.latch.raised:
            log.info("printer paper: new roll; the next near end raises a new task")
            self.latch.set(False)
        if paper in (LOW, OUT) and not self.latch.raised and not self._task_due:
            self._task_due = True
            self._wake.set()
        self._show()

    def _show(self) -> None:
        from agent.runtime.health import DeviceHealth

        device = self.health.devices.get("printer")
        if device is None:
            self.health.devices["printer"] = DeviceHealth(name="printer", paper=self.paper)
        else:
            device.paper = self.paper

    # -- thread --------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="paper-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def check_now(self) -> None:
        """Ask the printer at once (staff reloaded paper, the demo), not at the next interval."""
        self._poll_now = True
        self._wake.set()

    def _run(self) -> None:
        next_poll = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_poll or self._poll_now:
                self._poll_now = False
                next_poll = now + self.interval
                try:
                    self.printer.poll()  # lands in observe; skipped while a job holds the printer
                except Exception:
                    log.exception("printer status poll failed")
            if self._task_due:
                self.raise_task()
            self._wake.wait(max(0.0, min(self.interval, next_poll - time.monotonic())))
            self._wake.clear()

    def raise_task(self) -> bool:
        """Send this roll's task; on failure it is tried again at the next wake-up."""
        name = f"Printer at kiosk {self.kiosk}: paper {'out' if self.paper == OUT else 'low'}"
        description = "Put a new paper roll in the kiosk printer."
        try:
            self.add_task(name, self.utc_now() + timedelta(minutes=TASK_DEADLINE_MINUTES), description)
        except Exception as e:  # MewsError, OSError: the platform is away; the next poll tries again
            log.warning("printer paper: staff task not raised: %s", type(e).__name__)
            return False
        self._task_due = False
        self.latch.set(True)
        log.info("printer paper: staff task raised")
        return True


def for_agent(cfg, handler, health, client) -> PaperWatch | None:
    """The printer kind's companion in the agent: a watch when the printer can be asked its status."""
    if not hasattr(getattr(handler, "printer", None), "poll"):
        return None
    return PaperWatch.for_agent(cfg, handler, health, client)
