"""Reservation/Resource/PriceUpdate events: in-memory view, JSONL log, forwarding to a local system."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.agent_harness import AgentThread, wait_until, write_config

import sim.mews as sim_mews


@pytest.fixture
def receiver():
    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/events", got
    server.shutdown()


@pytest.mark.parametrize("space_events", [False, True])
def test_resource_events_are_logged_viewed_and_forwarded(tmp_path, receiver, space_events):
    url, got = receiver
    with sim_mews.MewsSimulator(rate_limit=False, space_events=space_events) as sim:
        extra = f'\n[events]\nforward_url = "{url}"\n'
        with AgentThread(write_config(tmp_path, sim, extra=extra)) as agent:
            wait_until(lambda: agent.listener.connected)
            space_id, space = next(iter(sim.enterprise.spaces.items()))
            sim.set_space_state(space_id, "Clean" if space["State"] == "Dirty" else "Dirty")
            wait_until(lambda: got, what="event forwarded")
            naming = "Space" if space_events else "Resource"
            assert got[0]["Type"] == naming and got[0]["Id"] == space_id
            assert agent.eventlog.resources[space_id].naming == naming
            lines = (tmp_path / "state" / "events.jsonl").read_text().splitlines()
            assert json.loads(lines[0])["Id"] == space_id
