"""Drain scheduling: when to call ``commands/getAllActive``, and how long to pause after a fault.

A drain is due at start, on every (re)connect, on DeviceCommand events
(coalesced: a burst costs one drain) and every ``poll_interval`` while the
websocket is down. A failed drain is retried with backoff (0.5 s doubling,
capped at ``poll_interval``) until one succeeds; faults the table in
``faults`` knows pause longer (displaced: 2 min, rejected token: 1 min).

``tick()`` (the main loop) never waits on the network: a due drain runs on a
thread of its own ("drain"), one at a time; requests that arrive meanwhile
coalesce into one drain after it. So health.json and the watchdog keep going
while a drain waits up to ``mews.timeout`` (issue 11 item 4).
"""

from __future__ import annotations

import logging
import threading
import time

from agent.mews import errors as mews_errors
from agent.runtime import health as hs
from agent.runtime.backoff import Backoff
from agent.runtime.faults import classify, offline_cause
from agent.runtime.logs import redact

log = logging.getLogger(__name__)


class DrainLoop:
    def __init__(self, client, dispatcher, health: hs.Health, *, poll_interval: float, listener=None,
                 clock=time.monotonic):
        self.client, self.dispatcher, self.health = client, dispatcher, health
        self.poll_interval = poll_interval
        self.listener = listener
        self.clock = clock
        self.backoff = Backoff(0.5, max(0.5, poll_interval))
        self.requested = True  # drain once at start
        self.full = True  # the next drain is commands/getAllActive (else only the commands events named)
        # Command ids events named since the last drain, in the order they came: the platform's CreatedUtc
        # has whole seconds, so two commands made together are told apart by their events' order.
        self.named: dict[str, None] = {}
        self._named_lock = threading.Lock()
        self.next_poll = 0.0
        self.paused_until = 0.0
        self.rest_ok = False
        self.rest_tried = False
        self.failing = False
        self.fault_state: str | None = None  # displaced / token_rejected while it lasts
        self.drains = 0
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def request(self, command_ids=None) -> None:
        """A drain: everything active (``getAllActive``), or only the commands events named.

        Named commands are fetched with ``commands/getAllByIds`` where the platform has it
        (today's generation), as Mews' device-integration guide does; the seed generation
        drains ``getAllActive`` for them too.
        """
        if command_ids is None or not getattr(self.client, "current", False):
            self.full = True
        else:
            with self._named_lock:
                self.named.update(dict.fromkeys(command_ids))
        self.requested = True

    def due(self) -> bool:
        now = self.clock()
        ws_up = self.listener is not None and self.listener.connected
        return (self.requested or (now >= self.next_poll and not ws_up)) and now >= self.paused_until

    @property
    def draining(self) -> bool:
        """A drain is waiting on the platform now."""
        return self._thread is not None and self._thread.is_alive()

    def tick(self) -> None:
        """Start a due drain on the drain thread; returns at once."""
        if self.draining or self._closed.is_set() or not self.due():
            return
        self.requested = False
        self.next_poll = self.clock() + self.poll_interval
        self._thread = threading.Thread(target=self._drain_once, name="drain", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """No drain starts, and an answer still in flight is not handed to the dispatcher (the agent stops)."""
        self._closed.set()

    def _drain_once(self) -> None:
        try:
            self.drain()
        except Exception:  # a bug in one drain must not end drains: the next one is retried
            log.exception("drain failed unexpectedly")
            self.requested = True
            self.paused_until = self.clock() + self.backoff.next_delay()

    def drain(self) -> None:
        """commands/getAllActive (or getAllByIds for what events named) -> dispatcher; a failure retries."""
        self.rest_tried = True
        with self._named_lock:
            full, named = self.full or not self.named, list(self.named)
            self.full, self.named = False, {}
        try:
            if full:
                commands = self.client.get_all_active_commands()
            else:
                commands = self.client.get_commands_by_ids(named)
        except (mews_errors.MewsError, OSError) as e:
            with self._named_lock:
                self.full = self.full or full
                self.named = {**dict.fromkeys(named), **self.named}
            self._failed(e)
            return
        if self._closed.is_set():
            return
        if self.failing:
            log.info("platform reachable again")
        self.failing = False
        self.backoff.succeeded()
        self.drains += 1
        self.rest_ok = True
        self.health.offline_cause = ""
        if self.fault_state is not None:
            self.fault_state = None
            self.health.message = ""
        new = self.dispatcher.offer(commands) if full else self.dispatcher.offer(commands, complete=False)
        if new:
            log.info("took %d new command(s)", new)

    def _failed(self, e: BaseException) -> None:
        fault = classify(e)
        self.health.offline_cause = offline_cause(e)  # for the update's health gate
        pause = fault.pause if fault.pause is not None else self.backoff.next_delay()
        self.paused_until = self.clock() + pause
        self.requested = True  # retried until one succeeds (issue 11 item 1)
        if fault.connection is None:  # rate limited: the platform asked us to wait
            log.warning("drain paused %.1f s: %s", pause, redact(fault.log_text))
            return
        self.rest_ok = False
        if fault.connection in (hs.DISPLACED, hs.TOKEN_REJECTED):
            self.fault_state = fault.connection
            self.health.message = fault.message
            log.error("%s; trying again in %.0f s", redact(fault.log_text), pause)
            return
        # Offline for hours must not flood the journal: say it once, then only at debug level.
        (log.debug if self.failing else log.warning)("drain failed: %s; retry in %.1f s", redact(fault.log_text),
                                                     pause)
        self.failing = True

    def listener_fault(self, error: BaseException | None) -> None:
        """The websocket closed; a rejected handshake token shows as token_rejected."""
        if error is not None and classify(error).connection == hs.TOKEN_REJECTED:
            fault = classify(error)
            self.fault_state, self.health.message = fault.connection, fault.message

    def connection_state(self) -> str:
        """The health connection state now."""
        ws_ok = self.listener is None or self.listener.connected
        if self.fault_state is not None:
            return self.fault_state
        if self.rest_ok and ws_ok:
            return hs.ONLINE
        return hs.OFFLINE if self.rest_tried else hs.CONNECTING
