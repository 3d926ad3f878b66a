"""The agent against the Mews simulator over loopback: lifecycle, faults, coalescing, echoes."""

import base64
import json

import pytest

from tests.agent_harness import AgentThread, all_final, final_state, states, wait_until, write_config

import sim.mews as sim_mews

PDF = base64.b64decode(base64.b64encode(b"%PDF-1.4 demo"))


@pytest.fixture
def sim():
    with sim_mews.MewsSimulator(rate_limit=False) as s:
        yield s


ORDER = ["Pending", "Received", "Processing", "Processed", "Cancelled", "Error"]


def add_prints(sim, n, copies=1):
    return [sim.add_printer_command(PDF, copy_count=copies) for _ in range(n)]


def test_full_lifecycle_websocket(sim, tmp_path):
    with AgentThread(write_config(tmp_path, sim)) as agent:
        wait_until(lambda: agent.listener.connected, what="websocket connected")
        ids = add_prints(sim, 3) + add_prints(sim, 1, copies=3)
        wait_until(lambda: all_final(sim, ids), what="all commands final")
        for cid in ids:
            hist = states(sim, cid)
            assert hist[0] == "Pending" and hist[-1] == "Processed", hist
            assert "Received" in hist
        assert agent.health.connection == "online"


def test_command_without_handler_ends_in_error(sim, tmp_path):
    with AgentThread(write_config(tmp_path, sim, log_types=("Printer",))):
        cid = sim.add_key_cutter_command(key_count=1)
        wait_until(lambda: final_state(sim, cid), what="final")
        cmd = sim.command(cid)
        assert cmd["State"] == "Error"
        assert cmd["History"][-1]["Notes"].startswith("no device of type")


def test_poll_mode(sim, tmp_path):
    with AgentThread(write_config(tmp_path, sim, mode="poll", poll_interval=0.2)) as agent:
        ids = add_prints(sim, 3)
        wait_until(lambda: all_final(sim, ids))
        assert agent.listener is None


def test_burst_costs_few_drains_and_echoes_are_ignored(sim, tmp_path):
    with AgentThread(write_config(tmp_path, sim)) as agent:
        wait_until(lambda: agent.listener.connected)
        before = sim.request_count("/api/connector/v1/commands/getAllActive")
        ids = add_prints(sim, 30)
        wait_until(lambda: all_final(sim, ids))
        drains = sim.request_count("/api/connector/v1/commands/getAllActive") - before
        assert drains < 15, drains  # one per event would be >= 30
        assert agent.health.counters.get("echoes_ignored", 0) >= 30


def test_event_named_commands_are_fetched_by_id(sim, tmp_path):
    """Today's generation: the command an event names comes from commands/getAllByIds (Mews' device guide)."""
    assert sim.generation == "current"
    with AgentThread(write_config(tmp_path, sim)) as agent:
        # settled: connected, drained, and no full drain running or due (one in flight when the prints are
        # added takes them all with getAllActive, and the events then name nothing new: the race this avoids)
        wait_until(lambda: agent.listener.connected and agent.loop.drains >= 1 and not agent.loop.draining
                   and not agent.loop.requested and not agent.loop.full, what="connected and drained")
        active = sim.request_count("commands/getAllActive")
        ids = add_prints(sim, 3)
        wait_until(lambda: all_final(sim, ids), what="all commands final")
        assert sim.request_count("commands/getAllByIds") >= 1
        # No drain per event while the websocket is up (at most the connect drain still in flight).
        assert sim.request_count("commands/getAllActive") - active <= 1


def test_websocket_drop_falls_back_to_polling_and_reconnects(sim, tmp_path):
    with AgentThread(write_config(tmp_path, sim, poll_interval=0.2)) as agent:
        wait_until(lambda: agent.listener.connected)
        sim.set_faults(drop_websockets=True)
        wait_until(lambda: not agent.listener.connected, what="disconnect noticed")
        ids = add_prints(sim, 2)
        wait_until(lambda: all_final(sim, ids), what="processed while websocket down")
        sim.set_faults(drop_websockets=False)
        wait_until(lambda: agent.listener.connected, timeout=30, what="reconnected")


def test_half_open_connection_is_detected(sim, tmp_path):
    with AgentThread(write_config(tmp_path, sim, poll_interval=0.2), ping_interval=0.6, ping_timeout=0.3) as agent:
        wait_until(lambda: agent.listener.connected)
        sim.set_faults(silence_websockets=True)
        wait_until(lambda: not agent.listener.connected, timeout=15, what="silent socket detected")
        ids = add_prints(sim, 2)
        wait_until(lambda: all_final(sim, ids))
        sim.set_faults(silence_websockets=False)
        wait_until(lambda: agent.listener.connected, timeout=30)


def test_5xx_storm_and_rate_limits_lose_nothing(sim, tmp_path):
    with AgentThread(write_config(tmp_path, sim, poll_interval=0.2)) as agent:
        wait_until(lambda: agent.listener.connected)
        sim.set_faults(error_rate=0.6)
        ids = add_prints(sim, 10)
        wait_until(lambda: agent.health.outbox_depth > 0 or all_final(sim, ids), what="backlog or done")
        sim.set_faults(error_rate=0.0)
        wait_until(lambda: all_final(sim, ids), timeout=60)
        log = (tmp_path / "state" / "log-handler.jsonl").read_text().splitlines()
        executed = [json.loads(line)["id"] for line in log]
        assert sorted(executed) == sorted(ids)  # each exactly once
        assert all(final_state(sim, i) == "Processed" for i in ids)


def test_429_with_retry_after_is_honoured(tmp_path):
    with sim_mews.MewsSimulator(rate_limit=True) as sim:
        with AgentThread(write_config(tmp_path, sim)) as agent:
            wait_until(lambda: agent.listener.connected)
            # A platform stricter than our own limiter: 429s with Retry-After must be waited out.
            sim.set_faults(rate_limit_requests=4, rate_limit_window=1.0)
            ids = add_prints(sim, 6)
            wait_until(lambda: all_final(sim, ids), timeout=60)
            assert all(final_state(sim, i) == "Processed" for i in ids)


def test_displacement_recovers_by_signing_in_again(sim, tmp_path):
    with AgentThread(write_config(tmp_path, sim)) as agent:
        wait_until(lambda: agent.listener.connected)
        sim.set_faults(displace=True)
        ids = add_prints(sim, 2)
        wait_until(lambda: all_final(sim, ids), timeout=60)


def test_cancel_on_platform_while_queued(sim, tmp_path):
    with AgentThread(write_config(tmp_path, sim, step_delay=0.3)) as agent:
        wait_until(lambda: agent.listener.connected)
        first = sim.add_printer_command(PDF, copy_count=3)
        second = sim.add_printer_command(PDF, copy_count=1)
        wait_until(lambda: "Received" in states(sim, second))
        sim.cancel_command(second)
        wait_until(lambda: final_state(sim, first))
        log = (tmp_path / "state" / "log-handler.jsonl").read_text()
        assert second not in log
        assert final_state(sim, second) == "Cancelled"


def test_displaced_by_another_client_is_shown_and_paused(sim, tmp_path):
    from agent.mews.client import MewsClient
    from agent.mews.errors import Displaced

    class Outsigned(MewsClient):
        calls = 0

        def get_all_active_commands(self):
            Outsigned.calls += 1
            raise Displaced(Displaced.DEFAULT, 401)

    cfg_path = write_config(tmp_path, sim, mode="poll", poll_interval=0.1)
    from agent import config as config_mod

    cfg = config_mod.load(str(cfg_path))
    with AgentThread(cfg_path, client=Outsigned(cfg.mews)) as agent:
        wait_until(lambda: agent.health.connection == "displaced", what="displaced shown")
        assert "another client signed in" in agent.health.message
        assert agent.status_line().startswith("displaced")
        calls = Outsigned.calls
        import time
        time.sleep(1.0)  # ten poll intervals: the agent waits instead of fighting for the session
        assert Outsigned.calls == calls
