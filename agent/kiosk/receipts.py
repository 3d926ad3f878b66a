"""The welcome slip and the folio as PNG images for the receipt printer (PRINT_DOCUMENT jobs).

Rendered with Pillow in the printer's monospace font, 384 dots wide; the slip's
QR code is drawn with segno (a well-kept, dependency-free QR library). Every
string is made printable here (``slip_text``), so callers pass the platform's
names as they came: no character crashes a slip, and a name of any length prints
at most a few rows.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from agent.kiosk.slip_text import LINE_LIMIT, cut, name, printable, rows

WIDTH = 384
FONT = Path(__file__).resolve().parents[2] / "hal" / "printer" / "fonts" / "DejaVuSansMono.ttf"
_COLUMNS = 32
_TITLE_COLUMNS, _TITLE_ROWS = 22, 3
_LINE_ROWS = 4  # a 64-character name after "Welcome, " wraps to at most 4 rows


def _font(size: int):
    return ImageFont.truetype(str(FONT), size)


def _money(amount) -> str:
    amount = amount if isinstance(amount, dict) else {}
    try:
        value = f"{float(amount.get('Value')):.2f}"
    except (TypeError, ValueError, OverflowError):
        value = "?"
    return f"{value} {name(amount.get('Currency'), 3)}"


def _render(blocks: list, logo: str = "") -> bytes:
    """blocks: ("title", text) | ("line", text) | ("pair", left, right) | ("rule",) | ("image", PIL image)."""
    images: list[Image.Image] = []
    if logo:
        try:
            with Image.open(logo) as opened:
                img = opened.convert("L")
                img.thumbnail((WIDTH, 160))
                images.append(img.copy())
        except (OSError, ValueError):
            pass  # a missing logo must not stop the slip
    body, title = _font(20), _font(28)
    for block in blocks:
        kind = block[0]
        if kind == "image":
            images.append(block[1])
            continue
        if kind == "rule":
            lines, font = ["-" * _COLUMNS], body
        elif kind == "pair":
            left = printable(block[1])
            right = cut(printable(block[2]), _COLUMNS - len(left) - 1 if left else _COLUMNS)
            lines, font = [f"{left[:_COLUMNS - len(right) - 1]:<{_COLUMNS - len(right)}}{right}"], body
        elif kind == "title":
            lines, font = rows(printable(block[1]), _TITLE_COLUMNS, _TITLE_ROWS), title
        else:
            lines, font = rows(printable(block[1]), _COLUMNS, _LINE_ROWS), body
        for line in lines:
            img = Image.new("L", (WIDTH, font.size + 8), 255)
            ImageDraw.Draw(img).text((0, 2), line, font=font, fill=0)
            images.append(img)
    height = sum(i.height for i in images) + 40
    page = Image.new("L", (WIDTH, height), 255)
    y = 10
    for img in images:
        page.paste(img, ((WIDTH - img.width) // 2 if img.width < WIDTH else 0, y))
        y += img.height
    out = io.BytesIO()
    page.convert("1").save(out, "PNG")
    return out.getvalue()


def _qr(url: str) -> Image.Image:
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=5, border=2)
    out.seek(0)
    with Image.open(out) as img:
        return img.convert("L").copy()


def welcome_slip(*, hotel: str, guest: str, room: str, floor: str, arrival: str, departure: str,
                 lines: list[str], qr_url: str = "", logo: str = "") -> bytes:
    blocks: list[tuple] = [("title", name(hotel)), ("line", ""), ("line", f"Welcome, {name(guest)}"), ("rule",),
              ("pair", "Room", room)]
    if floor and floor != room:
        blocks.append(("pair", "Floor", floor))
    blocks += [("pair", "Arrival", str(arrival).replace("T", " ")),
               ("pair", "Departure", str(departure).replace("T", " ")), ("rule",)]
    blocks += [("line", cut(printable(text), LINE_LIMIT)) for text in lines]
    if qr_url:
        blocks.append(("image", _qr(qr_url)))
    return _render(blocks, logo)


def folio(*, hotel: str, guest: str, number: str, room: str, items: list[dict], balance: dict,
          printed_at: str, logo: str = "") -> bytes:
    blocks = [("title", name(hotel)), ("line", "Folio"), ("line", name(guest)), ("pair", "Reservation", number),
              ("pair", "Room", room), ("rule",)]
    for item in items:
        blocks.append(("line", f"{name(item.get('date'), 16)} {name(item.get('name'))}"))
        blocks.append(("pair", "", _money(item.get("amount"))))
    blocks += [("rule",), ("pair", "Balance", _money(balance)), ("line", ""), ("line", f"Printed {printed_at}")]
    return _render(blocks, logo)


def print_data(png: bytes) -> dict:
    """Job data in the shape of a Mews printer command."""
    from agent.devices.printer.jobdata import print_data as job_data

    return job_data("image/png", png)
