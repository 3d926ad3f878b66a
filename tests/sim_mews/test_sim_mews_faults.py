"""Mews simulator, faults and limits: 429 with Retry-After, deterministic 5xx share, latency, displacement."""

from __future__ import annotations

import http.client
import json

import pytest

from sim.mews import DEMO_CONNECTOR_TOKEN, MewsSimulator


class Client:
    """One keep-alive connection, so hundreds of requests stay fast."""

    def __init__(self, sim):
        self.conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)

    def post(self, path, body):
        self.conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        payload = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(payload) if payload else None

    def api(self, op, token=DEMO_CONNECTOR_TOKEN):
        return self.post("/api/connector/v1/" + op, {"AccessToken": token})

    def sign_in(self):
        return self.post("/api/connector/v1/app/signIn", {"ConnectorToken": DEMO_CONNECTOR_TOKEN})[2]["AccessToken"]

    def close(self):
        self.conn.close()


@pytest.fixture
def sim():
    with MewsSimulator(generation="seed") as s:
        yield s


def test_default_rate_limit_is_200_per_30_s_per_token_with_retry_after(sim):
    client = Client(sim)
    token = client.sign_in()
    statuses = [client.api("commands/getAllActive", token)[0] for _ in range(200)]
    assert statuses == [200] * 200
    status, headers, body = client.api("commands/getAllActive", token)
    assert status == 429 and body["Message"] and body["RequestId"] == headers["request-id"]
    assert 1 <= int(headers["retry-after"]) <= 30
    # Another token has its own window; admin routes never count.
    assert client.api("commands/getAllActive")[0] == 200
    assert client.post("/_sim/commands/addPrinter", {"Data": "eA=="})[0] == 200
    assert client.post("/_sim/faults", {"latency_ms": 0})[0] == 200
    client.close()


def test_rate_limit_can_be_lifted():
    with MewsSimulator(generation="seed", rate_limit=False) as s:
        client = Client(s)
        assert {client.api("spaces/getAll")[0] for _ in range(230)} == {200}
        client.close()


def test_rate_limit_switched_by_fault_route(sim):
    client = Client(sim)
    assert client.post("/_sim/faults", {"rate_limit_requests": 3})[0] == 200
    assert [client.api("spaces/getAll")[0] for _ in range(4)] == [200, 200, 200, 429]
    status, _, faults = client.post("/_sim/faults", {"rate_limit": False})
    assert status == 200 and faults["rate_limit"] is False
    assert client.api("spaces/getAll")[0] == 200
    sim.set_faults(rate_limit=True)
    assert client.api("spaces/getAll")[0] == 429
    client.close()


def server_errors(sim, n=200):
    client = Client(sim)
    out = []
    for _ in range(n):
        status, headers, body = client.api("spaces/getAll")
        if status >= 500:
            assert body["Message"] and body["RequestId"] == headers["request-id"]
        out.append(status)
    client.close()
    return out


def test_error_rate_gives_a_seeded_share_of_5xx():
    with MewsSimulator(generation="seed", rate_limit=False) as a, MewsSimulator(generation="seed", rate_limit=False) as b:
        a.set_faults(error_rate=0.5, seed=11)
        b.set_faults(error_rate=0.5, seed=11)
        first, second = server_errors(a), server_errors(b)
    assert first == second  # same seed, same sequence
    failures = sum(s >= 500 for s in first)
    assert 60 <= failures <= 140
    assert set(first) <= {200, 500, 502, 503, 504}


def test_error_rate_zero_and_one(sim):
    sim.set_faults(error_rate=1.0, rate_limit=False)
    assert all(s >= 500 for s in server_errors(sim, 20))
    sim.set_faults(error_rate=0)
    assert set(server_errors(sim, 20)) == {200}


def test_latency_setting_keeps_requests_working(sim):
    client = Client(sim)
    status, _, faults = client.post("/_sim/faults", {"latency_ms": 30})
    assert status == 200 and faults["latency_ms"] == 30
    assert client.api("spaces/getAll")[0] == 200
    client.close()


def test_displace_fault_invalidates_the_signed_in_token(sim):
    client = Client(sim)
    token = client.sign_in()
    assert client.api("spaces/getAll", token)[0] == 200
    assert client.post("/_sim/faults", {"displace": True})[0] == 200
    assert client.api("spaces/getAll", token)[0] == 401
    assert client.api("spaces/getAll", client.sign_in())[0] == 200
    client.close()


@pytest.mark.parametrize("body", [{"latency": 5}, {"error_rate": 2}, {"error_rate": "half"}, {"rate_limit": "no"},
                                  {"drop_websockets": 1}, {"seed": 1.5}])
def test_bad_fault_settings_are_400(sim, body):
    client = Client(sim)
    status, _, answer = client.post("/_sim/faults", body)
    assert status == 400 and answer["Message"]
    client.close()
    with pytest.raises(ValueError):
        sim.set_faults(**body)


def test_faults_snapshot(sim):
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    conn.request("GET", "/_sim/faults")
    snapshot = json.loads(conn.getresponse().read())
    conn.close()
    assert snapshot["rate_limit"] is True and snapshot["error_rate"] == 0
    assert snapshot["rate_limit_requests"] == 200 and snapshot["rate_limit_window"] == 30
