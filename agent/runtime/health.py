"""The agent's health snapshot: what the display, LEDs, ``status`` and systemd observe.

Observers read it; they never drive the agent. It is written atomically to
``state_dir/health.json`` every few seconds. Counters are updated from several
threads (workers, the drain, the listener, the main loop): only through
``count``/``set_counters``, under the snapshot's lock.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.atomic import write_atomically

# connection states
BOOTING, CONNECTING, ONLINE, OFFLINE, DISPLACED, TOKEN_REJECTED, CONFIG_ERROR = (
    "booting", "connecting", "online", "offline", "displaced", "token_rejected", "config_error")

# device states
IDLE, BUSY, WAITING, FAULT = "idle", "busy", "waiting", "fault"


@dataclass
class DeviceHealth:
    """One device as the display shows it."""

    name: str  # "printer", "encoder", "pos"
    state: str = IDLE  # idle | busy | waiting | fault
    activity: str = ""  # "printing copy 1 of 2", "present card 1 of 2", "paper out"
    done: int = 0
    total: int = 0
    deadline: float | None = None  # unix time a wait ends (card presentation countdown)
    fault: str = ""  # human text when state == fault
    paper: str = ""  # printers: "ok" | "low" | "out" | "unknown" (agent/devices/printer/paper_watch.py); "" = no paper


@dataclass
class Health:
    connection: str = BOOTING
    enterprise: str = ""
    ip_address: str = ""
    offline_since: float | None = None  # unix time
    offline_cause: str = ""  # why the last request failed: agent.runtime.faults.offline_cause ("" = online)
    last_event_at: float | None = None
    last_command: str = ""  # "Printer 1a2b… Processed"
    outbox_depth: int = 0
    dead_letters: int = 0
    devices: dict[str, DeviceHealth] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    message: str = ""  # config error text, broadcast message, ...
    clock_ok: bool = True
    storage: str = "ok"  # "ok" or a one-line description of a state-folder fault
    # the optional services by name ("kiosk", "pos"): "ok" or why it is not serving
    # ("cannot listen on 127.0.0.1:8765: address in use"); absent = not configured
    services: dict[str, str] = field(default_factory=dict)
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()  # not a field: asdict and equality ignore it

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name``; safe from any thread."""
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + n

    def set_counters(self, values: dict[str, int]) -> None:
        """Set counters kept elsewhere (the store's, the listener's); safe from any thread."""
        with self._lock:
            self.counters.update(values)

    def to_json(self) -> dict:
        with self._lock:
            return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Health:
        data = dict(data)
        devices = {k: DeviceHealth(**v) for k, v in (data.pop("devices", None) or {}).items()}
        known = set(cls.__dataclass_fields__)
        return cls(devices=devices, **{k: v for k, v in data.items() if k in known})

    def write(self, path: Path) -> None:
        """Write atomically: a reader never sees half a file."""
        write_atomically(path, json.dumps(self.to_json(), indent=1, sort_keys=True).encode(), mode=0o644)

    def service_faults(self) -> list[str]:
        """``"kiosk: cannot listen on ..."`` for every service that is not serving."""
        return [f"{name}: {state}" for name, state in sorted(self.services.items()) if state != "ok"]

    def status_line(self) -> str:
        """One line for systemd's STATUS=."""
        text = f"{self.connection}, queue {self.outbox_depth}"
        if self.connection == TOKEN_REJECTED and self.message:
            text += f": {self.message}"
        for fault in self.service_faults():
            text += f", {fault}"
        if self.storage != "ok":
            text += f", storage fault: {self.storage}"
        for device in self.devices.values():
            if device.paper in ("low", "out"):
                text += f", {device.name} paper {device.paper}"
        if self.dead_letters:
            text += f", {self.dead_letters} dead"
        if self.last_command:
            text += f", last {self.last_command}"
        if not self.clock_ok:
            text += ", clock not set"
        return text[:200]

    @classmethod
    def read(cls, path: Path) -> Health:
        return cls.from_json(json.loads(path.read_text()))
