"""Key-cutter commands (``VisiOnlineKeyCutter``, ``KeyCutter``) -> keys from the serial key encoder.

The first key is ``CN`` (new series: earlier keys of the rooms stop working),
the rest ``CC`` (copies). A failure after some keys were made is final and says
how many: re-running would cut a new series and void the keys the guest holds.
"""

from __future__ import annotations

import logging
import time
from zoneinfo import ZoneInfo

from agent.config import Config, EncoderConfig
from agent.handlers.key_order import latin1_text, parse_key_order
from agent.mews.models import Command
from agent.runtime.handler import CommandRejected, DeviceError, InvalidInput, Progress

log = logging.getLogger(__name__)


class EncoderHandler:
    """Cuts room keys on the configured encoder."""

    device_types = ("VisiOnlineKeyCutter", "KeyCutter")
    name = "encoder"
    retry_after_crash = False  # an interrupted key run must never start a new series by itself

    def __init__(self, cfg: EncoderConfig, timezone: str = "Europe/London", *, encoder=None):
        self.cfg = cfg
        self.device = cfg.device
        self.timezone = ZoneInfo(timezone)
        if encoder is None:
            from hal.encoder import KeyEncoder

            encoder = KeyEncoder(cfg.port, baudrate=cfg.baudrate, encoder_id=cfg.encoder_id, eject=cfg.eject,
                                 operator=latin1_text(cfg.operator), reply_timeout=cfg.reply_timeout)
        self.encoder = encoder

    def serves(self, command: Command) -> bool:
        """True when the command's device is one this handler is configured for."""
        if command.device.type is not None and command.device.type not in self.device_types:
            return False
        return not self.device or self.device in (command.device.id, command.device.name)

    def execute(self, command: Command, progress: Progress) -> str:
        order = parse_key_order(command.data, self.timezone)
        card = order.card()
        total = order.key_count
        log.info("command %s: %d key(s) for %s, valid %s .. %s local", command.id, total, order.rooms_text,
                 order.valid_from.isoformat(timespec="minutes"), order.valid_until.isoformat(timespec="minutes"))
        made = 0
        for k in range(1, total + 1):
            progress.step(k - 1, total, f"present card {k} of {total}")
            # the countdown on the display: how long the encoder waits for the guest's card
            progress.activity(f"present card {k} of {total}", deadline=time.time() + self.cfg.reply_timeout)
            try:
                if k == 1:
                    self.encoder.encode_new(card)
                else:
                    self.encoder.copy(card)
            except (DeviceError, InvalidInput) as e:
                if made:
                    log.warning("command %s: stopped after %d of %d keys: %s", command.id, made, total, e)
                    raise DeviceError(f"{made} of {total} keys made; {e}", retryable=False) from e
                if isinstance(e, InvalidInput) and not isinstance(e, CommandRejected):
                    raise CommandRejected(str(e)) from e
                raise
            made += 1
            progress.step(k, total, f"key {k} of {total} encoded")
        return f"{total} key{'s' if total != 1 else ''} encoded for {order.rooms_text}"

    def close(self) -> None:
        self.encoder.close()


def from_config(cfg: Config) -> EncoderHandler | None:
    """The encoder handler, or None when the config has no [encoder] table."""
    if cfg.encoder is None:
        return None
    return EncoderHandler(cfg.encoder, cfg.agent.timezone)
