"""The sale receipt: plain UTF-8 text for the thermal printer.

Amounts come from the booked transactions (what the gateway charged), names
and unit prices from the product list, the time in the hotel's time zone.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from agent.pos.errors import PosError

log = logging.getLogger(__name__)

HASH_PREFIX = 8


class ReceiptNotPrinted(PosError):
    """The receipt could not be printed (the sale itself stands)."""


def width_for(printer_cfg) -> int:
    """Characters per line: 32 on 58 mm paper (384 dots), 48 on 80 mm (576 dots)."""
    dots = getattr(printer_cfg, "width_dots", 384) if printer_cfg is not None else 384
    return 48 if dots >= 576 else 32


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _row(left: str, right: str, width: int) -> str:
    room = width - len(right) - 1
    if len(left) > room:
        left = left[:max(1, room - 1)] + "…"
    return left + " " * (width - len(left) - len(right)) + right


def _arithmetic(amount, product, deposit_price, money, width: int) -> list[str]:
    """The line as a sum: ``2 x (2.50 + 1.00 deposit) = 7.00``, the result right-aligned.

    Indented when it fits; on narrow paper the indent goes, then the result moves to its own line.
    """
    if product is None:
        terms = f"{amount} x ?"
    elif product.deposit and deposit_price:
        terms = f"{amount} x ({_amount(product.price)} + {_amount(deposit_price)} deposit)"
    else:
        terms = f"{amount} x {_amount(product.price)}"
    result = f"= {_amount(money)}"
    for indent in ("  ", ""):
        if len(indent + terms) + 1 + len(result) <= width:
            return [_row(indent + terms, result, width)]
    return [terms[:width], _row("", result, width)]


def render_receipt(sale, *, products: dict, method=None, deposit=None, tz: str = "UTC", title: str = "",
                   pos_name: str = "", width: int = 32, now: datetime | None = None) -> str:
    """The receipt text for a booked SaleResult."""
    zone = ZoneInfo(tz)
    stamps = [t.timestamp for t in sale.transactions if t.timestamp]
    when = (min(stamps) if stamps else (now or datetime.now(UTC))).astimezone(zone)
    rule = "-" * width
    out = []
    if title:
        out.append(title[:width].center(width).rstrip())
    out.append((pos_name or f"POS {sale.pos_id}")[:width].center(width).rstrip())
    out.append(when.strftime("%Y-%m-%d %H:%M") + f" {when.tzname() or tz}")
    out.append(rule)
    deposit_price = deposit.price if deposit is not None else None
    if sale.transactions:
        lines = [(t.product_id, t.amount_product, t.amount_money) for t in sale.transactions]
    else:  # confirmed by the gateway but not identified: show what was asked, priced from the list
        lines = []
        for x in sale.lines:
            p = products.get(x.product_id)
            unit = (p.price + ((deposit_price or 0) if p.deposit else 0)) if p else Decimal(0)
            lines.append((x.product_id, x.amount, unit * x.amount))
    total = Decimal(0)
    for pid, amount, money in lines:
        p = products.get(pid)
        out.append((p.name if p else f"Product {pid}")[:width])
        out.extend(_arithmetic(amount, p, deposit_price, money, width))
        total += money
    out.append(rule)
    out.append(_row("TOTAL", _amount(total), width))
    if method is not None:
        out.append(f"Paid by {method.name}"[:width])
    out.append(rule)
    if sale.transactions:
        out.append("Transactions:")
        for t in sale.transactions:
            out.append(f"  {t.id}  {t.hash[:HASH_PREFIX]}" if t.hash else f"  {t.id}")
    else:
        out.append("Transaction ids unavailable")
    for w in sale.warnings:
        out.append(f"! {w}"[:width * 3])
    out.append("")
    return "\n".join(out)


def receipt_bytes(text: str) -> bytes:
    return text.encode("utf-8")


RECEIPT_WAIT = 120.0  # seconds a receipt may wait behind the printer's queued work


def job_data(text: str) -> dict:
    """A receipt as a print job's data (the shape of a Mews Printer command's Data)."""
    from agent.devices.printer.jobdata import print_data

    return print_data("text/plain", receipt_bytes(text))


def print_as_job(jobs, text: str, wait: float = RECEIPT_WAIT) -> str:
    """Print as a job on the agent's printer worker (queued behind its work); raises ReceiptNotPrinted."""
    from agent.runtime.jobs import Job, JobKind, Source

    handle = jobs.submit(Job(kind=JobKind.PRINT_DOCUMENT, data=job_data(text), source=Source.POS))
    outcome = handle.wait(wait)
    if outcome is None:
        handle.cancel()
        raise ReceiptNotPrinted(f"the printer did not print it within {wait:g} s")
    if not outcome.ok:
        raise ReceiptNotPrinted(outcome.note or outcome.state.value)
    return outcome.note


def print_receipt(cfg, text: str, progress=None) -> str:
    """Print on the configured thermal printer (``text/plain``); raises ReceiptNotPrinted."""
    if getattr(cfg, "printer", None) is None:
        raise ReceiptNotPrinted("no [printer] configured")
    try:
        from agent.devices.printer.handler import print_document
    except ImportError as e:
        raise ReceiptNotPrinted(f"printer support is not available ({e})") from None
    try:
        return print_document(cfg.printer, "text/plain", receipt_bytes(text), copies=1, progress=progress)
    except Exception as e:  # DeviceError (paper out, offline), InvalidInput: the sale stands, say why
        log.warning("pos: receipt not printed: %s", e)
        raise ReceiptNotPrinted(str(e) or type(e).__name__) from None
