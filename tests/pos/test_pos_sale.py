"""Selling without double charging: the connection cut before the reply, timeouts, ambiguity."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from agent.pos.errors import InvalidRequest
from agent.pos.models import Transaction
from agent.pos.sale import BOOKED, NOT_BOOKED, UNKNOWN, SaleLine, Seller, match_sale, merge_lines, parse_item
from tests.pos.pos_harness import make_client

LINES = [SaleLine(3, 2), SaleLine(7, 1)]


def seller(client, **kw):
    kw.setdefault("settle_delay", 0.05)
    kw.setdefault("reconcile_time", 2.0)
    return Seller(client, **kw)


def booked_lines(sim):
    return sorted((t["Product_ID"], t["AmountProduct"]) for t in sim.transactions)


def test_parse_and_merge_items():
    assert parse_item("3x2") == SaleLine(3, 2) and parse_item(" 7 ") == SaleLine(7, 1)
    assert parse_item("5X3") == SaleLine(5, 3)
    for bad in ("", "x2", "3x", "3x0", "-1x2", "3x2x1", "three"):
        with pytest.raises(InvalidRequest):
            parse_item(bad)
    assert merge_lines([SaleLine(3, 2), SaleLine(7, 1), SaleLine(3, 1)]) == [SaleLine(3, 3), SaleLine(7, 1)]


def test_plain_sale_is_booked_with_transaction_ids(sim):
    with make_client(sim) as c:
        sim.book(1, 1, [(3, 2)])  # an earlier identical sale must not be taken for ours
        result = seller(c).pay(1, 1, LINES)
    assert result.result == BOOKED and result.attempts == 1 and not result.warnings
    ids = [t["ID"] for t in sim.transactions[1:]]
    assert [t.id for t in result.transactions] == ids
    assert result.total == Decimal("23.00")  # 2 x (4.50 + 1.00 deposit) + 12
    out = result.to_json()
    assert out["result"] == "booked" and out["transactions"] == ids and out["total"] == "23.00"


def test_executed_then_dropped_is_booked_exactly_once(sim):
    sim.drop_after_next("payitems", execute=True)
    with make_client(sim) as c:
        result = seller(c).pay(1, 1, LINES)
    assert result.result == BOOKED and result.attempts == 1
    assert sim.requests("payitems") == 1  # proven by listtransactions, never resent
    assert booked_lines(sim) == [(3, 2), (7, 1)]
    assert sorted(t.id for t in result.transactions) == sorted(t["ID"] for t in sim.transactions)
    assert any("reply was lost" in w for w in result.warnings)


def test_dropped_before_executing_is_not_booked(sim):
    sim.drop_after_next("payitems", execute=False)
    with make_client(sim) as c:
        result = seller(c, retries=0).pay(1, 1, LINES)
    assert result.result == NOT_BOOKED and "no matching transaction" in result.reason
    assert sim.transactions == [] and sim.requests("payitems") == 1


def test_dropped_before_executing_then_resent_ends_booked_exactly_once(sim):
    sim.drop_after_next("payitems", execute=False)
    with make_client(sim) as c:
        result = seller(c, retries=1).pay(1, 1, LINES)
    assert result.result == BOOKED and result.attempts == 2
    assert sim.requests("payitems") == 2 and booked_lines(sim) == [(3, 2), (7, 1)]


def test_timeout_without_reply_is_reconciled(sim):
    sim.delay_next("payitems", 1.0)
    with make_client(sim, timeout=0.3) as c:
        result = seller(c, settle_delay=1.2).pay(1, 1, LINES)
    assert result.result == BOOKED and sim.requests("payitems") == 1
    assert len(sim.transactions) == 2


def test_ambiguous_outcome_is_unknown(sim):
    sim.drop_after_next("payitems", execute=True)
    with make_client(sim) as c:
        s = seller(c)
        real_sleep = s.sleep

        def another_till_sells_the_same(seconds):
            sim.book(1, 1, [(3, 2), (7, 1)])  # while we were cut off
            real_sleep(seconds)

        s.sleep = another_till_sells_the_same
        result = s.pay(1, 1, LINES)
    assert result.result == UNKNOWN and "several matching" in result.reason
    assert sim.requests("payitems") == 1 and len(sim.transactions) == 4  # nothing resent


def test_gateway_gone_after_the_drop_is_unknown(sim):
    sim.drop_after_next("payitems", execute=True)
    with make_client(sim, timeout=0.3, backoff=(0.05, 0.1)) as c:
        s = seller(c, reconcile_time=0.5)
        real_sleep = s.sleep

        def all_shards_die(seconds):
            for i in range(3):
                sim.kill_shard(i)
            real_sleep(seconds)

        s.sleep = all_shards_die
        result = s.pay(1, 1, LINES)
    assert result.result == UNKNOWN and "could not check the outcome" in result.reason
    assert sim.requests("payitems") == 1


def test_refused_sale_is_not_booked(sim):
    with make_client(sim) as c:
        result = seller(c).pay(2, 1, [SaleLine(3, 1)])  # POS 2 needs a password
    assert result.result == NOT_BOOKED and "password" in result.reason and sim.transactions == []


def test_unknown_products_book_nothing(sim):
    with make_client(sim) as c:
        result = seller(c).pay(1, 1, [SaleLine(999, 1)])
    assert result.result == NOT_BOOKED and "booked no items" in result.reason


def test_nothing_sent_when_the_gateway_is_unreachable(sim):
    for i in range(3):
        sim.kill_shard(i)
    with make_client(sim, timeout=0.2, backoff=(0.05, 0.1)) as c:
        result = seller(c).pay(1, 1, LINES)
    assert result.result == NOT_BOOKED and result.reason.startswith("nothing was sent")
    assert sim.requests("payitems") == 0


# -- match_sale on its own ------------------------------------------------------------------------

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def tx(id, product, amount, *, pos=1, method=1, at=T0):
    return Transaction(id, method, pos, product, amount, Decimal(amount), at, f"h{id}")


def test_match_needs_every_line_exactly_once():
    assert match_sale([tx(1, 3, 2), tx(2, 7, 1)], 1, 1, LINES).result == BOOKED
    assert match_sale([], 1, 1, LINES).result == NOT_BOOKED
    assert match_sale([tx(1, 3, 2)], 1, 1, LINES).result == UNKNOWN  # partial
    assert match_sale([tx(1, 3, 2), tx(2, 7, 1), tx(3, 3, 2)], 1, 1, LINES).result == UNKNOWN  # two candidates


def test_match_ignores_other_pos_method_and_amounts():
    noise = [tx(1, 3, 2, pos=2), tx(2, 3, 2, method=2), tx(3, 3, 1), tx(4, 8, 1)]
    assert match_sale(noise, 1, 1, LINES).result == NOT_BOOKED


def test_match_before_the_send_window_is_unknown_not_guessed():
    found = match_sale([tx(1, 3, 2, at=T0), tx(2, 7, 1, at=T0)], 1, 1, LINES,
                       not_before=T0 + timedelta(minutes=1))
    assert found.result == UNKNOWN and "clock" in found.reason


def test_confirmed_sale_with_a_twin_takes_the_newest_and_warns():
    found = match_sale([tx(1, 3, 2), tx(2, 7, 1), tx(5, 3, 2), tx(6, 7, 1)], 1, 1, LINES, confirmed=True)
    assert found.result == BOOKED and [t.id for t in found.transactions] == [5, 6]
    assert "double charge" in found.warnings[0]
