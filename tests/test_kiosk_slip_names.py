"""Any name prints (issue 21 item 16): control and format characters never reach a slip, long names are cut.

Names, item names and the hotel's words come from the platform; a `\\x1d` in a guest's name used to crash
the welcome slip after the keys were cut, and a 10 kB name printed 1.12 m of paper.
"""

from __future__ import annotations

import functools
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from agent.kiosk import receipts
from agent.kiosk.slip_text import cut, printable
from agent.kiosk.checkin import CheckIn
from tests.kiosk_harness import Rig, run

SLIP = dict(hotel="Kiosk Demo Hotel", room="103", floor="1", arrival="2026-05-01T15:00",
            departure="2026-05-03T11:00", lines=["Wi-Fi: KioskGuest / password sunrise", "Breakfast 7:00-10:30"])
HOSTILE = ["\x00", "\x07", "\t", "\n", "\r", "\x1b", "\x1d", "\x1f", "\x7f", "\x85", "\x9b", "\u2028", "\u2029",
           "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
           "\u2069", "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\ud800"]


def height(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as img:
        return img.height


def slip(guest: str, **kw) -> bytes:
    return receipts.welcome_slip(guest=guest, **{**SLIP, **kw})


def folio(guest: str, items: list[dict] | None = None, **kw) -> bytes:
    items = items if items is not None else [
        {"date": "2026-05-01", "name": "Night 1", "amount": {"Currency": "GBP", "Value": 120.0}}]
    return receipts.folio(**{"hotel": "Kiosk Demo Hotel", "guest": guest, "number": "1007", "room": "202",
                             "items": items, "balance": {"Currency": "GBP", "Value": 0.0},
                             "printed_at": "2026-05-03 10:00", **kw})


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    yield r
    r.close()


def test_a_group_separator_in_the_guest_name_still_prints_the_slip_after_the_keys(rig):
    walker = rig.ent.customers[rig.reservation("1001")["CustomerId"]]
    walker["FirstName"] = "Al\x1dice"
    s = CheckIn(rig.ctx)
    assert run(s, "find", number="1001", last_name="Walker")["screen"] == "details"
    assert run(s, "confirm")["screen"] == "keys"
    screen = run(s, "keys", count=1)
    assert len(rig.encoder.keys) == 1
    assert (screen["screen"], screen["data"].get("printed")) == ("done", True), screen
    assert rig.printer.wait_receipts(1)


@pytest.mark.parametrize("char", HOSTILE, ids=[f"U+{ord(c):04X}" for c in HOSTILE])
def test_control_and_format_characters_are_dropped(char):
    assert printable(f"Ann{char}{char}Lee") in ("AnnLee", "Ann Lee")
    assert height(slip(f"Ann{char}Lee", hotel=f"Kiosk{char}Hotel", lines=[f"Wi{char}Fi"])) == height(slip("AnnLee", hotel="KioskHotel", lines=["WiFi"]))
    items = [{"date": "2026-05-01", "name": f"Mini{char}bar", "amount": {"Currency": "GBP", "Value": 3.5}}]
    assert height(folio(f"Ann{char}Lee", items)) == height(folio("AnnLee", items))


def test_whitespace_is_normalised():
    assert printable("  Ann \t\n Lee\u3000 ") == "Ann Lee"
    assert printable("Ann\u2028Lee") == "Ann Lee"


def test_a_long_name_is_cut_to_64_characters_with_an_ellipsis():
    assert cut("A" * 64) == "A" * 64
    shortened = cut("B" * 65)
    assert shortened == "B" * 63 + "…" and len(shortened) == 64


def test_a_10_kb_name_prints_no_more_paper_than_a_64_character_one():
    assert height(slip("N" * 10_000)) == height(slip("N" * 64))
    assert height(folio("N" * 10_000)) == height(folio("N" * 64))
    long_item = [{"date": "2026-05-01", "name": "I" * 10_000, "amount": {"Currency": "GBP", "Value": 1.0}}]
    capped_item = [{"date": "2026-05-01", "name": "I" * 64, "amount": {"Currency": "GBP", "Value": 1.0}}]
    assert height(folio("Ann", long_item)) == height(folio("Ann", capped_item))
    assert height(slip("Ann", hotel="H" * 10_000)) == height(slip("Ann", hotel="H" * 64))


ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
WORST = " ".join(["Q" * 17] * 20)  # words that wrap one or two to a row: every block reaches its most rows


@functools.cache
def bound_slip() -> int:
    return height(slip(WORST, hotel=WORST, room=WORST, floor=WORST + "F", lines=[WORST]))


@functools.cache
def bound_folio() -> int:
    return height(folio(WORST, hotel=WORST, room=WORST, number=WORST, items=[
        {"date": WORST, "name": WORST, "amount": {"Currency": WORST, "Value": 1e300}}]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(guest=ANY_TEXT, hotel=ANY_TEXT, room=ANY_TEXT, line=ANY_TEXT)
def test_any_text_renders_a_slip_of_bounded_height(guest, hotel, room, line):
    assert height(slip(guest, hotel=hotel, room=room, floor=room + "F", lines=[line])) <= bound_slip()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(guest=ANY_TEXT, hotel=ANY_TEXT, item=ANY_TEXT, currency=ANY_TEXT, number=ANY_TEXT,
       value=st.one_of(st.floats(), st.integers(), st.text(max_size=5), st.none()))
def test_any_text_renders_a_folio_of_bounded_height(guest, hotel, item, currency, number, value):
    png = folio(guest, hotel=hotel, number=number, room=number, items=[
        {"date": item, "name": item, "amount": {"Currency": currency, "Value": value}}])
    assert height(png) <= bound_folio()
