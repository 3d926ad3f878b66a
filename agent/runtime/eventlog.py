"""Reservation, Resource and PriceUpdate events: an in-memory view, a bounded JSONL log, optional forwarding."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path

from agent.mews.events import Event, PriceUpdateEvent, ReservationEvent, ResourceEvent, UnknownEvent, to_json

log = logging.getLogger(__name__)

VIEW_SIZE = 5000


class EventLog:
    """Keeps the latest state of each reservation/resource and appends every event to ``events.jsonl``."""

    def __init__(self, state_dir: Path, *, max_bytes: int = 5_000_000, forward=None):
        self.path = Path(state_dir) / "events.jsonl"
        self.max_bytes = max_bytes
        self.forward = forward  # callable(event_json) that queues it in the outbox, or None
        self.reservations: OrderedDict[str, ReservationEvent] = OrderedDict()
        self.resources: OrderedDict[str, ResourceEvent] = OrderedDict()
        self.price_updates = 0
        self.unknown = 0
        self._lock = threading.Lock()

    def record(self, events: list[Event]) -> None:
        for ev in events:
            if isinstance(ev, ReservationEvent):
                self._keep(self.reservations, ev.id, ev)
            elif isinstance(ev, ResourceEvent):
                self._keep(self.resources, ev.id, ev)
            elif isinstance(ev, PriceUpdateEvent):
                self.price_updates += 1
            elif isinstance(ev, UnknownEvent):
                self.unknown += 1
                log.debug("unknown event type %s", ev.type)
                continue
            else:
                continue
            data = to_json(ev)
            self._append(data)
            if self.forward is not None:
                self.forward(data)

    def _keep(self, view: OrderedDict, key: str, ev) -> None:
        with self._lock:
            view[key] = ev
            view.move_to_end(key)
            while len(view) > VIEW_SIZE:
                view.popitem(last=False)

    def _append(self, data: dict) -> None:
        line = json.dumps({"at": round(time.time(), 3), **data}, separators=(",", ":")) + "\n"
        with self._lock:
            try:
                if self.path.exists() and self.path.stat().st_size + len(line) > self.max_bytes:
                    self.path.replace(self.path.with_suffix(".jsonl.1"))  # keep one previous file
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(line)
            except OSError as e:
                log.warning("cannot write the event log: %s", e)
