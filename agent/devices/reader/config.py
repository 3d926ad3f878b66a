"""The [reader] table."""

from __future__ import annotations

from dataclasses import dataclass

from agent.config.errors import ConfigError
from agent.config.fields import Section, opt
from agent.config.ports import port_problem


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


EVDEV = "evdev:"


def reader_port_problem(value: str) -> str | None:
    """Why ``value`` cannot name a reader (None when it can)."""
    if value.startswith(EVDEV):
        path = value[len(EVDEV):]
        if not path.startswith("/"):
            return f'"{value}": expected evdev:/dev/input/by-id/... (an absolute event device path)'
        return None
    return port_problem(value)


def check(r: ReaderConfig, fname: str) -> None:
    """``reader.port``: a serial port, a pyserial URL or ``evdev:PATH``."""
    if problem := reader_port_problem(r.port):
        raise ConfigError(fname, "reader.port", problem)
