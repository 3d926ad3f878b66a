"""The front panel: status OLED, LEDs, buzzer and buttons observing the agent's health.

``update(health)`` is cheap and never raises: it picks the screen and the LED
states; one painter thread owns the display and draws only the newest change,
at most a few frames per second. The panel never drives the agent: its buttons
only call ``actions.reprint_last()`` and ``actions.clear_dead_letters()``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.runtime.health import BUSY, CONFIG_ERROR, DISPLACED, FAULT, ONLINE, WAITING, Health

if TYPE_CHECKING:  # screens (and Pillow) are imported when the panel draws
    from agent.panel.screens import Screen

log = logging.getLogger(__name__)

# Burn-in care: the content walks around its centre, one step per shift period.
SHIFT_PATH = ((2, 2), (3, 2), (3, 3), (2, 3), (1, 3), (1, 2), (1, 1), (2, 1), (3, 1))
# Screens that may dim when nothing happens; a fault or a waiting guest never dims.
DIMMABLE = {"online", "offline", "booting", "connecting"}


@dataclass(frozen=True)
class PanelTiming:
    reprint_hold: float = 5.0  # hold button A this long to reprint the last receipt
    clear_hold: float = 10.0  # hold button B this long to clear dead letters
    status_page: float = 10.0  # a short press on A shows the status page this long
    notice: float = 5.0  # button feedback stays this long
    frame_interval: float = 0.25  # at most 4 frames a second
    shift_every: float = 120.0  # seconds between burn-in shifts
    beep: float = 0.1  # one beep, seconds
    blink: float = 0.5  # green LED on/off while busy, seconds


class Painter:
    """The display's own thread: draws the newest request, rate-limited; a fault is logged once."""

    def __init__(self, opener, *, frame_interval: float = 0.25, ticks=time.monotonic):
        self._opener = opener
        self._interval = frame_interval
        self._ticks = ticks
        self._cond = threading.Condition()
        self._pending: tuple[Screen, tuple[int, int], bool] | None = None
        self._seq = self._done = 0
        self._stop = False
        self._thread: threading.Thread | None = None
        self._opened = False
        self._drawn = None
        self._dimmed = False
        self._failing = False
        self.display = None
        self.frames_shown = 0

    def submit(self, screen, shift: tuple[int, int], dimmed: bool) -> None:
        """Ask for this frame; returns at once, an older request not yet drawn is dropped."""
        request = (screen, shift, dimmed)
        with self._cond:
            if self._stop or request == self._pending:
                return
            self._pending = request
            self._seq += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="frontpanel-display", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the latest request is on the display (tests, demo)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._seq
            while self._done < target and not self._stop:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return self._done >= target

    def _run(self) -> None:
        last = float("-inf")
        while True:
            with self._cond:
                while not self._stop and self._done == self._seq:
                    self._cond.wait()
                if self._stop:
                    return
                wait = last + self._interval - self._ticks()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                request, seq = self._pending, self._seq
            if request is not None:  # set before the sequence moved
                self._draw(*request)
            last = self._ticks()
            with self._cond:
                self._done = seq
                self._cond.notify_all()

    def _draw(self, screen, shift, dimmed) -> None:
        try:
            if not self._opened:
                self._opened = True  # one attempt: a missing panel stays missing until restart
                self.display = self._opener()
            if self.display is None:
                return
            if (screen, shift) != self._drawn:
                from agent.panel.screens import render

                self.display.show(render(screen, shift))
                self._drawn = (screen, shift)
                self.frames_shown += 1
            if dimmed != self._dimmed:
                from hal.display import BRIGHT, DIM

                self.display.set_contrast(DIM if dimmed else BRIGHT)
                self._dimmed = dimmed
            if self._failing:
                log.info("display: working again")
                self._failing = False
        except Exception as e:
            if not self._failing:
                log.warning("display: %s; the agent carries on without it", e)
                self._failing = True

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        if self.display is not None:
            try:
                self.display.close()
            except Exception:
                pass


class FrontPanel:
    """Screens, LEDs, buzzer and buttons; any part may be absent."""

    def __init__(self, *, painter: Painter | None = None, parts=None, actions=None, tz=None,
                 dim_after: float = 300.0, timing: PanelTiming = PanelTiming(),
                 clock=time.time, ticks=time.monotonic):
        self.painter, self.parts, self.actions = painter, parts, actions
        self.tz, self.dim_after, self.timing = tz, dim_after, timing
        self._clock, self._ticks = clock, ticks
        self._lock = threading.RLock()
        self._faults: set[tuple[str, str]] = set()
        self._keys_done: int | None = None
        self._screen_name = ""
        self._active_at = ticks()
        self._status_until = float("-inf")
        self._note: Screen | None = None
        self._note_until = float("-inf")
        self._action: threading.Thread | None = None
        self._failing = False
        self.screen: Screen | None = None  # the last screen chosen
        if parts is not None:
            parts.button_a.on_press = parts.button_b.on_press = self.wake
            parts.button_a.on_short = self.show_status
            parts.button_a.on_hold = self.reprint_last
            parts.button_b.on_hold = self.clear_dead_letters

    @classmethod
    def from_config(cls, cfg, actions, *, timing: PanelTiming | None = None, frames_dir=None,
                    pin_factory=None, model_path: str | None = None) -> FrontPanel:
        """Build from ``[display]`` and ``[gpio]``; a part that cannot start is logged and left out."""
        import boards
        from hal.display import open_display
        from hal.errors import DeviceError
        from hal.gpio import PanelParts, open_pin_factory

        timing = timing or PanelTiming()
        d = cfg.display
        painter = None
        if d.driver != "none":
            frames = frames_dir or getattr(d, "frames_dir", "") or None
            opener = functools.partial(open_display, d.driver, i2c_port=d.i2c_port, address=d.address,
                                       rotate=d.rotate, png_path=cfg.state_dir / "display.png", frames_dir=frames)
            painter = Painter(opener, frame_interval=timing.frame_interval)
        parts = None
        if cfg.gpio is not None:
            try:
                board = boards.resolve(cfg.gpio, **({"model_path": model_path} if model_path else {}))
                factory = pin_factory or open_pin_factory(board.pin_factories)
                parts = PanelParts(board.pins, factory, hold_a=timing.reprint_hold, hold_b=timing.clear_hold,
                                   beep_time=timing.beep, blink_time=timing.blink)
                log.info("front panel GPIO on board %s (pins %s)", board.name, board.pins)
            except (boards.BoardError, DeviceError) as e:
                log.error("front panel GPIO disabled: %s", e)
        return cls(painter=painter, parts=parts, actions=actions, tz=_zone(cfg.agent.timezone),
                   dim_after=d.dim_after, timing=timing)

    # ---- observing -------------------------------------------------------------

    def update(self, health: Health) -> None:
        """Show ``health``: cheap, non-blocking, never raises."""
        try:
            from agent.panel import screens

            with self._lock:
                now, t = self._clock(), self._ticks()
                if self.parts is not None:
                    self._signal(health)
                note = self._note if t < self._note_until else None
                screen = screens.choose(health, now, tz=self.tz, status=t < self._status_until, note=note)
                if screen.name != self._screen_name:
                    self._screen_name, self._active_at = screen.name, t
                dimmed = (self.dim_after > 0 and screen.name in DIMMABLE
                          and t - self._active_at >= self.dim_after)
                shift = SHIFT_PATH[int(t // self.timing.shift_every) % len(SHIFT_PATH)]
                self.screen = screen
            if self.painter is not None:
                self.painter.submit(screen, shift, dimmed)
            self._failing = False
        except Exception:
            if not self._failing:
                log.exception("front panel: update failed; the agent carries on")
                self._failing = True

    def _signal(self, health: Health) -> None:
        """LEDs and beeps from the health snapshot."""
        devices = health.devices.values()
        faults = {(d.name, d.fault) for d in devices if d.state == FAULT}
        if health.connection in (DISPLACED, CONFIG_ERROR):
            faults.add(("connection", health.connection))
        faults.update(("service", fault) for fault in health.service_faults())
        new_fault = bool(faults - self._faults)
        self._faults = faults
        encoder = health.devices.get("encoder")
        key_ready = (encoder is not None and self._keys_done is not None and encoder.done > self._keys_done)
        self._keys_done = encoder.done if encoder is not None else None
        if new_fault:
            self.parts.beep(3)
        elif key_ready:
            self.parts.beep(1)
        self.parts.set_red(bool(faults))
        busy = any(d.state in (BUSY, WAITING) for d in devices)
        self.parts.set_green("blink" if busy else "on" if health.connection == ONLINE else "off")

    # ---- buttons ---------------------------------------------------------------

    def wake(self) -> None:
        """Any press brightens the display."""
        with self._lock:
            self._active_at = self._ticks()

    def show_status(self) -> None:
        """Button A, short press: the status page for a while."""
        with self._lock:
            self._note_until = float("-inf")
            self._status_until = self._ticks() + self.timing.status_page

    def _notice(self, title: str, line: str) -> None:
        from agent.panel.screens import notice

        with self._lock:
            self._note = notice(title, line)
            self._note_until = self._ticks() + self.timing.notice
            self._status_until = float("-inf")

    def reprint_last(self) -> None:
        """Button A, held: reprint the last receipt (in the background)."""
        self._start_action("REPRINT", "printing the last receipt", self._do_reprint)

    def clear_dead_letters(self) -> None:
        """Button B, held: confirmation beep, then drop the outbox's dead letters."""
        self._start_action("CLEAR", "clearing dead letters", self._do_clear, beeps=2)

    def _start_action(self, title: str, line: str, work, beeps: int = 1) -> None:
        with self._lock:
            if self._action is not None and self._action.is_alive():
                log.info("front panel: %s ignored, the previous button action is still running", title.lower())
                return
            if self.actions is None:
                if self.parts is not None:
                    self.parts.beep(beeps)
                self._notice(title, "not available here")
                return
            self._notice(title, line)
            self._action = threading.Thread(target=self._act, args=(title, work, beeps), daemon=True,
                                            name=f"frontpanel-{title.lower()}")
            self._action.start()

    def _act(self, title: str, work, beeps: int) -> None:
        try:
            if self.parts is not None:
                self.parts.beep(beeps, wait=True)  # the confirmation sounds before anything happens
            self._notice(title, work())
        except Exception as e:
            log.warning("front panel: %s failed: %s", title.lower(), e)
            self._notice(title, f"failed: {e}")

    def _do_reprint(self) -> str:
        def shown(progress) -> None:
            if progress.text:
                self._notice("REPRINT", progress.text)

        outcome = self.actions.reprint_last(on_progress=shown)  # a job on the printer's worker
        if not outcome.ok:
            log.warning("front panel: reprint failed: %s", outcome.note)
            return f"failed: {outcome.note}"  # shown as it is; nothing is retried behind the user's back
        log.info("front panel: last receipt reprinted (button A)")
        return outcome.note or "reprinted"

    def _do_clear(self) -> str:
        count = self.actions.clear_dead_letters()
        log.info("front panel: %s dead letters cleared (button B)", count)
        return f"{count} dead letter{'' if count == 1 else 's'} removed"

    def wait_action(self, timeout: float = 5.0) -> bool:
        """Wait for a running button action to end (tests, demo)."""
        action = self._action
        if action is not None:
            action.join(timeout)
        return action is None or not action.is_alive()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the latest screen is on the display (tests, demo)."""
        return self.painter.flush(timeout) if self.painter is not None else True

    def close(self) -> None:
        """Stop the display thread and release the pins."""
        if self.painter is not None:
            self.painter.close()
        if self.parts is not None:
            self.parts.close()


def _zone(name: str):
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:
        return None
