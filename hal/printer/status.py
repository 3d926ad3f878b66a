"""ESC/POS real-time status (`DLE EOT n`) parsed into a typed PrinterStatus."""

from __future__ import annotations

from dataclasses import dataclass

from hal.errors import DeviceError

# Every real-time status byte is shaped 0xx1xx10: bits 1 and 4 set, bits 0 and 7 clear.
SHAPE_MASK, SHAPE_BITS = 0x93, 0x12
QUERIES = (1, 2, 4)  # printer status, offline cause, paper sensor


def well_formed(byte: int) -> bool:
    """True when ``byte`` has the fixed bits of a DLE EOT answer."""
    return byte & SHAPE_MASK == SHAPE_BITS


@dataclass(frozen=True)
class PrinterStatus:
    """What DLE EOT 1/2/4 said; ``raw`` keeps the three bytes for logs."""

    online: bool = True
    cover_open: bool = False
    paper_out: bool = False
    paper_near_end: bool = False
    error: bool = False
    raw: tuple[int, int, int] = (SHAPE_BITS, SHAPE_BITS, SHAPE_BITS)

    @classmethod
    def from_bytes(cls, printer: int, offline: int, paper: int) -> PrinterStatus:
        """Parse the answers to DLE EOT 1, 2 and 4."""
        return cls(
            online=not printer & 0x08,
            cover_open=bool(offline & 0x04),
            # "stopped by paper end" (n=2 bit 5) or the paper-end sensor (n=4 bits 5+6)
            paper_out=bool(offline & 0x20) or paper & 0x60 == 0x60,
            paper_near_end=paper & 0x0C == 0x0C,
            error=bool(offline & 0x40),
            raw=(printer, offline, paper),
        )

    @property
    def paper(self) -> str:
        """``"out"``, ``"low"`` (the near-end sensor, DLE EOT 4 bits 2-3) or ``"ok"``."""
        if self.paper_out:
            return "out"
        return "low" if self.paper_near_end else "ok"

    @property
    def ready(self) -> bool:
        return self.online and not (self.cover_open or self.paper_out or self.error)

    @property
    def problem(self) -> str:
        """Text for hotel staff, most actionable cause first; "" when ready."""
        if self.paper_out:
            return "printer out of paper: load a new roll"
        if self.cover_open:
            return "printer cover open: close the cover"
        if self.error:
            return "printer error (cutter jam or overheating): check the printer"
        if not self.online:
            return "printer offline: check the printer"
        return ""

    def raise_unless_ready(self) -> None:
        """Raise a retryable DeviceError naming the problem; the command waits and is retried."""
        if not self.ready:
            raise DeviceError(self.problem, retryable=True)

    def describe(self) -> str:
        """One line for logs and `doctor`."""
        if not self.ready:
            text = self.problem
        else:
            text = "ready, paper near end" if self.paper_near_end else "ready"
        return f"{text} (status {' '.join(f'{b:02X}' for b in self.raw)})"
