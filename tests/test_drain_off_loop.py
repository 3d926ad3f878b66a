"""Issue 11 item 4: the main loop never blocks on the network; health.json stays fresh during a slow drain."""

import json
import time

import pytest

from sim.mews import MewsSimulator
from tests.agent_harness import AgentThread, wait_until, write_config


@pytest.fixture
def sim():
    with MewsSimulator(generation="seed") as s:
        yield s


def test_health_json_stays_fresh_while_a_drain_waits_on_a_trickled_answer(tmp_path, sim):
    path = write_config(tmp_path, sim, mode="poll", poll_interval=0.3)
    path.write_text(path.read_text().replace("timeout = 5.0", "timeout = 30.0"))  # one drain may wait 30 s
    with AgentThread(path) as agent:
        health_file = agent.cfg.state_dir / "health.json"
        wait_until(lambda: health_file.exists() and json.loads(health_file.read_text())["connection"] == "online",
                   what="the agent online")
        drains = sim.request_count("commands/getAllActive")
        sim.set_faults(slow_rest=True, trickle_interval=5.0)  # {"Commands": []}: over a minute, cut at 30 s
        wait_until(lambda: sim.request_count("commands/getAllActive") > drains, what="a slow drain started")
        in_flight = sim.request_count("commands/getAllActive")
        started = time.time()
        seen: set[float] = set()

        def fresh_writes() -> bool:
            try:
                updated = json.loads(health_file.read_text())["updated_at"]
            except (OSError, ValueError):  # replaced atomically, but be lenient on a loaded machine
                return False
            if updated > started:
                seen.add(updated)
            return len(seen) >= 3

        # On a loop that drains inline, nothing is written until the 30 s deadline ends the drain.
        wait_until(fresh_writes, timeout=20.0, interval=0.1, what="health.json rewritten 3 times during the drain")
        assert sim.request_count("commands/getAllActive") == in_flight, "the slow drain ended early"
        assert agent.loop.drains >= 1
        sim.set_faults(slow_rest=False)
