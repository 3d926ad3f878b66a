"""Start, the main loop (health, watchdog, observers), signals and a bounded shutdown of an ``Agent``.

On SIGTERM, SIGINT or SIGHUP the current device step finishes (a card is never
left half-written), waiting work stays as it is for the restart, the outbox is
flushed briefly, and the process exits within 10 s. A second SIGINT exits at
once (the journal makes that safe).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from agent.runtime import health as hs
from agent.runtime.logs import redact

if TYPE_CHECKING:  # app builds the agent and imports this module
    from agent.runtime.app import Agent

log = logging.getLogger(__name__)

HEALTH_EVERY = 2.0
STORE_CHECK_EVERY = 5.0
CLOCK_PLAUSIBLE = 1704067200  # 2024-01-01: before this the clock was never set
DISPATCH_STOP = 6.0  # seconds for the current device step at a stop
FLUSH_AT_STOP = 2.0  # seconds for the outbox at a stop


def start(agent: Agent) -> None:
    """Open everything; the unit is useful offline too, so READY does not wait for the network."""
    if time.time() < CLOCK_PLAUSIBLE:
        agent.health.clock_ok = False
        log.warning("clock not set: TLS certificates cannot be checked until the time is synchronised")
    agent.health.connection = hs.CONNECTING
    threading.Thread(target=_watch_ip, args=(agent,), name="ip-address", daemon=True).start()
    pruned = agent.store.journal.prune()
    if pruned:
        log.info("journal: pruned %d entries older than 30 days", pruned)
    agent.dispatcher.start()
    _start_control(agent)
    agent.sender.start()
    for name, what in (("pos", "ConcertPOS service"), ("kiosk", "kiosk service")):
        part = getattr(agent, name)
        if part is not None:
            try:
                part.start()
                agent.health.services[name] = "ok"
            except Exception as e:  # loud, not fatal: the unit's device work goes on
                fault = redact(str(e)) or type(e).__name__
                log.error("%s unavailable: %s", what, fault)
                agent.health.services[name] = fault
    if agent.listener is not None:
        agent.listener.start()
    for companion in agent.companions:
        companion.start()
    update_health(agent)
    agent.notifier.ready(agent.health.status_line())
    log.info("kiosk-agent running (%s mode, %d device handler(s): %s)", agent.cfg.mews.mode,
             len(agent.handlers), ", ".join(h.name for h in agent.handlers) or "none")


def _start_control(agent: Agent) -> None:
    """The control socket (one owner per device): loud, not fatal, when it cannot listen."""
    from agent.control.server import ControlServer

    server = ControlServer(agent.cfg.state_dir, agent.dispatcher, agent.handlers, agent.health)
    try:
        server.start()
    except OSError as e:
        log.error("control socket %s unavailable (doctor and pos will not open the devices while the agent "
                  "runs): %s", server.path, e.strerror or e)
        return
    agent.control = server


def _watch_ip(agent: Agent) -> None:
    # Resolving the platform's name may block for a while offline: never in the main loop.
    while not agent.stop_event.is_set():
        agent.health.ip_address = local_ip(agent.cfg.mews.platform_address)
        agent.stop_event.wait(30.0)


def main_loop(agent: Agent) -> None:
    watchdog_every = agent.notifier.watchdog_interval
    last_watchdog = last_health = last_check = 0.0
    next_prune = time.monotonic() + 86400
    status = ""
    while not agent.stop_event.is_set():
        if agent.listener is not None and agent.listener.connected:
            agent.listener.backoff.check_stable()
        agent.loop.tick()
        now = time.monotonic()
        if now - last_check >= STORE_CHECK_EVERY:
            last_check = now
            agent.store.check()
        update_health(agent)
        if agent.health.status_line() != status:
            status = agent.health.status_line()
            agent.notifier.status(status)
        if agent.frontpanel is not None:
            agent.frontpanel.update(agent.health)
        if watchdog_every and now - last_watchdog >= watchdog_every:
            agent.notifier.watchdog()  # only a loop that gets here pings: a wedged loop gets us restarted
            last_watchdog = now
        if now - last_health >= HEALTH_EVERY:
            write_health(agent)
            last_health = now
        if now >= next_prune:
            next_prune = now + 86400
            agent.store.journal.prune()
        agent.wake.wait(0.2)
        agent.wake.clear()


def update_health(agent: Agent) -> None:
    h, loop = agent.health, agent.loop
    state = loop.connection_state()
    if state == hs.OFFLINE and h.connection != hs.OFFLINE:
        h.offline_since = time.time()
    elif state == hs.ONLINE:
        h.offline_since = None
    h.connection = state
    enterprise = getattr(agent.client, "enterprise", None)
    if enterprise is not None:
        h.enterprise = getattr(enterprise, "name", "") or h.enterprise
    h.outbox_depth, h.dead_letters = agent.store.outbox.depth()
    h.storage = agent.store.fault or agent.dispatcher.journal_fault or "ok"
    stopped = getattr(agent.kiosk, "fault", "") if agent.kiosk is not None else ""
    if stopped:
        h.services["kiosk"] = stopped
    h.set_counters({"drains": loop.drains})
    limiter = getattr(agent.client, "_limiter", None)  # the request budget's use, for the fleet metrics
    if limiter is not None and hasattr(limiter, "used"):
        h.set_counters({"mews_budget_used": limiter.used(), "mews_budget_limit": limiter.limit})
    if agent.listener is not None:
        h.set_counters({"malformed_frames": agent.listener.malformed})
    h.updated_at = time.time()


def write_health(agent: Agent) -> None:
    try:
        agent.health.set_counters(agent.store.counters())
        agent.health.write(agent.cfg.state_dir / "health.json")
    except Exception as e:  # a full disk must not stop the loop
        log.warning("cannot write health.json: %s", e)


def install_signals(agent: Agent) -> None:
    def stop(signum, frame):
        if agent.stop_event.is_set() and signum == signal.SIGINT:
            log.warning("second interrupt: exiting at once (the journal keeps every job safe)")
            os._exit(130)
        log.info("signal %d: stopping", signum)
        agent.stop()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)


def shutdown(agent: Agent) -> None:
    """Finish the current device step, flush the outbox briefly, close; bounded to well under 10 s."""
    agent.notifier.stopping()
    agent.loop.close()  # a drain still waiting on the platform hands nothing over
    agent.dispatcher.stopping.set()  # no new step starts while the rest closes
    if agent.control is not None:
        agent.control.stop()
    if agent.listener is not None:
        agent.listener.stop(1.5)
    for part, what in ((agent.kiosk, "kiosk service"), (agent.pos, "ConcertPOS service")):
        if part is not None:
            try:
                part.stop()
            except Exception:
                log.exception("stopping the %s", what)
    for companion in agent.companions:
        companion.stop()
    agent.dispatcher.stop(DISPATCH_STOP)
    agent.sender.stop(flush_timeout=FLUSH_AT_STOP)
    update_health(agent)
    write_health(agent)
    for closer in [getattr(agent.frontpanel, "close", None)] + [h.close for h in agent.handlers] + \
            [getattr(agent.client, "close", None)]:
        try:
            if closer is not None:
                closer()
        except Exception:
            pass
    agent.store.close()
    log.info("stopped")


def local_ip(platform_address: str) -> str:
    """The address this unit uses towards the platform (no packet is sent)."""
    host = urlsplit(platform_address).hostname or "8.8.8.8"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((host, 9))
            return s.getsockname()[0]
    except OSError:
        return ""
