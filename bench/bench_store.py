"""What wiping guest data costs the outbox: reports per second side by side (issue 21 item 15).

Each report is what a finished command costs the store on the hot path: a final
report written (fsynced), then deleted once sent. Side by side, on the same disk,
alternating rounds so drift hits every variant alike:

* ``plain``: secure_delete off, no WAL truncation (the store before the change);
* ``secure_delete``: deleted rows zeroed (every report now);
* ``+ payments, not wiped``: one payment record per 20 reports (a busy kiosk; a
  real one takes a few a day), written and deleted like a report;
* ``+ payments, wiped``: the same, each delivery followed by a TRUNCATE
  checkpoint of the WAL, as the store does: the difference to the line above is
  what the wipes cost.

It also times one wipe (checkpoint and truncate) after a burst, as ``check()``
does every 60 s while anything was written.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.report import table

REPORTS = int(os.environ.get("BENCH_STORE_REPORTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_STORE_ROUNDS", "3"))
PAYMENT_EVERY = 20
BODY = {"CustomerId": "c1", "Amount": {"Currency": "GBP", "Value": 10.0},
        "CreditCard": {"Type": "Visa", "Number": "411111******1111", "Expiration": "12/2030", "Name": "A Holder"}}


def one_round(folder: Path, variant: str) -> tuple[float, float]:
    """(reports per second, ms for a wipe after the burst)."""
    from agent.runtime.store import Store

    store = Store(folder)
    try:
        if variant == "plain":
            store._db.execute("PRAGMA secure_delete=OFF")
        payments = variant.startswith("+ payments")
        if variant == "+ payments, not wiped":
            store.wipe = lambda: True
        start = time.perf_counter()
        for i in range(REPORTS):
            row = store.outbox.enqueue_report(f"cmd-{i}", "Processed")
            store.outbox.sent(row)
            if payments and i % PAYMENT_EVERY == 0:
                store.outbox.sent(store.outbox.enqueue_call("payments/addCreditCard", BODY))
        rate = REPORTS / (time.perf_counter() - start)
        for i in range(200):  # a WAL with a minute's worth of traffic in it
            store.outbox.sent(store.outbox.enqueue_report(f"tail-{i}", "Processed"))
        start = time.perf_counter()
        type(store).wipe(store)
        return rate, (time.perf_counter() - start) * 1000
    finally:
        store.close()


def main():
    variants = ["plain", "secure_delete", "+ payments, not wiped", "+ payments, wiped"]
    rates = {v: [] for v in variants}
    wipes = {v: [] for v in variants}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_STORE_DIR")) as d:
        for r in range(ROUNDS):
            for v in variants:
                rate, wipe_ms = one_round(Path(d) / f"{r}-{v.replace(' ', '_')}", v)
                rates[v].append(rate)
                wipes[v].append(wipe_ms)
    base = statistics.median(rates["plain"])
    rows = [[v, round(statistics.median(rates[v]), 1), f"{statistics.median(rates[v]) / base * 100:.1f} %",
             round(statistics.median(wipes[v]), 2)] for v in variants]
    table("store", ["variant", "reports/s (median)", "vs plain", "wipe after burst (ms)"], rows,
          notes={"reports per round": REPORTS, "rounds": ROUNDS, "payment records": f"1 per {PAYMENT_EVERY} reports",
                 "disk": "the temp folder's (synchronous=FULL: every commit is fsynced)"})


if __name__ == "__main__":
    main()
