"""The agent's configuration: TOML -> typed, validated sections; secrets never logged.

``load(path)`` / ``parse(text)`` give a ``Config``; a ``ConfigError`` names the file,
the key and the problem. The unit's own tables are in ``sections.py``; each device kind
declares its own table in its package (``agent/devices/<kind>/config.py``).
"""

from __future__ import annotations

from agent.config.errors import ConfigError
from agent.config.fields import REDACTED
from agent.config.loader import DEFAULT_CONFIG, load, parse, resolve_path
from agent.config.model import Config, sections
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

__all__ = ["Config", "ConfigError", "DEFAULT_CONFIG", "REDACTED", "load", "parse", "resolve_path", "sections",
           "AgentConfig", "DisplayConfig", "EventsConfig", "FleetConfig", "GpioConfig", "KioskConfig",
           "MewsConfig", "PosConfig"]
