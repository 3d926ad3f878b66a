"""Hostile documents for the printer's limit tests and bench: generated, never checked in."""

from __future__ import annotations

import struct
import zlib

from sim.printer.sample import pdf_file


def png_header(width: int, height: int, depth: int, color: int) -> bytes:
    """A PNG whose header promises width x height; no pixel data (decoding it would fail)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def fill_bomb(fills: int) -> bytes:
    """One page that paints ``fills`` tiny rectangles (cheap to write, costly to render)."""
    ops = b"0 g\n" + b"0 0 200 200 re f\n" * fills  # each fill covers the page
    return pdf_file([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
                     b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream"])


def form_bomb(depth: int, fan: int = 10) -> bytes:
    """Nested forms: each draws the one below ``fan`` times, so a few KB paint fan**depth fills."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << /XObject << /X 5 0 R >> >> "
               b"/Contents 4 0 R >>", b"<< /Length 8 >>\nstream\n/X Do   \nendstream"]
    for level in range(depth):
        n = len(objects) + 1  # this form's object number; the next one is n + 1
        if level == depth - 1:
            ops, res = b"0 g 1 1 0.5 0.5 re f", b""
        else:
            ops, res = b"/Y Do " * fan, b"/Resources << /XObject << /Y %d 0 R >> >> " % (n + 1)
        objects.append(b"<< /Type /XObject /Subtype /Form /BBox [0 0 200 200] " + res
                       + b"/Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream")
    return pdf_file(objects)
