"""PosClient against the gateway simulator: every command and error, failover, timeouts, secrets."""

import json
import logging
import random
import threading

import pytest
import websocket

from agent.pos import errors
from agent.pos.connection import Connection
from tests.pos.pos_harness import API_KEY, INSTANCE, make_client, start_sim


def test_every_command_round_trips(sim):
    with make_client(sim) as c:
        assert c.version() == "1.0.1"
        status = c.get_status()
        assert status.status == "success" and "operational" in status.message
        assert c.get_license().active
        assert c.get_config()["currency"] == "EUR"
        assert c.get_deposit().price == 1
        assert [p.name for p in c.list_pos()] == ["Kiosk", "Bar"]
        assert {p.id for p in c.list_products()} == {3, 5, 7, 9}
        assert [m.name for m in c.list_payment_methods()] == ["Cash", "Card"]
        assert c.register_device("5b1f4c1e-0000-4000-8000-000000000001", workplace=1)["success"] is True
        assert c.pay_items(1, 2, [(3, 2), (7, 1), (5, 0)]) == 2
        txs = c.list_transactions(limit=10)
        assert [(t.product_id, t.amount_product, t.payment_id) for t in txs] == [(7, 1, 2), (3, 2, 2)]
        assert [t.id for t in c.list_transactions(limit=1)] == [txs[0].id]
    assert sim.devices["5b1f4c1e-0000-4000-8000-000000000001"]["workplace"] == 1
    assert len(sim.transactions) == 2
    assert sim.ratelimit_answers == 0


def test_missing_posid_is_a_local_error_without_a_round_trip(sim):
    with make_client(sim, pos_id=1) as c:
        before = sim.requests()
        with pytest.raises(errors.InvalidRequest, match="POSID"):
            c.call("listproducts", {})
        with pytest.raises(errors.InvalidRequest, match="UUID"):
            c.call("registerdevice", {})
        with pytest.raises(errors.InvalidRequest):
            c.pay_items(1, 1, [(3, 0)])
        assert sim.requests() == before


def _raw(sim, instance=INSTANCE):
    return websocket.create_connection(sim.urls[0].rsplit("/", 1)[0] + "/" + instance, timeout=5)


@pytest.mark.parametrize("frame, code", [
    ("this is not json", "invalid_json"),
    ('["command"]', "invalid_json5"),
    ('{"command": "version", "parameters": {}}', "missing_parameter_api"),
    ('{"command": "version", "parameters": {"api_key": "wrong"}}', "api_key_mismatch"),
    ('{"command": "frobnicate", "parameters": {"api_key": "%s"}}' % API_KEY, "unknown_command"),
    ('{"command": "listproducts", "parameters": {"api_key": "%s"}}' % API_KEY, "missing_parameter_api"),
    ('{"command": "payitems", "parameters": {"api_key": "%s", "POSID": 1, "PaymentMethod": 1, "Products": "x"}}'
     % API_KEY, "missing_parameter_api"),
])
def test_simulator_error_codes_on_the_wire(sim, frame, code):
    ws = _raw(sim)
    try:
        ws.send(frame)
        reply = json.loads(ws.recv())
    finally:
        ws.close()
    assert reply["type"] == "error" and reply["result"]["error"] == code
    assert isinstance(reply["result"]["code"], int)


def test_gateway_errors_on_the_connection_become_exceptions(sim):
    conn = Connection(sim.urls[0], sim.shards[0], connect_timeout=2)
    try:
        with pytest.raises(errors.MissingParameter):
            conn.request("version", {}, timeout=2)
        with pytest.raises(errors.GatewayError, match="unknown_command"):
            conn.request("frobnicate", {"api_key": API_KEY}, timeout=2)
        assert conn.request("version", {"api_key": API_KEY}, timeout=2) == {"Version": "1.0.1"}
    finally:
        conn.close()


def test_invalid_instance(sim):
    with make_client(sim, instance="no-such-venue") as c, pytest.raises(errors.InvalidInstance, match="pos.instance"):
        c.version()


def test_no_api_key(sim):
    sim.add_instance("keyless", "")
    with make_client(sim, instance="keyless") as c, pytest.raises(errors.NoApiKey):
        c.get_status()


def test_api_key_mismatch_never_shows_the_key(sim, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-key-must-stay-secret"
    with make_client(sim, api_key=wrong) as c, pytest.raises(errors.ApiKeyMismatch) as info:
        c.version()
    assert "pos.api_key" in str(info.value)
    assert wrong not in str(info.value) and wrong not in caplog.text
    assert API_KEY not in caplog.text


def test_invalid_password_and_the_right_one(sim):
    with make_client(sim) as c, pytest.raises(errors.InvalidPassword):
        c.list_products(2)
    with make_client(sim, pos_password="1234") as c:
        assert [p.id for p in c.list_products(2)] == [3, 11]


def test_license_error_and_inactive_license(sim):
    sim.set_license(None)
    with make_client(sim) as c, pytest.raises(errors.LicenseInvalid):
        c.get_license()
    sim.set_license({"Active": "0", "Name": "Venue"})
    with make_client(sim) as c:
        assert c.get_license().active is False


def test_ratelimit_answer_honours_retry_after():
    sim = start_sim(window=1.0)
    try:
        with make_client(sim, window=1.0) as a:
            a.version()
            a.version()  # the key's version budget is now full
        assert sim.ratelimit_answers == 0
        with make_client(sim, window=1.0) as b:  # knows nothing of a's spending (memory budget)
            assert b.version() == "1.0.1"  # refused once, waited retry_after, then served
            assert b.budget.wait_time("version") > 0  # learnt from the answer
        assert sim.ratelimit_answers == 1
    finally:
        sim.stop()


def test_starts_on_a_random_shard(sim):
    seen = {make_client(sim, seed=s).shard for s in range(12)}
    assert len(seen) > 1 and seen <= set(sim.shards)
    shard = make_client(sim, seed=7).shard
    assert shard == sim.shards[random.Random(7).randrange(3)]


def test_failover_when_the_shard_dies(sim):
    with make_client(sim) as c:
        c.version()
        first = c.shard
        sim.kill_shard(sim.shards.index(first))
        assert c.get_status().status == "success"  # served by the next shard
        assert c.shard != first and c.connects == 2
        assert sim.connections()[sim.shards.index(c.shard)] == 1


def test_failover_on_connect_failure(sim):
    c = make_client(sim, seed=1)
    start = sim.shards.index(c.shard)
    sim.kill_shard(start)
    with c:
        assert c.version() == "1.0.1"
        assert c.shard == sim.shards[(start + 1) % 3]


def test_all_shards_down_is_gateway_unavailable_then_recovers(sim):
    for i in range(3):
        sim.kill_shard(i)
    with make_client(sim, timeout=0.3, backoff=(0.05, 0.1)) as c:
        with pytest.raises(errors.GatewayUnavailable, match="no ConcertPOS shard"):
            c.version()
        sim.revive_shard(1)
        assert c.get_status().status == "success"
        assert c.shard == sim.shards[1]


def test_reply_timeout_resends_a_read_once_on_another_shard(sim):
    sim.delay_next("getstatus", 1.5)
    with make_client(sim, timeout=0.4) as c:
        first = c.shard
        assert c.get_status().status == "success"
        assert c.shard != first
    assert sim.requests("getstatus") == 2


def test_reply_timeout_twice_raises(sim):
    sim.delay_next("getconfig", 1.0)
    sim.delay_next("getconfig", 1.0)
    with make_client(sim, timeout=0.3) as c, pytest.raises(errors.PosReplyTimeout):
        c.get_config()


def test_payitems_is_never_resent_after_a_loss(sim):
    sim.drop_after_next("payitems", execute=True)
    with make_client(sim) as c:
        with pytest.raises(errors.ConnectionLost) as info:
            c.pay_items(1, 1, [(7, 1)])
        assert info.value.sent
    assert sim.requests("payitems") == 1 and len(sim.transactions) == 1


def test_broadcast_reaches_clients_of_every_shard(sim):
    got = {0: [], 1: []}
    done = threading.Event()

    def catcher(i):
        def on(msg):
            got[i].append(msg.message)
            if got[0] and got[1]:
                done.set()
        return on

    with make_client(sim, seed=0, on_broadcast=catcher(0)) as a, make_client(sim, seed=1, on_broadcast=catcher(1)) as b:
        a.version()
        b.get_status()
        assert a.shard != b.shard
        assert sim.broadcast("maintenance at 02:00") == 2
        assert done.wait(5)
    assert got == {0: ["maintenance at 02:00"], 1: ["maintenance at 02:00"]}


def test_stale_late_reply_does_not_answer_the_next_request(sim):
    conn = Connection(sim.urls[0], sim.shards[0], connect_timeout=2)
    try:
        sim.delay_next("getstatus", 0.5)
        with pytest.raises(errors.PosReplyTimeout):
            conn.request("getstatus", {"api_key": API_KEY}, timeout=0.1)
        # the late getstatus event must not be taken as the version reply
        assert conn.request("version", {"api_key": API_KEY}, timeout=3) == {"Version": "1.0.1"}
    finally:
        conn.close()
