"""The [reader] table."""

from __future__ import annotations

from dataclasses import dataclass

from agent.config.fields import Section, opt


@dataclass(frozen=True, repr=False)
class ReaderConfig(Section):
    """A document reader: MRZ text and booking QR codes over serial/USB-CDC, or a keyboard wedge via evdev."""

    port: str = opt("/dev/ttyACM0", doc="tty, pyserial URL, or evdev:/dev/input/by-id/... (keyboard wedge)")
    baudrate: int = opt(9600, minimum=1)
    framing: str = opt("auto", choices=("auto", "cr", "stx"),
                        doc="cr: lines ended by CR; stx: STX ... ETX around CR-separated lines; auto: either")
    gap: float = opt(0.25, minimum=0.01, doc="seconds of silence that end a CR-framed scan")
    timeout: float = opt(60.0, minimum=1.0, doc="seconds the guest has to present a document")
    device: str = opt("", doc='Mews Device Id or Name served; "" = every PassportScanner command')
