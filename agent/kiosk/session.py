"""A guest session: the current screen, its data, the actions it takes; long steps run in the background.

No web in here: ``act(action, fields)`` and ``screen()`` answer plain dicts in the
shape of docs/kiosk-api.md's Screen. Guest data lives only in this object and is
wiped on finish, cancel and idle timeout (``wipe()``).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time

from agent.kiosk.booking import Stay
from agent.mews import errors as mews_errors

log = logging.getLogger("agent.kiosk")


class ActionRefused(Exception):
    """An action not valid on this screen (409) or malformed (400)."""

    def __init__(self, status: int, message_id: str, params: dict | None = None):
        super().__init__(message_id)
        self.status, self.message_id, self.params = status, message_id, params or {}


class End(Exception):
    """A step ends the session on ``refused`` or ``failed`` with a message for the guest."""

    def __init__(self, screen: str, message_id: str, params: dict | None = None, task: str = "", why: str = "",
                 detail: str = ""):
        super().__init__(message_id)
        self.screen, self.message_id, self.params, self.task, self.why = screen, message_id, params or {}, task, why
        self.detail = detail  # the task's description when it must say more than the log (default: why)


def refused(message_id, params=None, task="", why="", detail=""):
    return End("refused", message_id, params, task, why, detail)


def failed(message_id, params=None, task="", why=""):
    return End("failed", message_id, params, task, why)


# final screens -> the outcome counted for the fleet metrics ("" = checked_in / checked_out, by flow)
OUTCOME_SCREENS = {"done": "", "refused": "refused", "failed": "failed"}


class Session:
    flow = ""
    first_screen = "find"

    @property
    def booking(self) -> Stay:
        """The booking ``find`` found: every step after it has one."""
        if self.stay is None:
            raise RuntimeError(f"{self.flow}: a step after find ran without a booking")
        return self.stay

    def __init__(self, ctx, language: str = "en"):
        self.ctx = ctx
        self.stay: Stay | None = None  # the booking ``find`` found
        self.id = secrets.token_hex(16)
        self.language = language
        self.lock = threading.RLock()
        self.name = self.first_screen
        prompt, self.data = self.opening()
        self.message: tuple[str, dict] = (prompt, {})
        self.errors: dict = {}
        self.busy = False
        self.progress: dict | None = None
        self.last_input = time.monotonic()
        self.ended = False
        self.staff_called = False
        self.result: dict = {}  # facts for the CLI: result, reservation, room, keys, printed, balance
        self.leaving = False  # the guest asked to leave while a step ran: end when it allows
        # What the guest typed to find the booking, without the name (a retry or "Back" keeps it).
        self.kept: dict = {}
        self._worker: threading.Thread | None = None

    prompt_id = ""
    actions_by_screen: dict[str, tuple[str, ...]] = {}

    # ---- the API --------------------------------------------------------------------

    def screen(self) -> dict:
        with self.lock:
            actions = [] if self.busy else list(self.offered()) + ["cancel"]
            return {"session": self.id, "flow": self.flow, "screen": self.name,
                    "message": {"id": self.message[0], "params": dict(self.message[1])},
                    "data": dict(self.data), "errors": dict(self.errors), "busy": self.busy,
                    "progress": dict(self.progress) if self.progress else None, "actions": actions}

    def act(self, action: str, fields: dict) -> dict:
        with self.lock:
            self.last_input = time.monotonic()
            if action == "cancel":
                self.cancel()
                return self.screen()
            if self.busy:
                raise ActionRefused(409, "error.busy")
            if action == "restart" and self.name in ("refused", "failed"):
                self._restart()
                return self.screen()
            if action == "staff":
                self.call_staff()
                return self.screen()
            if action == "retry" and "retry" in self.offered():
                self.errors = {}
                self.back_to_find()
                return self.screen()
            if action not in self.actions_by_screen.get(self.name, ()):
                raise ActionRefused(409, "error.not_allowed")
            self.errors = {}
            step = getattr(self, "on_" + action)
            try:
                step(fields)
            except End as e:
                self._end(e)
            except (mews_errors.MewsError, OSError) as e:
                self._end(failed("failed.platform", why=_describe(e)))
            return self.screen()

    def offered(self) -> tuple[str, ...]:
        """The actions the current screen offers the guest (a subset of what ``act`` takes on it)."""
        if self.name == "refused" and self.message[0] == "refused.not_found" and self.kept:
            return ("retry",) + self.actions_by_screen.get(self.name, ())  # "Try again", the number kept
        return self.actions_by_screen.get(self.name, ())

    def on_back(self, fields: dict) -> None:
        """Back to the find screen with what the guest typed there (not the name); nothing was done yet."""
        self.forget()
        self.back_to_find()

    def back_to_find(self) -> None:
        """The first screen again, with what the guest typed there (``kept``, never the name)."""
        prompt, data = self.opening()
        self.show(self.first_screen, prompt, **{**data, **self.kept})

    def call_staff(self) -> None:
        if self.ctx.staff_calls.allow(self.id):
            where = self.where()
            if not self.ctx.tasks.raise_task(f"guest asks for help{(' - ' + where) if where else ''}"):
                self.ctx.staff_calls.give_back(self.id)
        else:
            log.info("kiosk: call staff again within the limit; no new task")
        self.staff_called = True
        self.data["staff_called"] = True
        self.message = ("staff.called", {})

    def cancel(self) -> bool:
        """The guest leaves (Start over, the idle reset, another session): True when the session ended now.

        A busy session never ends half way: a payment is asked to abort and the session ends with the
        terminal's final answer (an approval that comes anyway is recorded and the flow goes on, since the
        guest has paid); keys are cut to the end. False then: the caller answers "busy"."""
        if self.end_unless_busy():
            return True
        with self.lock:
            self.leaving = True
            paying = self.message[0] == "payment.follow_terminal"
        if paying and self.ctx.terminal is not None:
            self.ctx.terminal.abort()  # outside the lock: the terminal may take seconds to answer
        return False

    def end_unless_busy(self) -> bool:
        """End the session now unless a payment or key job runs (then nothing changes): True when ended."""
        with self.lock:
            if self.busy:
                return False
            self.on_leave()
            self.wipe()
            return True

    def touch(self) -> None:
        """The guest is at the screen (a tap, a key): the idle clock starts again."""
        with self.lock:
            self.last_input = time.monotonic()

    def on_leave(self) -> None:
        """What must reach staff when the guest leaves now (subclasses: a part payment)."""

    def wipe(self) -> None:
        with self.lock:
            self.data, self.errors, self.progress, self.kept = {}, {}, None, {}
            self.forget()
            self.ended = True
            self.name, self.message = "ended", ("session.cancelled", {})

    def forget(self) -> None:
        """Drop the guest data the flow keeps (subclasses)."""

    def where(self) -> str:
        """'reservation N, room R' as far as known (never the guest)."""
        return ""

    def where_reservation(self) -> str | None:
        """The number of the reservation this session checks in (its key mark is its own), else None."""
        return None

    def wait_idle(self, timeout: float = 60.0) -> dict:
        """Wait until no background step runs (CLI, tests); the screen then."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return self.screen()

    # ---- for steps ------------------------------------------------------------------

    def lookup(self, inputs: dict, find, what: str):
        """The guest's booking from required ``inputs`` via ``find()``, or None (field errors shown).

        Throttled lookups and misses are refused alike: the guest never learns which input was wrong."""
        self.errors = {k: {"id": "field.required", "params": {}} for k, v in inputs.items() if not v}
        if self.errors:
            return None
        if self.ctx.throttle.blocked():
            raise refused("refused.throttled", why="lookup throttled")
        self.kept = {}
        stay = find()
        self.kept = {k: v for k, v in inputs.items() if k != "last_name"}
        if stay is None:
            if self.ctx.throttle.failed():
                self.ctx.tasks.raise_task(f"repeated failed {what} lookups; lookups paused for 2 minutes")
            raise refused("refused.not_found", why=f"no matching {what}")
        return stay

    def show(self, name: str, message_id: str, params: dict | None = None, **data) -> None:
        if name in OUTCOME_SCREENS and name != self.name:
            self._count_outcome(name)
        self.name, self.message, self.progress = name, (message_id, params or {}), None
        self.data = data

    def _count_outcome(self, screen: str) -> None:
        """kiosk_checkin_checked_in, kiosk_checkout_refused, ...: the fleet metrics' outcomes by flow."""
        count = getattr(self.ctx, "count", None)
        if count is None:
            return
        flow = self.flow.replace("-", "")
        outcome = OUTCOME_SCREENS[screen] or f"checked_{self.flow.split('-')[-1]}"
        try:
            count(f"kiosk_{flow}_{outcome}")
        except Exception as e:  # a storage fault must never end a guest's session
            log.warning("kiosk: cannot count the %s outcome %s: %s", self.flow, outcome, e)

    def background(self, message_id: str, params: dict, work) -> None:
        """Run ``work()`` in a thread; the screen shows busy with ``message_id`` until it is done."""
        self.busy = True
        self.message = (message_id, params)

        def run():
            try:
                work()
            except End as e:
                with self.lock:
                    self._end(e)
            except (mews_errors.MewsError, OSError) as e:
                with self.lock:
                    self._end(failed("failed.platform", why=_describe(e)))
            except Exception:  # a bug must end the guest's session politely, never hang it
                log.exception("kiosk: %s step failed", self.flow)
                with self.lock:
                    self._end(failed("failed.unavailable", task="kiosk fault", why="internal error"))
            finally:
                with self.lock:
                    self.busy = False
                    self.progress = None if self.name in ("refused", "failed", "done", "goodbye") else self.progress
                    if self.leaving:
                        self.leaving = False
                        if self.name in ("refused", "failed"):  # nothing charged, nothing started: as asked
                            self.on_leave()
                            self.wipe()

        self._worker = threading.Thread(target=run, name=f"kiosk-{self.flow}", daemon=True)
        self._worker.start()

    def run_job(self, job, text_id: str, params_of=lambda p: {}):
        """Submit a device job and mirror its progress on the screen; its Outcome.

        The guest leaving never cancels it: half a set of keys is worse than a full one nobody takes."""
        handle = self.ctx.jobs.submit(job)
        while True:
            outcome = handle.wait(0.1)
            p = handle.progress()
            with self.lock:
                self.progress = {"text_id": text_id, "params": params_of(p), "done": p.done,
                                 "total": p.total, "deadline": p.deadline}
            if outcome is not None:
                return outcome

    def _end(self, e: End) -> None:
        if self.ended:
            return
        where = self.where()
        if e.why:
            log.info("kiosk %s: %s (%s)%s", self.flow, e.message_id, e.why, f" - {where}" if where else "")
        called = False
        if e.task:
            called = self.ctx.tasks.raise_task(f"{e.task}{(' - ' + where) if where else ''}", e.detail or e.why)
        self.staff_called = self.staff_called or called
        self.result.setdefault("result", e.screen)
        self.result["message"] = (e.message_id, e.params)
        self.show(e.screen, e.message_id, e.params, staff_called=self.staff_called)

    def _restart(self) -> None:
        self.forget()
        self.kept = {}
        self.result = {}
        self.staff_called = False
        prompt, data = self.opening()
        self.show(self.first_screen, prompt, **data)

    def opening(self) -> tuple[str, dict]:
        """The first screen's message and data (subclasses: what the find form asks for)."""
        return self.prompt_id, {}


def _describe(e: Exception) -> str:
    return e.describe() if isinstance(e, mews_errors.MewsError) else f"{type(e).__name__}: {e}"
