"""Kiosk printers with a presenter (Custom VKP80/KPM): the receipt waits in the printer's mouth.

Custom's full status (``DLE EOT 20``) answers six bytes: ``10 0F``, then the
paper status (bit 0 paper not present, bit 2 near paper end, bit 5 ticket in
the output), user status, recoverable and unrecoverable error status. Before
a job we ask it: a receipt the last guest did not take is reported, and the
job either waits for it to be taken (``printer.presenter = "wait"``) or
retracts it into the printer (``"retract"``, Custom's ``GS e 2``). A printer
that does not answer is treated as having no presenter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hal.errors import DeviceError

log = logging.getLogger(__name__)

FULL_STATUS_REQUEST = b"\x10\x04\x14"  # DLE EOT 20
FULL_STATUS_HEADER = (0x10, 0x0F)
RETRACT = b"\x1d\x65\x02"  # GS e 2: ticket retracted (Custom)
MODES = ("none", "wait", "retract")


@dataclass(frozen=True)
class FullStatus:
    paper_out: bool
    paper_near_end: bool
    ticket_in_output: bool
    raw: bytes

    @classmethod
    def parse(cls, data: bytes) -> FullStatus | None:
        """The six bytes of a full status, or None when they are not one."""
        if len(data) != 6 or tuple(data[:2]) != FULL_STATUS_HEADER:
            return None
        paper = data[2]
        return cls(paper_out=bool(paper & 0x01), paper_near_end=bool(paper & 0x04),
                   ticket_in_output=bool(paper & 0x20), raw=bytes(data))


def read_full_status(port, timeout: float) -> FullStatus | None:
    """Ask DLE EOT 20; None when the printer gives no full status."""
    return FullStatus.parse(port.query_many(FULL_STATUS_REQUEST, 6, timeout))


def clear_output(port, mode: str, timeout: float) -> FullStatus | None:
    """Before a job: report a receipt not taken, then wait (retryable error) or retract it."""
    if mode == "none":
        return None
    status = read_full_status(port, timeout)
    if status is None or not status.ticket_in_output:
        return status
    if mode == "wait":
        raise DeviceError("the last receipt was not taken from the printer: waiting for the guest or staff "
                          "to take it", retryable=True)
    log.warning("printer: the last receipt was not taken; retracting it")
    port.write(RETRACT)
    return status
