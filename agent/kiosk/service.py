"""KioskService: the kiosk's sessions and its web server thread at ``kiosk.listen``.

One guest session at a time; a new one ends (and wipes) the previous, unless the
previous is busy with the terminal or the encoder: then the kiosk answers busy and
the guest's session goes on. A session without the guest's touch (the screen
reports taps and typing) for ``kiosk.idle_timeout`` + 10 s is wiped by a reaper
thread, as the UI's own countdown would. The same thread settles charges a crash
left open with the terminal and tells staff of a guest checked in without keys.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from agent.kiosk import brand
from agent.kiosk.address import parse_listen
from agent.kiosk.checkin import CheckIn
from agent.kiosk.checkout import CheckOut
from agent.kiosk.context import KioskContext, LookupThrottle, utc_now

if TYPE_CHECKING:  # the web server (waitress) is imported when the kiosk starts
    from agent.kiosk.httpserver import KioskServer

log = logging.getLogger("agent.kiosk")
COUNTDOWN = 10.0
ACTIVITY_SLACK = 5.0  # the screen reports activity at most every few seconds
RESOLVE_EVERY = 30.0  # seconds between asking the terminal about charges left open


class KioskService:
    def __init__(self, cfg, client, jobs, store=None, clock=utc_now, *, terminal=None, ledger=None,
                 wake_outbox=lambda: None, ctx: KioskContext | None = None):
        from agent.kiosk.ledger import PaymentLedger
        from hal.payment import from_config

        self.cfg = cfg
        if terminal is None and ctx is None:
            terminal = from_config(cfg.payment)
        if ledger is None and store is not None:
            ledger = PaymentLedger(store, wake_outbox)
        self.ctx = ctx or KioskContext(cfg=cfg, client=client, jobs=jobs, terminal=terminal, ledger=ledger,
                                       clock=clock, throttle=LookupThrottle(),
                                       count=store.count if store is not None else None)
        self._session: CheckIn | CheckOut | None = None
        self._lock = threading.Lock()
        self._server: KioskServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._keys_told: dict[str, float] = {}  # reservation -> when a missing-keys task may be tried again
        self._next_resolve = 0.0
        # Marks already on disk at start were left by a unit that stopped between check-in and keys.
        marks = self.ctx.key_marks  # the context makes it when not given
        self._from_before = {str(m.get("reservation")) for m in marks.pending()} if marks is not None else set()
        self.address = parse_listen(cfg.kiosk.listen)
        self.fault = ""  # why the web server stopped serving after start (health shows it)

    # ---- sessions -----------------------------------------------------------------------

    def public_config(self) -> dict:
        k = self.cfg.kiosk
        return {"languages": list(k.languages), "default_language": k.default_language,
                "hotel": {"name": self.ctx.hotel_name, "currency": "", "timezone": self.cfg.agent.timezone},
                "idle_timeout": k.idle_timeout, "idle_countdown": COUNTDOWN, "max_keys": k.max_keys,
                "checkout_by_card": self.cfg.encoder is not None, "payment": self.ctx.terminal is not None,
                "brand": {"logo": brand.LOGO_ROUTE if brand.read_logo(k.logo) else "",
                          "colours": [c.strip() for c in k.brand_colours]}}

    def open(self, flow: str, language: str = ""):
        """A new guest session, ending the previous; None while the previous is busy (the kiosk is busy).

        A busy session is left alone: the new guest is told the kiosk is busy, the payment or keys go on."""
        cls = CheckIn if flow == "check-in" else CheckOut
        with self._lock:
            previous = self._session
        if previous is not None and not previous.ended and not previous.end_unless_busy():
            return None
        session = cls(self.ctx, language or self.cfg.kiosk.default_language)
        with self._lock:
            if self._session is not previous:  # another open won the race
                return None
            self._session = session
        return session

    def get(self, sid: str):
        with self._lock:
            s = self._session
        return s if s is not None and s.id == sid and not s.ended else None

    def close(self, sid: str) -> bool | None:
        """End session ``sid``: True when ended, None when it is busy (it ends when its step allows), False unknown."""
        with self._lock:
            s = self._session
            if s is None or s.id != sid or s.ended:
                return False
        if not s.cancel():
            return None
        with self._lock:
            if self._session is s:
                self._session = None
        return True

    def reap(self) -> None:
        """Wipe the session idle for idle_timeout + countdown (never one busy with a device)."""
        with self._lock:
            s = self._session
        if s is None:
            return
        if s.ended:
            with self._lock:
                if self._session is s:
                    self._session = None
            return
        idle = time.monotonic() - s.last_input
        if not s.busy and idle > self.cfg.kiosk.idle_timeout + COUNTDOWN + ACTIVITY_SLACK:
            log.info("kiosk: session idle; wiped")
            self.close(s.id)

    def report_keys_missing(self) -> None:
        """A guest checked in here whose keys are not all made, and whose session is gone: tell staff, once."""
        with self._lock:
            s = self._session
        live = s.where_reservation() if s is not None and not s.ended else None
        now = time.monotonic()
        marks, tasks = self.ctx.key_marks, self.ctx.tasks  # the context makes both when not given
        if marks is None or tasks is None:
            return
        for mark in marks.pending():
            reservation = str(mark.get("reservation"))
            if reservation == live or self._keys_told.get(reservation, 0.0) > now:
                continue
            asked = mark.get("keys") or 0
            what = f"{asked} key(s) asked, not confirmed" if asked else "no key made"
            why = "the unit restarted" if reservation in self._from_before else "the guest left the kiosk"
            if tasks.raise_task(f"checked in at the kiosk, {what}: {why} - "
                                f"reservation {reservation}, room {mark.get('room')}",
                                "check the guest's cards; give the keys at reception"):
                marks.clear_reservation(reservation)
                self._keys_told.pop(reservation, None)
            else:
                self._keys_told[reservation] = now + 30.0  # the platform is down: try again later

    def resolve_payments(self) -> None:
        if self.ctx.ledger is None or time.monotonic() < self._next_resolve:
            return
        self._next_resolve = time.monotonic() + RESOLVE_EVERY
        try:
            from agent.kiosk.pay import resolve

            resolve(self.ctx)
        except Exception as e:  # the platform or the disk is down: next round
            log.warning("kiosk: open payments not settled yet: %s", e)

    # ---- web server ---------------------------------------------------------------------

    def start(self) -> None:
        """Bind ``kiosk.listen`` and serve; OSError (address taken, not ours) when it cannot listen."""
        from agent.kiosk import httpserver
        from agent.kiosk.perimeter import Perimeter
        from agent.kiosk.web import build_app

        host, port = self.address
        app = Perimeter(build_app(self), lambda: self.address, self.cfg.kiosk.screen_token)
        server = self._server = httpserver.create(app, host, port)
        self.address = (host, int(server.effective_port))
        log.info("kiosk: API at http://%s:%s/", host, self.address[1])
        web = threading.Thread(target=self._serve, name="kiosk-web", daemon=True)
        reaper = threading.Thread(target=self._reap_loop, name="kiosk-reaper", daemon=True)
        self._threads = [web, reaper]
        for t in self._threads:
            t.start()

    def _serve(self) -> None:
        server = self._server
        if server is None:  # stopped before it started
            return
        try:
            server.run()
        except (OSError, ValueError) as e:  # closed under us at stop()
            if not self._stop.is_set():
                log.error("kiosk: web server stopped: %s", e)
                self.fault = f"web server stopped: {e}"

    def _reap_loop(self) -> None:
        # At start, marks left by a unit that died while a guest was between check-in and keys are orphans.
        while True:
            for step in (self.resolve_payments, self.report_keys_missing, self.reap):
                try:
                    step()
                except Exception:  # a bug in one duty must not end the others
                    log.exception("kiosk: %s failed", step.__name__)
            if self._stop.wait(1.0):
                return

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            s, self._session = self._session, None
        if s is not None:
            s.cancel()
        if self._server is not None:
            self._server.task_dispatcher.shutdown(timeout=1.0)  # in-flight requests first, then the sockets
            self._server.close()
        for t in self._threads:
            t.join(1.5)

    @property
    def url(self) -> str:
        return f"http://{self.address[0]}:{self.address[1]}"
