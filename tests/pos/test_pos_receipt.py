"""Sale receipts: the text, and its bytes on the virtual thermal printer."""

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from agent.devices.printer.config import PrinterConfig
from agent.pos.models import Deposit, PaymentMethod, Product, Transaction
from agent.pos.receipt import ReceiptNotPrinted, print_receipt, receipt_bytes, render_receipt, width_for
from agent.pos.sale import BOOKED, SaleLine, SaleResult, Seller
from tests.pos.pos_harness import make_client

PRODUCTS = {3: Product(3, "Beer 0.5 l", Decimal("4.5"), True), 7: Product(7, "Parking day ticket", Decimal(12), False)}
AT = datetime(2024, 7, 1, 18, 5, tzinfo=timezone.utc)


def sale():
    txs = [Transaction(9200, 2, 1, 3, 2, Decimal(11), AT, "efd8a06799976246abc"),
           Transaction(9201, 2, 1, 7, 1, Decimal(12), AT, "92f6555568d733dd0")]
    return SaleResult(BOOKED, 1, 2, [SaleLine(3, 2), SaleLine(7, 1)], txs, attempts=1)


def test_receipt_text_has_items_amounts_method_ids_and_local_time():
    text = render_receipt(sale(), products=PRODUCTS, method=PaymentMethod(2, "Card"), deposit=Deposit(Decimal(1)),
                          tz="Europe/Prague", title="my-venue", pos_name="Kiosk")
    lines = text.splitlines()
    assert all(len(line) <= 32 for line in lines)
    assert "2024-07-01 20:05 CEST" in text  # 18:05 UTC in the hotel's zone
    assert "Beer 0.5 l" in text and "2 x (4.50 + 1.00 deposit)" in text and "Parking day ticket" in text
    assert any(line.startswith("TOTAL") and line.endswith("23.00") for line in lines)
    assert "Paid by Card" in text
    assert "9200  efd8a067" in text and "9201  92f65555" in text
    assert "efd8a067999" not in text  # a prefix, not the whole hash


def test_receipt_width_follows_the_paper():
    @dataclass
    class Wide:
        width_dots: int = 576

    assert width_for(Wide()) == 48 and width_for(None) == 32
    text = render_receipt(sale(), products=PRODUCTS, tz="UTC", width=48)
    assert max(len(line) for line in text.splitlines()) == 48


def test_confirmed_sale_without_ids_still_gets_a_receipt():
    s = SaleResult(BOOKED, 1, 1, [SaleLine(3, 2)], [], warnings=["ids unavailable"])
    text = render_receipt(s, products=PRODUCTS, deposit=Deposit(Decimal(1)), tz="UTC",
                          now=datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc))
    assert "11.00" in text and "Transaction ids unavailable" in text and "2024-01-01 09:00" in text


def test_no_printer_configured():
    class Cfg:
        printer = None

    with pytest.raises(ReceiptNotPrinted, match="no \\[printer\\]"):
        print_receipt(Cfg(), "x")


def test_receipt_bytes_reach_the_virtual_printer(sim):
    from hal.printer import raster
    from sim.printer.virtual import VirtualPrinter

    with make_client(sim) as c:
        result = Seller(c, settle_delay=0.05).pay(1, 2, [SaleLine(3, 2), SaleLine(7, 1)])
        products = {p.id: p for p in c.list_products()}
    assert result.booked
    text = render_receipt(result, products=products, method=PaymentMethod(2, "Card"), deposit=Deposit(Decimal(1)),
                          tz="Europe/London", title="my-venue")

    class Cfg:
        pass

    with VirtualPrinter(tcp=True) as vp:
        Cfg.printer = PrinterConfig(port=vp.url, baudrate=921600, row_time_ms=0.0)
        note = print_receipt(Cfg(), text)
        assert vp.wait_receipts(1)
    assert "printed" in note
    # what came out of the printer is exactly our receipt text, rendered
    expected = raster.rasterize("text/plain", receipt_bytes(text), 384)
    printed = vp.receipts[0]
    assert printed.size == expected.size
    assert printed.convert("1").tobytes() == expected.tobytes()
    assert vp.mechanism.cuts == 1


def test_receipt_line_reads_as_arithmetic():
    products = {4: Product(4, "Lemonade", Decimal("2.50"), deposit=True), 5: Product(5, "Tea", Decimal("1.20"), False)}
    s = SaleResult(BOOKED, 1, 2, [SaleLine(4, 2), SaleLine(5, 3)],
                   [Transaction(1, 2, 1, 4, 2, Decimal("7.00"), AT, "aa"),
                    Transaction(2, 2, 1, 5, 3, Decimal("3.60"), AT, "bb")], attempts=1)
    for width in (32, 48):
        lines = render_receipt(s, products=products, deposit=Deposit(Decimal(1)), tz="UTC", width=width).splitlines()
        sums = [" ".join(line.split()) for line in lines if "=" in line]
        assert sums == ["2 x (2.50 + 1.00 deposit) = 7.00", "3 x 1.20 = 3.60"], lines
        assert all(len(line) <= width for line in lines)
