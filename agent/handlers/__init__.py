"""Handlers turn a job into HAL calls; ``build_handlers`` makes those the config attaches.

Each device kind's handler lives in its package (``agent/devices/<kind>/handler.py``) and
is found through the kind's declaration; the log handler (demo, tests) lives here.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def build_handlers(cfg) -> list:
    """Every handler the config attaches: one per device kind with a table, then the log handlers."""
    from agent.devices import kinds
    from agent.handlers import log as log_handler

    handlers = []
    for kind in kinds():
        if getattr(cfg, kind.table) is None:
            continue
        try:
            factory = kind.handler_factory()
        except ImportError as e:
            logger.error("device support %s is not available: %s", kind.handler, e)
            continue
        handler = factory(cfg)
        if handler is not None:
            handlers.append(handler)
    handlers.extend(log_handler.from_config(cfg))
    return handlers
