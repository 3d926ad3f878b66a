"""The composition root: ``build_agent(cfg)`` wires every part; ``Agent`` runs it until stopped.

Store, client, outbox, listener, dispatcher (the ``Jobs`` local callers use),
handlers, drain loop, observers (front panel), the POS service and the kiosk:
each takes its collaborators through its constructor. ``run``, the demo, the
tests and the bench all build the agent here and reach its parts through the
returned ``Agent``'s public fields.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.config import Config
from agent.runtime import health as hs
from agent.runtime.dispatcher import Dispatcher
from agent.runtime.eventlog import EventLog
from agent.runtime.intake import EventIntake
from agent.runtime.logs import redact
from agent.runtime.loop import DrainLoop
from agent.runtime.outbox import Echoes, OutboxSender
from agent.runtime.sdnotify import Notifier
from agent.runtime.store import Store

if TYPE_CHECKING:  # the optional parts are imported when configured
    from agent.control.server import ControlServer
    from agent.kiosk.service import KioskService
    from agent.mews.client import MewsClient
    from agent.mews.listener import EventListener
    from agent.panel.frontpanel import FrontPanel
    from agent.pos.service import PosService

log = logging.getLogger(__name__)


@dataclass
class Agent:
    cfg: Config
    store: Store
    client: MewsClient
    health: hs.Health
    handlers: list
    dispatcher: Dispatcher  # also the Jobs local callers submit to
    sender: OutboxSender
    loop: DrainLoop
    intake: EventIntake
    eventlog: EventLog
    notifier: Notifier
    listener: EventListener | None = None
    frontpanel: FrontPanel | None = None
    pos: PosService | None = None
    kiosk: KioskService | None = None
    companions: list = field(default_factory=list)  # parts device kinds run beside their handlers (paper watch)
    control: ControlServer | None = None  # the control socket staff tools ask, once started
    stop_event: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)

    @property
    def jobs(self) -> Dispatcher:
        return self.dispatcher

    def start(self) -> None:
        from agent.runtime import lifecycle

        lifecycle.start(self)

    def serve(self) -> int:
        """Start, loop until stopped, shut down; returns the exit code."""
        from agent.runtime import lifecycle

        self.start()
        try:
            lifecycle.main_loop(self)
        finally:
            lifecycle.shutdown(self)
        return 0

    def run(self) -> int:
        """Run until SIGTERM/SIGINT/SIGHUP (a second SIGINT exits at once); returns the exit code."""
        from agent.runtime import lifecycle

        lifecycle.install_signals(self)
        return self.serve()

    def stop(self) -> None:
        self.stop_event.set()
        self.wake.set()

    def status_line(self) -> str:
        return self.health.status_line()


def build_agent(cfg: Config, *, client=None, handlers=None, notifier: Notifier | None = None,
                ping_interval: float | None = None, ping_timeout: float | None = None) -> Agent:
    """Wire the agent for ``cfg``; ``client``/``handlers`` may be given (tests, bench)."""
    health = hs.Health()
    store = Store(cfg.state_dir)
    from agent.fleet.versions import note_start  # doctor's and the metrics' last update and rollback

    note_start(store)
    if client is None:
        from agent.mews.client import MewsClient

        client = MewsClient(cfg.mews)
    if handlers is None:
        from agent.handlers import build_handlers

        handlers = build_handlers(cfg)
    # The outbox and the drain use separate connections: a slow drain never holds back a report.
    # The drain keeps the client given (tests inject platform faults through it).
    # The outbox also carries the kiosk's payment records: they stay in the device lane (money already
    # taken must reach the platform, and a record waiting on the kiosk's share would hold the reports
    # queued behind it); one per guest, they cost the reserve nothing.
    sibling = getattr(client, "connection", None)
    outbox_client = sibling() if callable(sibling) else client
    echoes = Echoes()
    wake = threading.Event()

    def delivered(ok: bool) -> None:
        wake.set()

    sender = OutboxSender(store, outbox_client, forward_url=cfg.events.forward_url, echoes=echoes, on_delivered=delivered)
    dispatcher = Dispatcher(store, handlers, health, device_timeout=cfg.agent.device_timeout, on_report=sender.wake)

    def forward(event: dict) -> None:
        store.outbox.enqueue_forward(event)
        sender.wake()

    eventlog = EventLog(cfg.state_dir, max_bytes=cfg.events.log_max_bytes,
                        forward=forward if cfg.events.forward_url else None)
    loop = DrainLoop(client, dispatcher, health, poll_interval=cfg.mews.poll_interval)
    intake = EventIntake(health, echoes, dispatcher, eventlog, loop, wake)
    listener = None
    if cfg.mews.mode == "websocket":
        from agent.mews.listener import PING_INTERVAL, PING_TIMEOUT, EventListener

        listener = EventListener(cfg.mews, client, on_events=intake.on_events, on_connected=intake.connected,
                                 on_disconnected=intake.disconnected, ping_interval=ping_interval or PING_INTERVAL,
                                 ping_timeout=ping_timeout or PING_TIMEOUT)
        loop.listener = listener
    agent = Agent(cfg=cfg, store=store, client=client, health=health, handlers=handlers, dispatcher=dispatcher,
                  sender=sender, loop=loop, intake=intake, eventlog=eventlog, notifier=notifier or Notifier(),
                  listener=listener, wake=wake)
    # The kiosk's own connection and lane: it never holds the drain's HTTP connection, and it uses
    # only the limiter's kiosk share, so a guest flood cannot starve device commands (issue 21 item 11).
    _observers(agent, kiosk_client=_kiosk_client(client) if cfg.kiosk.enabled else None)
    return agent


def _kiosk_client(client):
    sibling = getattr(client, "connection", None)
    if not callable(sibling):
        return client
    from agent.mews.ratelimit import KIOSK

    return sibling(lane=KIOSK)


def _observers(agent: Agent, kiosk_client=None) -> None:
    """Front panel, POS service and kiosk: optional, and a fault in one never stops the agent."""
    cfg = agent.cfg
    from agent.panel.frontpanel import FrontPanel  # ours: a slip here must fail loudly, not blank the panel
    from agent.runtime.panel import PanelActions

    try:
        agent.frontpanel = FrontPanel.from_config(cfg, PanelActions(agent.dispatcher, agent.store))
    except ImportError as e:  # luma/Pillow/gpiozero missing from this build
        log.error("front panel unavailable: %s", e)
        agent.frontpanel = None
    except Exception as e:  # a display or GPIO fault never stops the agent
        log.error("front panel unavailable: %s", e)
    from agent.devices import kind_of_label

    for handler in agent.handlers:  # what a device kind runs beside its handler (the printer's paper watch)
        kind = kind_of_label(getattr(handler, "name", ""))
        factory = kind.companion_factory() if kind is not None else None
        if kind is None or factory is None:
            continue
        try:
            companion = factory(cfg, handler, agent.health, agent.client)
        except Exception as e:  # never stops the agent: the device works without it
            log.error("%s: %s unavailable: %s", kind.label, kind.companion, e)
            continue
        if companion is not None:
            agent.companions.append(companion)
    if cfg.pos is not None:
        try:
            from agent.pos.service import PosService

            agent.pos = PosService.from_config(cfg, agent.health, jobs=agent.dispatcher)
        except Exception as e:
            log.error("ConcertPOS service unavailable: %s", redact(str(e)))
            agent.health.services["pos"] = f"unavailable: {redact(str(e))}"
    if cfg.kiosk.enabled:
        try:
            from agent.kiosk.service import KioskService

            agent.kiosk = KioskService(cfg, kiosk_client or agent.client, agent.dispatcher, store=agent.store,
                                       wake_outbox=agent.sender.wake)
        except ImportError as e:
            log.error("kiosk enabled but the kiosk service is not installed: %s", e)
            agent.health.services["kiosk"] = f"not installed: {e}"
        except Exception as e:
            log.error("kiosk service unavailable: %s", redact(str(e)))
            agent.health.services["kiosk"] = f"unavailable: {redact(str(e))}"
