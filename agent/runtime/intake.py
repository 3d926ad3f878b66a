"""Websocket events in (listener thread): DeviceCommand events ask for a drain or cancel; others are logged."""

from __future__ import annotations

import time

from agent.mews.events import DeviceCommandEvent, Event
from agent.mews.models import FINAL_STATES


class EventIntake:
    def __init__(self, health, echoes, dispatcher, eventlog, loop, wake):
        self.health, self.echoes, self.dispatcher = health, echoes, dispatcher
        self.eventlog, self.loop, self.wake = eventlog, loop, wake

    def on_events(self, events: list[Event]) -> None:
        self.health.last_event_at = time.time()
        need_drain = False
        named: list[str] = []
        others = []
        for ev in events:
            if not isinstance(ev, DeviceCommandEvent):
                others.append(ev)
            elif self.echoes.is_echo(ev.id, ev.state):
                self.health.count("echoes_ignored")
            elif ev.state == "Cancelled":
                self.dispatcher.cancel(ev.id)
            elif ev.state not in FINAL_STATES and ev.state != "Processing":
                need_drain = True  # finished or worked elsewhere: nothing for us to take
                named.append(ev.id)
        if others:
            self.eventlog.record(others)
        if need_drain:
            self.request_drain(named)

    def request_drain(self, command_ids=None) -> None:
        """A drain of everything active, or (``command_ids``) of the commands events named."""
        self.loop.request(command_ids)
        self.wake.set()

    def connected(self) -> None:
        self.request_drain()  # anything may have happened while we were away

    def disconnected(self, reason: str = "", error: BaseException | None = None) -> None:
        self.loop.listener_fault(error)
        self.wake.set()
