"""Budgets under a flood: several clients (one api key, one state_dir) never provoke `ratelimit`.

The 30 s window is shrunk to 0.5 s on both sides, so the flood spends several
windows' worth of every budget in a couple of seconds.
"""

import threading

from agent.pos.budget import COSTS
from tests.pos.pos_harness import make_client, start_sim

WINDOW = 0.5


def test_flood_of_calls_never_gets_a_ratelimit_answer(tmp_path):
    sim = start_sim(window=WINDOW)
    rounds, clients_n = 6, 3
    spent: dict[str, int] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()

    def worker(i):
        try:
            with make_client(sim, tmp_path, window=WINDOW, seed=i) as c:
                for r in range(rounds):
                    calls = [("version", c.version), ("getstatus", c.get_status), ("listproducts", c.list_products),
                             ("registerdevice", lambda: c.register_device(f"dev-{i}")),
                             ("listtransactions", lambda: c.list_transactions(limit=5))]
                    calls += [("payitems", lambda: c.pay_items(1, 1, [(7, 1)]))] * 6
                    for name, call in calls:
                        call()
                        with lock:
                            spent[name] = spent.get(name, 0) + COSTS[name]
        except BaseException as e:  # reported below, with the thread's context
            failures.append(e)

    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not failures, failures
        assert sim.ratelimit_answers == 0
        # the flood really was over budget: most commands spent several times their 100 points
        assert spent["version"] == 50 * rounds * clients_n > 300
        assert spent["listproducts"] > 300 and spent["registerdevice"] >= 180
        assert sim.requests("version") == rounds * clients_n
        assert len(sim.transactions) == 6 * rounds * clients_n
        assert len({s for s in sim.shards}) == 3
    finally:
        sim.stop()


def test_a_second_client_waits_for_what_the_first_spent(tmp_path):
    """Budgets belong to the api key: a new client (new connection) remembers the last window."""
    sim = start_sim(window=WINDOW)
    try:
        with make_client(sim, tmp_path, window=WINDOW, seed=0) as a:
            a.version()
            a.version()
        with make_client(sim, tmp_path, window=WINDOW, seed=1) as b:
            assert b.budget.wait_time("version") > 0
            b.version()
        assert sim.ratelimit_answers == 0
    finally:
        sim.stop()
