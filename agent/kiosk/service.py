"""KioskService: the kiosk's sessions and its web server thread at ``kiosk.listen``.

One guest session at a time; a new one ends (and wipes) the previous. A session
without input for ``kiosk.idle_timeout`` + 10 s is wiped by a reaper thread, as the
UI's own countdown would.
"""

from __future__ import annotations

import logging
import threading
import time

from agent.kiosk.checkin import CheckIn
from agent.kiosk.address import parse_listen
from agent.kiosk.checkout import CheckOut
from agent.kiosk.context import KioskContext, LookupThrottle, utc_now

log = logging.getLogger("agent.kiosk")
COUNTDOWN = 10.0


class KioskService:
    def __init__(self, cfg, client, jobs, store=None, clock=utc_now, *, terminal=None, recorder=None,
                 wake_outbox=lambda: None):
        from hal.payment import from_config

        self.cfg = cfg
        if terminal is None:
            terminal = from_config(cfg.payment)
        if recorder is None and store is not None:
            from agent.kiosk.durable import OutboxRecorder

            recorder = OutboxRecorder(store, wake_outbox)
        self.ctx = KioskContext(cfg=cfg, client=client, jobs=jobs, terminal=terminal, recorder=recorder,
                                clock=clock, throttle=LookupThrottle())
        self._session = None
        self._lock = threading.Lock()
        self._server = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self.address = parse_listen(cfg.kiosk.listen)
        self.fault = ""  # why the web server stopped serving after start (health shows it)

    # ---- sessions -----------------------------------------------------------------------

    def public_config(self) -> dict:
        k = self.cfg.kiosk
        return {"languages": list(k.languages), "default_language": k.default_language,
                "hotel": {"name": self.ctx.hotel_name, "currency": "", "timezone": self.cfg.agent.timezone},
                "idle_timeout": k.idle_timeout, "idle_countdown": COUNTDOWN, "max_keys": k.max_keys,
                "checkout_by_card": self.cfg.encoder is not None, "payment": self.ctx.terminal is not None}

    def open(self, flow: str, language: str = ""):
        cls = CheckIn if flow == "check-in" else CheckOut
        session = cls(self.ctx, language or self.cfg.kiosk.default_language)
        with self._lock:
            previous, self._session = self._session, session
        if previous is not None:
            previous.cancel()
        return session

    def get(self, sid: str):
        with self._lock:
            s = self._session
        return s if s is not None and s.id == sid and not s.ended else None

    def close(self, sid: str) -> bool:
        with self._lock:
            s = self._session
            if s is None or s.id != sid:
                return False
            self._session = None
        s.cancel()
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
        if not s.busy and time.monotonic() - s.last_input > self.cfg.kiosk.idle_timeout + COUNTDOWN:
            log.info("kiosk: session idle; wiped")
            self.close(s.id)

    # ---- web server ---------------------------------------------------------------------

    def start(self) -> None:
        """Bind ``kiosk.listen`` and serve; OSError (address taken, not ours) when it cannot listen."""
        from agent.kiosk import httpserver
        from agent.kiosk.perimeter import Perimeter
        from agent.kiosk.web import build_app

        host, port = self.address
        app = Perimeter(build_app(self), lambda: self.address, self.cfg.kiosk.screen_token)
        self._server = httpserver.create(app, host, port)
        self.address = (host, int(self._server.effective_port))
        log.info("kiosk: API at http://%s:%s/", host, self.address[1])
        web = threading.Thread(target=self._serve, name="kiosk-web", daemon=True)
        reaper = threading.Thread(target=self._reap_loop, name="kiosk-reaper", daemon=True)
        self._threads = [web, reaper]
        for t in self._threads:
            t.start()
        self._report_interrupted_keys()

    def _report_interrupted_keys(self) -> None:
        """Keys cut off by a crash or power cut: the guest is checked in, staff must finish the keys."""
        for mark in self.ctx.key_marks.take_leftovers():
            where = f"reservation {mark.get('reservation')}, room {mark.get('room')}"
            log.warning("kiosk: the unit restarted while cutting keys for %s", where)
            self.ctx.tasks.raise_task(f"checked in, keys not confirmed: the unit restarted while cutting "
                                      f"{mark.get('keys')} key(s) - {where}",
                                      "the journal ended the key job without cutting more; check the guest's cards")

    def _serve(self) -> None:
        try:
            self._server.run()
        except (OSError, ValueError) as e:  # closed under us at stop()
            if not self._stop.is_set():
                log.error("kiosk: web server stopped: %s", e)
                self.fault = f"web server stopped: {e}"

    def _reap_loop(self) -> None:
        while not self._stop.wait(1.0):
            self.reap()

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
