"""The long-running service: main loop in the main thread, everything else observed from here.

It drains ``commands/getAllActive`` on every (re)connect, on DeviceCommand events
(coalesced: a burst costs one drain) and every ``poll_interval`` while the
websocket is down (always, in poll mode); keeps the health snapshot; drives the
systemd watchdog only while the loop makes progress; and on SIGTERM finishes the
current device step, flushes the outbox for up to 5 s and exits 0.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from urllib.parse import urlsplit

from agent.config import Config
from agent.logs import redact
from agent.mews import errors as mews_errors
from agent.mews.events import DeviceCommandEvent, Event
from agent.mews.models import FINAL_STATES
from agent.runtime import health as hs
from agent.runtime.dispatcher import Dispatcher
from agent.runtime.eventlog import EventLog
from agent.runtime.outbox import Echoes, OutboxSender
from agent.runtime.sdnotify import Notifier
from agent.runtime.store import Store

log = logging.getLogger(__name__)

HEALTH_EVERY = 2.0  # seconds between health.json writes
DISPLACED_PAUSE = 120.0  # seconds before signing in again after another client took over
CLOCK_PLAUSIBLE = 1704067200  # 2024-01-01: before this the clock was never set


class Supervisor:
    """Builds the agent from its config and runs it until stopped."""

    def __init__(self, cfg: Config, *, client=None, handlers=None, notifier: Notifier | None = None,
                 ping_interval: float | None = None, ping_timeout: float | None = None):
        self.cfg = cfg
        self.health = hs.Health()
        self.store = Store(cfg.state_dir)
        if client is None:
            from agent.mews.client import MewsClient

            client = MewsClient(cfg.mews)
        self.client = client
        if handlers is None:
            from agent.handlers import build_handlers

            handlers = build_handlers(cfg)
        self.handlers = handlers
        self.notifier = notifier or Notifier()
        self.echoes = Echoes()
        self.stop_event = threading.Event()
        self._wake = threading.Event()
        self._drain_requested = True  # drain once at start
        self.sender = OutboxSender(self.store, client, forward_url=cfg.events.forward_url, echoes=self.echoes,
                                   on_delivered=self._delivered)
        self.dispatcher = Dispatcher(self.store, handlers, self.health, device_timeout=cfg.agent.device_timeout,
                                     on_report=self.sender.wake)
        forward = self._forward if cfg.events.forward_url else None
        self.eventlog = EventLog(cfg.state_dir, max_bytes=cfg.events.log_max_bytes, forward=forward)
        self.listener = None
        if cfg.mews.mode == "websocket":
            from agent.mews.listener import PING_INTERVAL, PING_TIMEOUT, EventListener

            self.listener = EventListener(cfg.mews, client, on_events=self.on_events,
                                          on_connected=self._ws_connected, on_disconnected=self._ws_disconnected,
                                          ping_interval=ping_interval or PING_INTERVAL,
                                          ping_timeout=ping_timeout or PING_TIMEOUT)
        self.frontpanel = None
        self.pos = None
        self.drains = 0
        self._next_poll = 0.0
        self._paused_until = 0.0
        self._rest_ok = False
        self._rest_tried = False
        self._drain_failing = False
        self._last_status = ""
        self._next_prune = 0.0

    # ---- events (listener thread) ----------------------------------------------

    def on_events(self, events: list[Event]) -> None:
        self.health.last_event_at = time.time()
        need_drain = False
        others = []
        for ev in events:
            if not isinstance(ev, DeviceCommandEvent):
                others.append(ev)
                continue
            if self.echoes.is_echo(ev.id, ev.state):
                self._count("echoes_ignored")
            elif ev.state == "Cancelled":
                self.dispatcher.cancel(ev.id)
            elif ev.state in FINAL_STATES or ev.state == "Processing":
                continue  # finished or being worked elsewhere: nothing for us to take
            else:
                need_drain = True
        if others:
            self.eventlog.record(others)
        if need_drain:
            self.request_drain()

    def request_drain(self) -> None:
        self._drain_requested = True
        self._wake.set()

    def _ws_connected(self) -> None:
        self.request_drain()  # anything may have happened while we were away

    def _ws_disconnected(self, reason: str) -> None:
        self._wake.set()

    def _delivered(self, ok: bool) -> None:
        self._rest_ok = ok
        self._wake.set()

    def _forward(self, event: dict) -> None:
        self.store.enqueue_forward(event)
        self.sender.wake()

    def _count(self, name: str, n: int = 1) -> None:
        self.health.counters[name] = self.health.counters.get(name, 0) + n

    # ---- main loop ---------------------------------------------------------------

    def start(self) -> None:
        """Open everything; the unit is useful offline too, so READY does not wait for the network."""
        if time.time() < CLOCK_PLAUSIBLE:
            self.health.clock_ok = False
            log.warning("clock not set: TLS certificates cannot be checked until the time is synchronised")
        self.health.connection = hs.CONNECTING
        threading.Thread(target=self._watch_ip, name="ip-address", daemon=True).start()
        self._start_observers()
        pruned = self.store.prune_journal()
        if pruned:
            log.info("journal: pruned %d entries older than 30 days", pruned)
        self._next_prune = time.monotonic() + 86400
        self.dispatcher.start()
        self.sender.start()
        if self.listener is not None:
            self.listener.start()
        self._last_status = self.status_line()
        self.notifier.ready(self._last_status)
        self._update_health()
        log.info("kiosk-agent running (%s mode, %d device handler(s): %s)", self.cfg.mews.mode,
                 len(self.handlers), ", ".join(h.name for h in self.handlers) or "none")

    def _start_observers(self) -> None:
        try:
            from agent.frontpanel import FrontPanel

            self.frontpanel = FrontPanel.from_config(self.cfg, PanelActions(self))
        except ImportError:
            self.frontpanel = None
        except Exception as e:  # a display or GPIO fault never stops the agent
            log.error("front panel unavailable: %s", e)
        if self.cfg.pos is not None:
            try:
                from agent.pos.service import PosService

                self.pos = PosService.from_config(self.cfg, self.health)
                if self.pos is not None:
                    self.pos.start()
            except Exception as e:
                log.error("ConcertPOS service unavailable: %s", redact(str(e)))

    def _watch_ip(self) -> None:
        # Resolving the platform's name may block for a while offline: never in the main loop.
        while not self.stop_event.is_set():
            self.health.ip_address = local_ip(self.cfg.mews.platform_address)
            self.stop_event.wait(30.0)

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; returns the exit code."""
        self.install_signals()
        return self.serve()

    def serve(self) -> int:
        """Start, loop until ``stop_event`` is set, shut down; returns the exit code."""
        self.start()
        watchdog_every = self.notifier.watchdog_interval
        last_watchdog = last_health = 0.0
        try:
            while not self.stop_event.is_set():
                self.tick()
                now = time.monotonic()
                if watchdog_every and now - last_watchdog >= watchdog_every:
                    # Only a loop that gets here pings: a wedged loop gets us restarted.
                    self.notifier.watchdog()
                    last_watchdog = now
                if now - last_health >= HEALTH_EVERY:
                    self._write_health()
                    last_health = now
                self._wake.wait(0.2)
                self._wake.clear()
        finally:
            self.shutdown()
        return 0

    def tick(self) -> None:
        """One pass of the loop: drain when asked or due, refresh health and observers."""
        now = time.monotonic()
        ws_up = self.listener is not None and self.listener.connected
        if ws_up:
            self.listener.backoff.check_stable()
        due = now >= self._next_poll and not ws_up
        if (self._drain_requested or due) and now >= self._paused_until:
            self._drain_requested = False
            self._next_poll = now + self.cfg.mews.poll_interval
            self.drain()
        self._update_health()
        if self.frontpanel is not None:
            self.frontpanel.update(self.health)
        if now >= self._next_prune:
            self._next_prune = now + 86400
            self.store.prune_journal()

    def drain(self) -> None:
        """commands/getAllActive -> dispatcher."""
        self._rest_tried = True
        try:
            commands = self.client.get_all_active_commands()
        except mews_errors.Displaced as e:
            self._rest_ok = False
            self.health.connection = hs.DISPLACED
            self.health.message = str(e)
            self._paused_until = time.monotonic() + DISPLACED_PAUSE
            log.error("displaced: %s; trying again in %.0f s", e, DISPLACED_PAUSE)
            return
        except mews_errors.RateLimited as e:
            self._paused_until = time.monotonic() + (e.retry_after or 5.0)
            self._drain_requested = True
            return
        except (mews_errors.MewsError, OSError) as e:
            self._rest_ok = False
            text = e.describe() if isinstance(e, mews_errors.MewsError) else f"{type(e).__name__}: {e}"
            # Offline for hours must not flood the journal: say it once, then only at debug level.
            (log.debug if self._drain_failing else log.warning)("drain failed: %s", redact(text))
            self._drain_failing = True
            return
        if self._drain_failing:
            log.info("platform reachable again")
            self._drain_failing = False
        self.drains += 1
        self._rest_ok = True
        if self.health.connection == hs.DISPLACED:
            self.health.message = ""
        new = self.dispatcher.offer(commands)
        if new:
            log.info("took %d new command(s)", new)

    def _update_health(self) -> None:
        h = self.health
        online = self._rest_ok and (self.listener is None or self.listener.connected)
        displaced = h.connection == hs.DISPLACED and time.monotonic() < self._paused_until
        if not displaced and online:
            h.connection, h.offline_since = hs.ONLINE, None
        elif not displaced and self._rest_tried:
            if h.connection != hs.OFFLINE:
                h.offline_since = time.time()
            h.connection = hs.OFFLINE
        if getattr(self.client, "enterprise", None) is not None:
            h.enterprise = getattr(self.client.enterprise, "name", "") or h.enterprise
        h.outbox_depth, h.dead_letters = self.store.depth()
        h.counters["drains"] = self.drains
        if self.listener is not None:
            h.counters["malformed_frames"] = self.listener.malformed
        h.updated_at = time.time()
        status = self.status_line()
        if status != self._last_status:
            self._last_status = status
            self.notifier.status(status)

    def status_line(self) -> str:
        h = self.health
        text = f"{h.connection}, queue {h.outbox_depth}"
        if h.dead_letters:
            text += f", {h.dead_letters} dead"
        if h.last_command:
            text += f", last {h.last_command}"
        if not h.clock_ok:
            text += ", clock not set"
        return text[:200]

    def _write_health(self) -> None:
        try:
            counters = self.store.counters()
            self.health.counters.update({k: v for k, v in counters.items()})
            self.health.write(self.cfg.state_dir / "health.json")
        except OSError as e:
            log.warning("cannot write health.json: %s", e)

    # ---- stopping ------------------------------------------------------------------

    def stop(self) -> None:
        self.stop_event.set()
        self._wake.set()

    def install_signals(self) -> None:
        def stop(signum, frame):
            log.info("signal %d: stopping", signum)
            self.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def shutdown(self) -> None:
        """Finish the current device step, flush the outbox for up to 5 s, close."""
        self.notifier.stopping()
        if self.listener is not None:
            self.listener.stop(2.0)
        if self.pos is not None:
            try:
                self.pos.stop()
            except Exception:
                log.exception("stopping the POS service")
        self.dispatcher.stop(25.0)
        self.sender.stop(flush_timeout=5.0)
        self._update_health()
        self._write_health()
        if self.frontpanel is not None:
            try:
                self.frontpanel.close()
            except Exception:
                pass
        for h in self.handlers:
            try:
                h.close()
            except Exception:
                pass
        try:
            self.client.close()
        except Exception:
            pass
        self.store.close()
        log.info("stopped")


class PanelActions:
    """What the front panel's buttons may ask of the agent."""

    def __init__(self, supervisor: Supervisor):
        self.s = supervisor

    def reprint_last(self) -> None:
        for h in self.s.handlers:
            if hasattr(h, "reprint_last"):
                threading.Thread(target=self._reprint, args=(h,), name="reprint", daemon=True).start()
                return
        log.info("reprint asked, but no attached device can reprint")

    @staticmethod
    def _reprint(handler) -> None:
        try:
            handler.reprint_last()
            log.info("reprinted the last document from the front panel")
        except Exception as e:  # nothing printed yet, paper out, ...: say so, never crash
            log.warning("reprint from the front panel failed: %s", redact(str(e)))

    def clear_dead_letters(self) -> int:
        n = self.s.store.drop(dead_only=True)
        log.info("cleared %d dead letter(s) from the front panel", n)
        return n


def local_ip(platform_address: str) -> str:
    """The address this unit uses towards the platform (no packet is sent)."""
    host = urlsplit(platform_address).hostname or "8.8.8.8"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((host, 9))
            return s.getsockname()[0]
    except OSError:
        return ""
