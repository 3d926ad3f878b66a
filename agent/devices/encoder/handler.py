"""Key-cutter commands (``VisiOnlineKeyCutter``, ``KeyCutter``) -> keys from the serial key encoder.

The first key is ``CN`` (new series: earlier keys of the rooms stop working),
the rest ``CC`` (copies). A failure after some keys were made is final and says
how many: re-running would cut a new series and void the keys the guest holds.
"""

from __future__ import annotations

import logging
import os
import time
from zoneinfo import ZoneInfo

from agent.config import Config
from agent.devices.encoder import KIND
from agent.devices.encoder.config import EncoderConfig
from agent.devices.encoder.key_order import latin1_text, parse_key_order
from agent.runtime.handler import CommandRejected, DeviceCheck, DeviceError, InvalidInput, Progress, serves_job
from agent.runtime.jobs import Job, JobKind, Outcome, OutcomeState

log = logging.getLogger(__name__)


class EncoderHandler:
    """Cuts room keys on the configured encoder."""

    device_types = KIND.device_types
    kinds = KIND.job_kinds
    name = KIND.label
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

    def serves(self, job: Job) -> bool:
        """True when the job is one this handler takes on its configured device."""
        return serves_job(self, job)

    def run(self, job: Job, progress: Progress) -> Outcome:
        if job.kind is JobKind.READ_CARD:
            return self._read_card(progress)
        if job.kind is JobKind.CHECKOUT_CARD:
            return Outcome.done(self._check_out(job.data, progress))
        order = parse_key_order(job.data, self.timezone)
        note = self._cut_keys(job.id, order, progress)
        return Outcome.done(note, {"keys_made": order.key_count, "keys_asked": order.key_count})

    def _read_card(self, progress: Progress) -> Outcome:
        progress.activity("present the card", deadline=time.time() + self.cfg.reply_timeout)
        info = self.encoder.read_card()
        until = info.valid_until.isoformat(timespec="minutes") if info.valid_until else ""
        blank = not info.rooms
        return Outcome(OutcomeState.DONE, "blank card" if blank else "card read",
                       {"blank": blank, "rooms": list(info.rooms), "valid_until": until})

    def _check_out(self, data: dict, progress: Progress) -> str:
        rooms = data.get("LockIds") if isinstance(data, dict) else None
        room = data.get("Room") if isinstance(data, dict) else None
        room = room or (rooms[0] if isinstance(rooms, list) and rooms else None)
        if not isinstance(room, (str, int)) or isinstance(room, bool) or not str(room).strip():
            raise CommandRejected("check-out names no room (Room or LockIds)")
        progress.activity(f"checking out room {room}")
        self.encoder.check_out(str(room).strip())
        return f"room {room} checked out"

    def _cut_keys(self, job_id: str, order, progress: Progress) -> str:
        card = order.card()
        total = order.key_count
        log.info("job %s: %d key(s) for %s, valid %s .. %s local", job_id, total, order.rooms_text,
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
                    log.warning("job %s: stopped after %d of %d keys: %s", job_id, made, total, e)
                    raise DeviceError(f"{made} of {total} keys made; {e}", retryable=False) from e
                if isinstance(e, InvalidInput) and not isinstance(e, CommandRejected):
                    raise CommandRejected(str(e)) from e
                raise
            made += 1
            progress.key_made(made, total)  # journalled: after a crash, k of N made is known
            progress.step(k, total, f"key {k} of {total} encoded")
        return f"{total} key{'s' if total != 1 else ''} encoded for {order.rooms_text}"

    def ready(self) -> bool:
        """While a job waits: True once the encoder's serial device is present again (re-plugged)."""
        port = self.cfg.port
        return os.path.exists(port) if port.startswith("/") else False

    def check(self) -> DeviceCheck:
        """ENQ now, between jobs (doctor through the running agent); DeviceError when it cannot be asked."""
        ping = getattr(self.encoder, "ping", None)
        if ping is None:
            return DeviceCheck("ok", "no status check for this encoder")
        if not ping():
            return DeviceCheck("busy", "in a transaction")
        return DeviceCheck("ok", "answers ENQ with ACK")

    def close(self) -> None:
        self.encoder.close()


def from_config(cfg: Config) -> EncoderHandler | None:
    """The encoder handler, or None when the config has no [encoder] table."""
    if cfg.encoder is None:
        return None
    return EncoderHandler(cfg.encoder, cfg.agent.timezone)
