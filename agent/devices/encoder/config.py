"""The [encoder] table."""

from __future__ import annotations

from dataclasses import dataclass

from agent.config.fields import Section, opt


@dataclass(frozen=True, repr=False)
class EncoderConfig(Section):
    port: str = opt("/dev/ttyUSB0", port=True, doc="serial device, pty or socket://host:port (pyserial URL)")
    baudrate: int = opt(9600, minimum=1)
    encoder_id: str = opt("Encoder 1", doc="field 1 of CN/CC")
    eject: str = opt("E", choices=("E", "R", "T"), doc="E eject, R retain, T rear")
    operator: str = opt("Kiosk", doc="operator field (24 characters at most)")
    device: str = opt("", doc='Mews Device Id or Name served; "" = every key-cutter command')
    reply_timeout: float = opt(30.0, minimum=0.1, doc="seconds for the guest to present a card")
