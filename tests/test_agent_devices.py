"""End to end through the run loop: a Mews key-cutter command reaches the virtual encoder."""

import pytest

from tests.agent_harness import AgentThread, final_state, wait_until, write_config

import sim.mews as sim_mews
import sim.encoder.device as sim_encoder


@pytest.mark.parametrize("kind", ["KeyCutter", "VisiOnlineKeyCutter"])
def test_key_cutter_command_ends_processed_with_keys_in_the_encoder_log(tmp_path, kind):
    encoder = sim_encoder.VirtualEncoder(card_delay=0.05).start()
    try:
        with sim_mews.MewsSimulator(rate_limit=False) as sim:
            extra = f'\n[encoder]\nport = "{encoder.url}"\nreply_timeout = 5.0\n'
            with AgentThread(write_config(tmp_path, sim, log_types=(), extra=extra)) as agent:
                wait_until(lambda: agent.listener.connected)
                cid = sim.add_key_cutter_command(key_count=2, type=kind)
                wait_until(lambda: final_state(sim, cid), timeout=30)
                cmd = sim.command(cid)
                assert cmd["State"] == "Processed", cmd["History"][-1]
                rooms = cmd["Data"]["LockIds"]
                assert len(encoder.keys) == 2
                assert [k["copy"] for k in encoder.keys] == [0, 1]  # one new key, then a copy
                assert all(k["rooms"] == rooms for k in encoder.keys)
                states = [h["State"] for h in cmd["History"]]
                assert "Processing" in states  # "present card 1 of 2" is visible work
    finally:
        encoder.stop()
