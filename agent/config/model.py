"""The whole configuration: the unit's own tables plus one table per device kind.

The device tables are not listed here: each kind in ``agent/devices`` declares its
table, and ``cfg.<table>`` is that section (None when the file has no such table).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from agent.config.fields import Section
from agent.config.sections import (
    AgentConfig,
    DisplayConfig,
    EventsConfig,
    FleetConfig,
    GpioConfig,
    KioskConfig,
    MewsConfig,
    PosConfig,
)

# the unit's own tables; a device kind's table comes from its declaration
CORE_SECTIONS: dict[str, type] = {
    "mews": MewsConfig,
    "agent": AgentConfig,
    "display": DisplayConfig,
    "gpio": GpioConfig,
    "pos": PosConfig,
    "events": EventsConfig,
    "kiosk": KioskConfig,
    "fleet": FleetConfig,
}
REQUIRED_SECTIONS = ("mews",)

def device_sections() -> dict[str, type]:
    """Each device kind's table name -> its section class."""
    from agent.devices import kinds

    return {kind.table: kind.config for kind in kinds()}


def sections() -> dict[str, type]:
    """Every table a config file may have -> its section class."""
    return {**CORE_SECTIONS, **device_sections()}


@dataclass(frozen=True)
class Config:
    """The whole agent configuration; device tables (``cfg.printer`` ...) are None when absent."""

    path: str
    mews: MewsConfig
    agent: AgentConfig = field(default_factory=AgentConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    gpio: GpioConfig | None = None
    pos: PosConfig | None = None
    events: EventsConfig = field(default_factory=EventsConfig)
    kiosk: KioskConfig = field(default_factory=KioskConfig)
    fleet: FleetConfig = field(default_factory=FleetConfig)
    devices: Mapping[str, Section] = field(default_factory=dict)  # device table -> its section

    @classmethod
    def of_tables(cls, path: str, built: Mapping[str, Any]) -> Config:
        """A Config from built sections by table name, the device kinds' ones included."""
        devices = device_sections()
        core = {name: section for name, section in built.items() if name not in devices}
        return cls(path=path, **core, devices={name: built[name] for name in devices if name in built})

    def __getattr__(self, name: str) -> Any:
        # only reached for names that are not fields: a device kind's table, or a typo
        if not name.startswith("_") and name in device_sections():
            return self.devices.get(name)
        raise AttributeError(f"{type(self).__name__} has no table {name!r}")

    @property
    def state_dir(self) -> Path:
        return Path(self.agent.state_dir)

    def tables(self) -> dict[str, Section]:
        """Every table present (the unit's own and the devices'), by name."""
        own = {name: getattr(self, name) for name in CORE_SECTIONS}
        return {name: s for name, s in {**own, **self.devices}.items() if s is not None}

    def secrets(self) -> list[str]:
        """Every secret value in this config, for log redaction: every table's ``secret`` fields."""
        out = []
        for section in self.tables().values():
            for f in fields(section):
                value = getattr(section, f.name)
                if f.metadata.get("secret") and value:
                    out.append(value)
        return out
