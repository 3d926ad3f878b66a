"""Handlers turn a Mews command into HAL calls; ``build_handlers`` makes those the config attaches."""

from __future__ import annotations

import importlib
import logging

logger = logging.getLogger(__name__)

# config table -> handler module with from_config(cfg) -> Handler | None
DEVICE_MODULES = {"printer": "agent.handlers.printer", "encoder": "agent.handlers.encoder",
                  "payment": "agent.handlers.payment",
                  "reader": "agent.handlers.reader"}


def build_handlers(cfg) -> list:
    """Every handler the config attaches: printer, encoder, and log handlers for the demo/tests."""
    from agent.handlers import log as log_handler

    handlers = []
    for table, name in DEVICE_MODULES.items():
        if getattr(cfg, table) is None:
            continue
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            logger.error("device support %s is not available: %s", name, e)
            continue
        handler = module.from_config(cfg)
        if handler is not None:
            handlers.append(handler)
    handlers.extend(log_handler.from_config(cfg))
    return handlers
