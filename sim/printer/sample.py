"""A one-page hotel registration card as a small vector PDF, for the demo, tests and bench.

Written by hand (text in the standard Helvetica fonts, WinAnsi encoding, a few
lines), deterministic byte for byte, so it needs no PDF library.
``python -m sim.printer.sample OUT.pdf`` writes one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

PAGE_W, PAGE_H = 420, 595  # A5 portrait, points


@dataclass(frozen=True)
class Card:
    hotel: str = "Hotel Beau Séjour"
    address: str = "12 Quai des Fleurs, 75004 Paris"
    guest: str = "Zoë Müller-Øberg"
    guest_address: str = "Rosenweg 4, 8004 Zürich, Switzerland"
    arrival: str = "Fri 10 May 2024, 15:00"
    departure: str = "Mon 13 May 2024, 11:00"
    room: str = "204 (Double, courtyard)"
    guests: str = "2 adults"
    reservation: str = "R-10452"
    rate: str = "€ 148.00 per night, breakfast included"


def registration_card_pdf(card: Card | None = None) -> bytes:
    """The card as PDF bytes."""
    card = card or Card()
    ops: list[str] = []

    def text(x, y, s, size=10, bold=False):
        ops.append(f"BT /{'F2' if bold else 'F1'} {size} Tf {x} {y} Td ({_pdf_string(s)}) Tj ET")

    def line(x0, y0, x1, y1, width=0.6):
        ops.append(f"{width} w {x0} {y0} m {x1} {y1} l S")

    def box(x, y, w, h, width=0.8):
        ops.append(f"{width} w {x} {y} {w} {h} re S")

    left, right = 40, PAGE_W - 40
    # letterhead
    box(left, 520, 36, 36, 1.5)
    text(left + 9, 531, "BS", 14, bold=True)
    text(left + 48, 540, card.hotel, 18, bold=True)
    text(left + 48, 525, card.address, 9)
    line(left, 508, right, 508, 1.2)
    text(left, 484, "GUEST REGISTRATION CARD", 13, bold=True)
    text(right - 92, 484, f"No. {card.reservation}", 9)

    fields = [("Guest name", card.guest), ("Home address", card.guest_address),
              ("Arrival", card.arrival), ("Departure", card.departure),
              ("Room", card.room), ("Guests", card.guests), ("Rate", card.rate),
              ("Passport / ID no.", ""), ("Car registration", "")]
    y = 452
    for label, value in fields:
        text(left, y, label, 8)
        text(left + 100, y, value, 10, bold=bool(value))
        line(left + 96, y - 4, right, y - 4, 0.4)
        y -= 26

    text(left, y - 4, "Notes", 8)
    box(left, y - 62, right - left, 50)
    y -= 86
    terms = [
        "I agree to pay all charges incurred during my stay. Check-out is at 11:00;",
        "late departures may be charged. The hotel is not responsible for valuables",
        "left in the room. Personal data is processed as described in our privacy notice.",
    ]
    for t in terms:
        text(left, y, t, 7)
        y -= 10
    y -= 34
    line(left, y, left + 190, y, 0.8)
    line(right - 110, y, right, y, 0.8)
    text(left, y - 12, "Guest signature", 8)
    text(right - 110, y - 12, "Date", 8)
    return _document("\n".join(ops).encode("latin-1"))


def _pdf_string(s: str) -> str:
    raw = s.encode("cp1252", errors="replace").decode("latin-1")
    return raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _document(content: bytes) -> bytes:
    font = "<< /Type /Font /Subtype /Type1 /BaseFont /{} /Encoding /WinAnsiEncoding >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
         "/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>").encode(),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        font.format("Helvetica").encode(),
        font.format("Helvetica-Bold").encode(),
    ]
    return pdf_file(objects)


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF file of the given object bodies (object 1 is the catalog), with its xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "registration-card.pdf"
    with open(target, "wb") as f:
        f.write(registration_card_pdf())
    print(target)
