"""The money fault run: kiosk charges on the Adyen simulator with random lost answers, timeouts and restarts.

Each iteration follows the kiosk's own protocol (``agent.kiosk.pay``: note the
charge, ask the terminal once, record what it approved; ``resolve`` after a
restart) with one fault drawn at random. Afterwards the simulator's books and
the unit's ledger are compared: a payment sent twice, an approval the ledger
does not hold, or a recorded amount other than the approved one is counted.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from decimal import Decimal
from types import SimpleNamespace

from agent.config import parse
from agent.kiosk import ledger as lg
from agent.kiosk import pay
from agent.mews.client import MewsClient
from agent.runtime.store import Store
from hal.payment import Declined, NotCharged, OutcomeUnknown, TerminalError
from hal.payment.adyen import AdyenTerminal, NexoKey, nexo
from tests.adyen_harness import KEY, POI_ID

FAULTS = ("approve", "decline", "partial", "busy", "lose", "timeout", "late", "restart")
CUSTOMER = "0f7e0c9a-5a7e-4c2b-9d1e-3b2f7a1c4d55"


class Tasks:
    def __init__(self):
        self.raised: list[str] = []

    def raise_task(self, name: str, description: str = "") -> bool:
        self.raised.append(name)
        return True


def _terminal(sim, pki, hold: float) -> AdyenTerminal:
    # the answer is given up on well before the simulated guest finishes: timeouts and late approvals happen
    return AdyenTerminal(sim.address, POI_ID, NexoKey(KEY["identifier"], KEY["version"], KEY["passphrase"]),
                         pki["ca"], timeout=hold / 2, status_timeout=2.0, settle_time=hold * 6, poll=0.02)


def _unit(state_dir, sim, pki, hold):
    """The unit as it starts: its store and ledger on disk, a fresh terminal client (nothing in memory)."""
    cfg = parse('[mews]\nplatform_address = "http://127.0.0.1:9"\nclient_token = "c"\naccess_token = "a"\n')
    store = Store(state_dir)
    return SimpleNamespace(client=MewsClient(cfg.mews), ledger=lg.PaymentLedger(store), store=store,
                           terminal=_terminal(sim, pki, hold), tasks=Tasks())


def _send_and_die(ctx, reference, amount, sim, before):
    """The unit sends the payment and dies before reading the answer (nobody records anything)."""
    message = nexo.payment(POI_ID, reference, amount, "EUR")
    threading.Thread(target=lambda: _quiet(ctx.terminal.transport.post, message, 5.0), daemon=True).start()
    end = time.monotonic() + 5
    while sim.state()["requests"] == before and time.monotonic() < end:
        time.sleep(0.01)


def _quiet(fn, *args):
    try:
        fn(*args)
    except Exception:  # the dead unit hears nothing
        pass


def fault_run(sim, pki, state_dir, n: int, seed: int, hold: float) -> dict:
    rng = random.Random(seed)
    ctx = _unit(state_dir, sim, pki, hold)
    counts = {fault: 0 for fault in FAULTS}
    outcomes = {"approved": 0, "not_charged": 0, "unknown": 0, "restarts": 0}
    references = []
    for i in range(n):
        fault = rng.choice(FAULTS)
        counts[fault] += 1
        reference = f"F{seed}-{i}-{secrets.token_hex(3)}"
        references.append(reference)
        amount = Decimal(rng.randint(100, 90000)) / 100
        ctx.ledger.begin(reference, f"R{i}", CUSTOMER, amount, "EUR")
        if fault == "restart":
            sim.set_mode(rng.choice(("approve", "decline", "late", "lose", "timeout")))
            _send_and_die(ctx, reference, amount, sim, sim.state()["requests"])
            ctx.store.close()
            ctx = _unit(state_dir, sim, pki, hold)  # the unit restarts over the same state folder
            outcomes["restarts"] += 1
            end = time.monotonic() + hold * 10
            while ctx.ledger.get(reference).state in (lg.CHARGING, lg.UNKNOWN) and time.monotonic() < end:
                pay.resolve(ctx)
                time.sleep(0.02)
            continue
        sim.set_mode(fault, partial_amount=float(amount / 2)) if fault == "partial" else sim.set_mode(fault)
        try:
            approval = ctx.terminal.charge(amount, "EUR", reference)
        except (Declined, NotCharged):
            ctx.ledger.close(reference, lg.NOT_CHARGED)
            outcomes["not_charged"] += 1
        except OutcomeUnknown:
            ctx.ledger.close(reference, lg.UNKNOWN)
            outcomes["unknown"] += 1
        except TerminalError:
            ctx.ledger.close(reference, lg.NOT_CHARGED)
            outcomes["not_charged"] += 1
        else:
            pay.record(ctx, approval, CUSTOMER, f"R{i}")
            outcomes["approved"] += 1
    pay.resolve(ctx)  # what the running kiosk's reaper does every 30 s
    books = sim.state()
    double = sum(1 for r in references if books["sent"].get(r, 0) > 1 or len(books["charges"].get(r, [])) > 1)
    not_recorded = differ = open_left = 0
    for r in references:
        charge = ctx.ledger.get(r)
        approved = books["charges"].get(r, [])
        if charge.state in (lg.CHARGING, lg.UNKNOWN):
            open_left += 1
        if approved and charge.approved is None:
            not_recorded += 1
        if approved and charge.approved is not None and (
                Decimal(str(approved[0]["amount"])).quantize(Decimal("0.01")) != charge.approved
                or approved[0]["currency"] != charge.approved_currency):
            differ += 1
        if not approved and charge.approved is not None:
            differ += 1  # recorded what the terminal never approved
    ctx.store.close()
    return {"iterations": n, "faults": counts, "outcomes": outcomes, "double_charges": double,
            "approvals_not_recorded": not_recorded, "recorded_amounts_differ": differ, "left_open": open_left}
