"""ConcertPOS rate budgets: our client-side budgets vs a client that only reacts to `ratelimit`.

Both run the same flood (several threads, one api key) against the gateway
simulator, with the 30 s window scaled down so a run takes seconds. The
reactive client is what the reference client does: send at once, and on a
`ratelimit` answer wait its retry_after and send again.
"""

from __future__ import annotations

import threading
import time

from bench.report import table

WINDOW = 0.5  # seconds (the gateway's 30 s, scaled)
THREADS = 3
ROUNDS = 15
API_KEY = "bench-api-key"


def _workload(call) -> int:
    n = 0
    for r in range(ROUNDS):
        for command, params in (("getstatus", {}), ("registerdevice", {"UUID": "bench-device"}),
                                ("listtransactions", {"POSID": 1, "Limit": 5}),
                                ("listtransactions", {"POSID": 1, "Limit": 5}),
                                ("payitems", {"POSID": 1, "PaymentMethod": 1, "Products": [{"ID": 7, "Amount": 1}]}),
                                ("payitems", {"POSID": 1, "PaymentMethod": 1, "Products": [{"ID": 7, "Amount": 1}]})):
            call(command, params)
            n += 1
    return n


def _budgeted(sim, i):
    from agent.config import PosConfig
    from agent.pos.client import PosClient

    cfg = PosConfig(instance="my-venue", api_key=API_KEY, shards=sim.shards, url_template=sim.url_template)
    client = PosClient(cfg, budget=_budgeted.shared)
    try:
        return _workload(client.call)
    finally:
        client.close()


def _reactive(sim, i):
    from agent.pos.connection import Connection
    from agent.pos.errors import PosRateLimited

    conn = Connection(sim.urls[i % len(sim.urls)], sim.shards[i % len(sim.shards)], connect_timeout=5)

    def call(command, params):
        while True:
            try:
                return conn.request(command, {**params, "api_key": API_KEY}, timeout=10)
            except PosRateLimited as e:
                time.sleep(e.retry_after or 0.1)

    try:
        return _workload(call)
    finally:
        conn.close()


def _run(strategy) -> dict:
    from sim.pos import PosGatewaySimulator

    with PosGatewaySimulator(ports=[0, 0, 0], api_key=API_KEY, window=WINDOW) as sim:
        from agent.pos.budget import Budget

        _budgeted.shared = Budget(window=WINDOW)  # one api key: one budget for all threads
        done = [0] * THREADS
        started = time.perf_counter()

        def worker(i):
            done[i] = strategy(sim, i)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        calls = sum(done)
        return {"calls": calls, "requests": sim.requests(), "ratelimit": sim.ratelimit_answers, "wall": wall,
                "booked": len(sim.transactions)}


def main():
    ours = _run(_budgeted)
    theirs = _run(_reactive)
    rows = []
    for name, r in (("client budgets (ours)", ours), ("react to ratelimit only", theirs)):
        rows.append([name, r["calls"], r["requests"], r["ratelimit"], round(r["requests"] / r["calls"], 3),
                     round(r["wall"], 2), round(r["calls"] / r["wall"], 1), r["booked"]])
    table("pos_budgets",
          ["strategy", "calls", "requests sent", "ratelimit answers", "requests/call", "wall s", "calls/s",
           "payitems booked"], rows,
          notes={"window": f"{WINDOW} s (the gateway's 30 s scaled)", "threads": THREADS,
                 "ratelimit ratio (reactive/ours)": (theirs["ratelimit"] / ours["ratelimit"]) if ours["ratelimit"]
                 else f"{theirs['ratelimit']} vs 0",
                 "wall ratio (ours/reactive)": round(ours["wall"] / theirs["wall"], 2)})


if __name__ == "__main__":
    main()
