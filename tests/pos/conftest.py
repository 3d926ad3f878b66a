"""Fixtures of the ConcertPOS tests: ``sim`` is a gateway simulator (three shards) on loopback."""

import pytest

from tests.pos.pos_harness import start_sim


@pytest.fixture
def sim():
    s = start_sim()
    yield s
    s.stop()
