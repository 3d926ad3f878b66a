"""Fixtures of the Mews simulator tests: ``sim`` is a seed-generation simulator on loopback (a module may
define its own ``sim`` with other options)."""

import pytest

from sim.mews import MewsSimulator


@pytest.fixture
def sim():
    with MewsSimulator(generation="seed") as s:
        yield s
