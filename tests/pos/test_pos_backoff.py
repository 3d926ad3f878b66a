"""Backoff is written once: the POS client's reconnects wait what agent/runtime/backoff says."""

from __future__ import annotations

import random

import pytest

from agent.pos import errors
from agent.runtime.backoff import Backoff
from tests.pos.pos_harness import make_client, start_sim


def test_all_shards_down_backs_off_through_the_runtime_backoff():
    sim = start_sim()
    try:
        for i in range(3):
            sim.kill_shard(i)
        backoff = Backoff(0.05, 0.1, rng=random.Random(1))
        with make_client(sim, timeout=0.3, backoff=backoff) as c:
            with pytest.raises(errors.GatewayUnavailable, match="no ConcertPOS shard"):
                c.version()
            assert backoff.failures >= 1  # every shard failed once, then the shared backoff decided the waits
            sim.revive_shard(2)
            assert c.get_status().status == "success"
    finally:
        sim.stop()
