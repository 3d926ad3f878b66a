"""The websocket listener guards our callbacks like websocket-client guards its own: logged, never fatal."""

from __future__ import annotations

import logging
import time

from agent import config
from agent.mews.client import MewsClient
from agent.mews.listener import EventListener
from agent.runtime.backoff import Backoff
from sim.mews import DEMO_CONNECTOR_TOKEN, MewsSimulator
from tests.agent_harness import wait_until


def _mews(sim):
    return config.parse(f'[mews]\nplatform_address = "{sim.url}"\ngeneration = "seed"\n'
                        f'connector_token = "{DEMO_CONNECTOR_TOKEN}"\nclient_token = "c"\ntimeout = 5.0\n').mews


def test_a_raising_callback_is_logged_and_the_listener_lives_on(caplog):
    calls = {"connected": 0, "disconnected": 0, "events": 0}

    def broken(name):
        def callback(*args, **kw):
            calls[name] += 1
            raise RuntimeError(f"bug in on_{name}")
        return callback

    caplog.set_level(logging.ERROR, logger="agent.mews.listener")
    with MewsSimulator(generation="seed") as sim, MewsClient(_mews(sim)) as client:
        sim.set_faults(stall_websockets=True)
        listener = EventListener(client._cfg, client, on_events=broken("events"), on_connected=broken("connected"),
                                 on_disconnected=broken("disconnected"), handshake_timeout=0.3,
                                 backoff=Backoff(0.01, 0.05))
        listener.start()
        try:
            # a raising on_disconnected used to end the listener's thread after the first failure
            wait_until(lambda: calls["disconnected"] >= 2, timeout=15, what="two failed handshakes reported")
            assert listener._thread.is_alive()
            sim.set_faults(stall_websockets=False)
            wait_until(lambda: listener.connected, timeout=15, what="connected")
            sim.add_printer_command(b"%PDF-1.4")  # an event through the raising on_events
            wait_until(lambda: calls["events"] >= 1, timeout=15, what="an event delivered")
            time.sleep(0.3)
            # a raising on_connected used to tear the fresh connection down, again and again
            assert listener.connected and calls["connected"] == 1, calls
        finally:
            listener.stop()
    assert "bug in on_disconnected" in caplog.text and "bug in on_connected" in caplog.text
