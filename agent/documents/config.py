"""Config checks for the kiosk's documents: ``kiosk.hotel_country`` (the reader's port is the reader kind's)."""

from __future__ import annotations

import re

from agent.config.errors import ConfigError


def check_documents(cfg, fname: str) -> None:
    errors = []
    kiosk = cfg.kiosk
    if kiosk.hotel_country and not re.match(r"^[A-Z]{2}$", kiosk.hotel_country):
        errors.append(ConfigError(fname, "kiosk.hotel_country",
                                  f'expected an ISO 3166-1 alpha-2 code such as "DE", got "{kiosk.hotel_country}"'))
    elif kiosk.documents == "foreign" and not kiosk.hotel_country:
        errors.append(ConfigError(fname, "kiosk.hotel_country",
                                  'required when kiosk.documents = "foreign" (whose nationality is foreign?)'))
    if errors:
        raise ConfigError.several(errors)
