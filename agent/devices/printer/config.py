"""The [printer] table."""

from __future__ import annotations

from dataclasses import dataclass

from agent.config.fields import Section, opt


@dataclass(frozen=True, repr=False)
class PrinterConfig(Section):
    port: str = opt("/dev/serial0", port="tcp",
                     doc="serial device, pty, pyserial URL, tcp://HOST:PORT or a USB printer path (/dev/usb/lp0)")
    baudrate: int = opt(19200, minimum=1)
    flow_control: str = opt("none", choices=("rtscts", "xonxoff", "none"))
    width_dots: int = opt(384, choices=(384, 576))
    device: str = opt("")
    cut: str = opt("partial", choices=("partial", "full", "none"))
    max_pages: int = opt(20, minimum=1)
    max_length_mm: float = opt(2000.0, minimum=1.0)
    band_height: int = opt(24, minimum=1)
    row_time_ms: float = opt(2.5, minimum=0.0, doc="print time per dot row, for pacing without flow control")
    write_timeout: float = opt(10.0, minimum=0.1)
    heat_dots: int = opt(0, minimum=0, doc="ESC 7 n1 (0 = leave printer defaults)")
    heat_time: int = opt(0, minimum=0)
    heat_interval: int = opt(0, minimum=0)
    status_query: bool = opt(True, doc="false for printers that ignore DLE EOT (paper out then goes unnoticed)")
    status_interval: float = opt(60.0, minimum=1.0, doc="seconds between paper/status checks while idle")
    status_timeout: float = opt(1.0, minimum=0.05, doc="seconds to wait for each DLE EOT answer")
    presenter: str = opt("none", choices=("none", "wait", "retract"),
                          doc="printers with a presenter (Custom): a receipt not taken makes the next job wait or "
                              "retract it")
