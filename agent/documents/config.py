"""Config checks for documents: ``reader.port`` (a serial port or ``evdev:PATH``) and ``kiosk.hotel_country``."""

from __future__ import annotations

import re

from agent.config.errors import ConfigError
from agent.config.ports import port_problem

EVDEV = "evdev:"


def reader_port_problem(value: str) -> str | None:
    """Why ``value`` cannot name a reader (None when it can)."""
    if value.startswith(EVDEV):
        path = value[len(EVDEV):]
        if not path.startswith("/"):
            return f'"{value}": expected evdev:/dev/input/by-id/... (an absolute event device path)'
        return None
    return port_problem(value)


def check_documents(cfg, fname: str) -> None:
    errors = []
    if cfg.reader is not None and (problem := reader_port_problem(cfg.reader.port)):
        errors.append(ConfigError(fname, "reader.port", problem))
    kiosk = cfg.kiosk
    if kiosk.hotel_country and not re.match(r"^[A-Z]{2}$", kiosk.hotel_country):
        errors.append(ConfigError(fname, "kiosk.hotel_country",
                                  f'expected an ISO 3166-1 alpha-2 code such as "DE", got "{kiosk.hotel_country}"'))
    elif kiosk.documents == "foreign" and not kiosk.hotel_country:
        errors.append(ConfigError(fname, "kiosk.hotel_country",
                                  'required when kiosk.documents = "foreign" (whose nationality is foreign?)'))
    if errors:
        raise ConfigError.several(errors)
