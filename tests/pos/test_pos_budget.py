"""Client-side rate budgets: leaky bucket arithmetic, persistence across processes (fake clock, no waits)."""

import json
import subprocess
import sys
import threading

from agent.pos.budget import COSTS, Budget, budget_file


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


def test_costs_follow_the_spec():
    assert COSTS == {"getconfig": 25, "getdeposit": 10, "getlicense": 4, "listpm": 20, "listproducts": 25,
                     "payitems": 1, "registerdevice": 10, "version": 50, "getstatus": 15,
                     "listtransactions": 2, "listpos": 10}


def spend(b, command, times=1):
    for _ in range(times):
        b.settle(command, b.reserve(command))


def test_level_rises_by_cost_and_drains_100_per_30_s():
    clock = Clock()
    b = Budget(clock=clock)
    spend(b, "version", 2)
    assert b.level("version") == 100
    assert b.wait_time("version") == 15.0  # 50 points drain in 15 s
    clock.t += 6
    assert abs(b.level("version") - 80) < 1e-9
    assert abs(b.wait_time("version") - 9.0) < 1e-9
    clock.t += 30
    assert b.level("version") == 0
    assert b.level("payitems") == 0  # each command has its own budget


def test_reserve_waits_exactly_until_it_fits(monkeypatch):
    clock = Clock()
    slept = []

    def fake_sleep(s):
        slept.append(s)
        clock.t += s

    monkeypatch.setattr("agent.pos.budget.time.sleep", fake_sleep)
    b = Budget(clock=clock)
    spend(b, "listproducts", 4)  # 4 x 25 = 100: no wait
    assert slept == []
    spend(b, "listproducts")
    assert abs(sum(slept) - 7.5) < 0.01  # 25 points take 7.5 s to drain
    assert b.level("listproducts") <= 100


def test_calls_in_flight_count_in_full_and_do_not_drain():
    clock = Clock()
    b = Budget(clock=clock)
    t1 = b.reserve("version")
    t2 = b.reserve("version")
    clock.t += 20  # both still unanswered: the gateway may have counted them only now
    assert b.level("version") == 100 and b.wait_time("version") > 0
    b.settle("version", t1)
    b.settle("version", t2)
    assert b.level("version") == 100  # booked as counted at the reply
    clock.t += 15
    assert abs(b.level("version") - 50) < 1e-9


def test_in_flight_left_by_a_dead_process_expires():
    clock = Clock()
    b = Budget(clock=clock, stale_after=60)
    b.reserve("version")  # never settled
    clock.t += 60 + 15
    assert abs(b.level("version") - 0) < 1e-9


def test_stop_event_ends_a_wait_without_charging():
    clock = Clock()
    b = Budget(clock=clock)
    spend(b, "version", 2)
    stop = threading.Event()
    stop.set()
    assert b.reserve("version", stop=stop) == ""
    assert b.level("version") == 100


def test_cancelled_call_costs_nothing():
    b = Budget(clock=Clock())
    b.cancel("version", b.reserve("version"))
    assert b.level("version") == 0


def test_penalise_follows_retry_after():
    clock = Clock()
    b = Budget(clock=clock)
    b.penalise("getconfig", 4.0)
    assert abs(b.wait_time("getconfig") - 4.0) < 1e-9


def test_clock_going_back_drains_nothing():
    clock = Clock()
    b = Budget(clock=clock)
    spend(b, "version")
    clock.t -= 100
    assert b.level("version") == 50


def test_budget_file_shared_between_instances(tmp_path):
    path = budget_file(tmp_path, "venue", "secret-api-key")
    assert "secret" not in path.name
    clock = Clock()
    spend(Budget(path, clock=clock), "getconfig")
    spend(Budget(path, clock=clock), "getconfig")
    assert Budget(path, clock=clock).level("getconfig") == 50
    assert "secret-api-key" not in path.read_text()


def test_a_new_process_remembers_what_was_spent(tmp_path):
    path = budget_file(tmp_path, "venue", "key")
    spend(Budget(path), "version", 2)
    code = ("import sys; from agent.pos.budget import Budget; "
            "print(round(Budget(sys.argv[1]).wait_time('version')))")
    r = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert 10 <= int(r.stdout) <= 15  # the other process must wait for the drain


def test_corrupt_file_assumes_spent_budgets(tmp_path):
    path = budget_file(tmp_path, "venue", "key")
    path.write_text("{not json")
    clock = Clock()
    b = Budget(path, clock=clock)
    assert b.level("version") == 100  # conservative: never provoke the gateway
    clock.t += 30
    assert b.level("version") == 0
    spend(b, "version")
    assert json.loads(path.read_text())["buckets"]["version"]["level"] == 50


def test_unwritable_state_dir_falls_back_to_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    b = Budget(blocker / "sub" / "budget.json", clock=Clock())
    spend(b, "version")
    assert b.level("version") == 50
