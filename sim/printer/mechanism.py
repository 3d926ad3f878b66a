"""The virtual printer's mechanism: parses an ESC/POS byte stream, lays out paper, answers status.

Fed incrementally (bytes arrive in arbitrary pieces); an incomplete command
waits for more data. Raster bands and feeds become paper; a cut turns the
paper since the last cut into one receipt image.
"""

from __future__ import annotations

import logging
from typing import Callable

log = logging.getLogger(__name__)

ESC, GS, DLE, LF, CR, HT = 0x1B, 0x1D, 0x10, 0x0A, 0x0D, 0x09
DEFAULT_LINE_SPACING = 30
TEXT_LINE_ROWS = 24  # Font A cell height
MAX_RASTER_WIDTH_BYTES = 256  # wider than any thermal head: a corrupt header, not an image

# ESC/GS commands with a fixed number of parameter bytes that we accept and ignore.
_ESC_FIXED = {ord(c): n for c, n in [("!", 1), ("-", 1), ("E", 1), ("G", 1), ("M", 1), ("a", 1),
                                     ("t", 1), ("R", 1), ("{", 1), ("V", 1), (" ", 1), ("=", 1),
                                     ("U", 1), ("c", 2), ("$", 2), ("\\", 2), ("2", 0), ("<", 0),
                                     ("i", 0), ("m", 0)]}
_GS_FIXED = {ord(c): n for c, n in [("!", 1), ("B", 1), ("H", 1), ("f", 1), ("h", 1), ("w", 1),
                                    ("b", 1), ("a", 1), ("L", 2), ("W", 2), ("P", 2), ("$", 2),
                                    ("\\", 2), ("*", 2)]}


class Mechanism:
    """ESC/POS interpreter and paper path of one virtual printer."""

    def __init__(self, width_dots: int = 384, on_receipt: Callable[[object], None] | None = None):
        self.width_dots = width_dots
        self.on_receipt = on_receipt
        self.paper_out = False
        self.cover_open = False
        self.paper_near_end = False
        self.error = False
        self.paper_rows: int | None = None  # paper left on the roll in dot rows; None = endless
        # the near-end sensor trips when this many rows are left (None: only set_state sets it)
        self.near_end_rows: int | None = None
        # Custom-style presenter: a cut receipt waits in the mouth until taken or retracted
        self.presenter = False
        self.ticket_in_output = False
        self.retracted = 0
        self.drawer_kicks = 0
        self.cuts = 0
        self.torn_off = 0  # partial receipts discarded when paper was reloaded
        self.heat: tuple[int, int, int] | None = None
        self.unknown: list[bytes] = []
        self._buf = bytearray()
        self._pieces: list[tuple[str, object]] = []  # ("img", Image) | ("feed", rows)
        self._text = bytearray()
        self._line_spacing = DEFAULT_LINE_SPACING

    # -- state ---------------------------------------------------------------

    def set_state(self, *, paper_out=None, cover_open=None, paper_near_end=None, error=None,
                  paper_rows=..., near_end_rows=..., presenter=None, ticket_taken=None) -> None:
        if near_end_rows is not ...:
            self.near_end_rows = near_end_rows
        if presenter is not None:
            self.presenter = bool(presenter)
        if ticket_taken:
            self.ticket_in_output = False
        if paper_out is not None:
            if self.paper_out and not paper_out and self._pieces:
                self._pieces.clear()  # the stub printed on the old roll is torn off by staff
                self.torn_off += 1
            self.paper_out = bool(paper_out)
        if cover_open is not None:
            self.cover_open = bool(cover_open)
        if paper_near_end is not None:
            self.paper_near_end = bool(paper_near_end)
        if error is not None:
            self.error = bool(error)
        if paper_rows is not ...:
            self.paper_rows = paper_rows
            if paper_rows is not None and paper_rows > 0 and self.paper_out:
                self.set_state(paper_out=False)
            if self.near_end_rows is not None:  # a new roll: the near-end sensor sees paper again
                self.paper_near_end = paper_rows is not None and paper_rows <= self.near_end_rows

    def status_byte(self, n: int) -> int:
        """Answer to DLE EOT n, shaped 0xx1xx10 (FIELD-NOTES vectors: paper out = 1A 32 7E)."""
        stopped = self.paper_out or self.cover_open or self.error
        if n == 1:
            return 0x12 | (0x08 if stopped else 0)
        if n == 2:
            return 0x12 | (0x04 if self.cover_open else 0) | (0x20 if self.paper_out else 0) \
                | (0x40 if self.error else 0)
        if n == 4:
            return 0x12 | (0x0C if self.paper_near_end or self.paper_out else 0) \
                | (0x60 if self.paper_out else 0)
        return 0x12

    def full_status(self) -> bytes:
        """Custom's DLE EOT 20: 10 0F, paper status (bit 0 out, 2 near end, 5 ticket in output), 3 more."""
        paper = (0x01 if self.paper_out else 0) | (0x04 if self.paper_near_end or self.paper_out else 0) \
            | (0x20 if self.ticket_in_output else 0)
        return bytes((0x10, 0x0F, paper, 0, 0, 0))

    # -- input ---------------------------------------------------------------

    def feed_bytes(self, data: bytes) -> bytes:
        """Consume received bytes; return what the printer sends back (status answers)."""
        self._buf += data
        out = bytearray()
        pos = 0
        buf = self._buf
        while pos < len(buf):
            used = self._command(buf, pos, out)
            if used is None:  # incomplete: wait for more bytes
                break
            pos += used
        del buf[:pos]
        return bytes(out)

    def flush(self) -> None:
        """Finish the paper printed since the last cut as a receipt (on stop or disconnect)."""
        self._print_text_line()
        self._finish_receipt()

    def _command(self, buf: bytearray, pos: int, out: bytearray) -> int | None:
        b = buf[pos]
        avail = len(buf) - pos
        if b == ESC:
            if avail < 2:
                return None
            c = buf[pos + 1]
            if c == ord("@"):
                self._text.clear()
                self._line_spacing = DEFAULT_LINE_SPACING
                return 2
            if c == ord("J"):
                if avail < 3:
                    return None
                self._print_text_line()
                self._feed(buf[pos + 2])
                return 3
            if c == ord("d"):
                if avail < 3:
                    return None
                self._print_text_line()
                self._feed(buf[pos + 2] * self._line_spacing)
                return 3
            if c == ord("3"):
                if avail < 3:
                    return None
                self._line_spacing = buf[pos + 2]
                return 3
            if c == ord("2"):
                self._line_spacing = DEFAULT_LINE_SPACING
                return 2
            if c == ord("7"):
                if avail < 5:
                    return None
                self.heat = tuple(buf[pos + 2:pos + 5])
                return 5
            if c == ord("p"):
                if avail < 5:
                    return None
                self.drawer_kicks += 1
                return 5
            if c == ord("*"):
                if avail < 5:
                    return None
                n = buf[pos + 3] | buf[pos + 4] << 8
                size = 5 + n * (3 if buf[pos + 2] in (32, 33) else 1)
                return size if avail >= size else None
            if c in _ESC_FIXED:
                size = 2 + _ESC_FIXED[c]
                return size if avail >= size else None
            self.unknown.append(bytes(buf[pos:pos + 2]))
            return 2
        if b == GS:
            if avail < 2:
                return None
            c = buf[pos + 1]
            if c == ord("v"):
                return self._raster(buf, pos, avail)
            if c == ord("V"):
                if avail < 3:
                    return None
                m = buf[pos + 2]
                if m in (65, 66):
                    if avail < 4:
                        return None
                    self._print_text_line()
                    self._feed(buf[pos + 3])
                    self._cut()
                    return 4
                self._print_text_line()
                self._cut()
                return 3
            if c == ord("e"):  # GS e n [m]: Custom's ejector; n = 2 retracts the receipt in the mouth
                size = 4 if avail >= 3 and buf[pos + 2] == 3 else 3
                if avail < size:
                    return None
                if buf[pos + 2] == 2 and self.ticket_in_output:
                    self.ticket_in_output = False
                    self.retracted += 1
                return size
            if c == ord("r") or c == ord("I"):
                if avail < 3:
                    return None
                if c == ord("r"):  # GS r 1: paper sensor, bits 2+3 = paper out
                    out.append(0x0C if self.paper_out else 0x00)
                else:  # GS I n: printer id
                    out.append(0x01)
                return 3
            if c == ord("("):
                if avail < 5:
                    return None
                size = 5 + (buf[pos + 3] | buf[pos + 4] << 8)
                return size if avail >= size else None
            if c in _GS_FIXED:
                size = 2 + _GS_FIXED[c]
                return size if avail >= size else None
            self.unknown.append(bytes(buf[pos:pos + 2]))
            return 2
        if b == DLE:
            if avail < 2:
                return None
            c = buf[pos + 1]
            if c == 0x04:  # DLE EOT n: real-time status
                if avail < 3:
                    return None
                if buf[pos + 2] == 20:
                    if self.presenter:  # a printer without a presenter does not know n = 20
                        out += self.full_status()
                else:
                    out.append(self.status_byte(buf[pos + 2]))
                return 3
            if c == 0x14:  # DLE DC4 n m t: real-time request; n=1 pulses the drawer
                if avail < 5:
                    return None
                if buf[pos + 2] == 1:
                    self.drawer_kicks += 1
                return 5
            if c == 0x05:  # DLE ENQ n
                return 3 if avail >= 3 else None
            self.unknown.append(bytes(buf[pos:pos + 2]))
            return 2
        if b == LF:
            self._print_text_line(force=True)
            return 1
        if b == HT:
            self._text += b" " * (8 - len(self._text) % 8)
            return 1
        if b >= 0x20:
            self._text.append(b)
            return 1
        return 1  # other C0 controls (CR, NUL, CAN ...) do nothing on paper

    def _raster(self, buf: bytearray, pos: int, avail: int) -> int | None:
        if avail < 8:
            return None
        wb = buf[pos + 4] | buf[pos + 5] << 8
        rows = buf[pos + 6] | buf[pos + 7] << 8
        if buf[pos + 2] != 0x30 or wb > MAX_RASTER_WIDTH_BYTES:  # only GS v 0 is a raster image
            self.unknown.append(bytes(buf[pos:pos + 8]))
            return 8
        size = 8 + wb * rows
        if avail < size:
            return None
        from PIL import Image

        data = bytes(buf[pos + 8:pos + size]).translate(_INVERT)
        band = Image.frombytes("1", (wb * 8, rows), data) if wb and rows else None
        if band is not None:
            self._print_text_line()
            self._place(band)
        return size

    # -- paper ---------------------------------------------------------------

    def _stopped(self) -> bool:
        return self.paper_out or self.cover_open or self.error

    def _consume_paper(self, rows: int) -> int:
        """Rows that fit on the remaining paper; runs out of paper when it ends."""
        if self._stopped():
            return 0
        if self.paper_rows is None:
            return rows
        fit = min(rows, self.paper_rows)
        self.paper_rows -= fit
        if self.near_end_rows is not None and self.paper_rows <= self.near_end_rows:
            self.paper_near_end = True
        if self.paper_rows <= 0:
            self.paper_out = True
        return fit

    def _place(self, band) -> None:
        from PIL import Image

        fit = self._consume_paper(band.height)
        if not fit:
            return
        if band.width != self.width_dots or fit != band.height:
            line = Image.new("1", (self.width_dots, fit), 1)
            line.paste(band.crop((0, 0, min(band.width, self.width_dots), fit)), (0, 0))
            band = line
        self._pieces.append(("img", band))

    def _feed(self, rows: int) -> None:
        fit = self._consume_paper(rows)
        if fit:
            self._pieces.append(("feed", fit))

    def _print_text_line(self, force: bool = False) -> None:
        """Print buffered text (LF, or before graphics); LF on an empty buffer just feeds a line."""
        if not self._text:
            if force:
                self._feed(self._line_spacing)
            return
        from PIL import Image, ImageDraw, ImageFont

        text = self._text.decode("cp437", errors="replace")
        self._text.clear()
        img = Image.new("1", (self.width_dots, max(TEXT_LINE_ROWS, self._line_spacing)), 1)
        ImageDraw.Draw(img).text((0, 4), text, font=ImageFont.load_default(), fill=0)
        self._place(img)

    def _cut(self) -> None:
        if self._stopped():
            return
        self.cuts += 1
        if self.presenter:
            self.ticket_in_output = True
        self._finish_receipt()

    def _finish_receipt(self) -> None:
        pieces, self._pieces = self._pieces, []
        if not pieces:
            return
        from PIL import Image

        height = sum(p.height if kind == "img" else p for kind, p in pieces)
        receipt = Image.new("1", (self.width_dots, height), 1)
        y = 0
        for kind, p in pieces:
            if kind == "img":
                receipt.paste(p, (0, y))
                y += p.height
            else:
                y += p
        if self.on_receipt is not None:
            self.on_receipt(receipt)


_INVERT = bytes(255 - i for i in range(256))
