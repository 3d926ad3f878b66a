"""Mews simulator, websocket: auth by query and cookie, events in both namings, drop, silence, displacement."""

from __future__ import annotations

import http.client
import json

import pytest
import websocket

from sim.mews import DEMO_CONNECTOR_TOKEN, MewsSimulator

QUIET = 0.3  # seconds to wait for something that must not arrive


@pytest.fixture
def sim():
    with MewsSimulator(generation="seed") as s:
        yield s


@pytest.fixture
def space_sim():
    with MewsSimulator(generation="seed", space_events=True) as s:
        yield s


def api(sim, op, token=DEMO_CONNECTOR_TOKEN, **fields):
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    body = {"ConnectorToken": token} if op == "app/signIn" else {"AccessToken": token, **fields}
    conn.request("POST", "/api/connector/v1/" + op, body=json.dumps(body))
    resp = conn.getresponse()
    payload = json.loads(resp.read() or b"null")
    conn.close()
    return resp.status, payload


def connect(sim, token=DEMO_CONNECTOR_TOKEN, via="query"):
    base = f"ws://127.0.0.1:{sim.port}/ws/connector"
    if via == "query":
        return websocket.create_connection(f"{base}?ClientToken=kiosk&AccessToken={token}", timeout=5)
    return websocket.create_connection(base, timeout=5, header=[f"Cookie: ClientToken=kiosk;AccessToken={token}"])


def events(ws):
    message = json.loads(ws.recv())
    assert set(message) == {"Events"}
    return message["Events"]


def assert_quiet(ws):
    ws.settimeout(QUIET)
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.recv()
    ws.settimeout(5)


def reservation(sim, number):
    _, body = api(sim, "reservations/getAll", StartUtc="2000-01-01T00:00:00Z", EndUtc="2100-01-01T00:00:00Z",
                  States=["Confirmed", "Started", "Optional"])
    return next(r for r in body["Reservations"] if r["Number"] == number)


@pytest.mark.parametrize("via", ["query", "cookie"])
def test_command_events_reach_a_client_authenticated_by_query_or_cookie(sim, via):
    ws = connect(sim, via=via)
    command_id = sim.add_printer_command(b"x")
    assert events(ws) == [{"Type": "DeviceCommand", "Id": command_id, "State": "Pending"}]
    ws.close()


def test_signed_in_token_works_for_the_websocket(sim):
    _, signed = api(sim, "app/signIn")
    ws = connect(sim, signed["AccessToken"], via="cookie")
    sim.add_key_cutter_command()
    assert events(ws)[0]["Type"] == "DeviceCommand"
    ws.close()


@pytest.mark.parametrize("via, token", [("query", "invalid"), ("cookie", "invalid"), ("query", "")])
def test_invalid_token_is_refused_before_upgrade(sim, via, token):
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        connect(sim, token, via=via)
    assert e.value.status_code == 401


def test_every_update_including_the_clients_own_is_pushed_to_every_client(sim):
    first, second = connect(sim), connect(sim, via="cookie")
    command_id = sim.add_printer_command(b"x")
    for state, extra in (("Received", {}), ("Processing", {"Progress": 0.5}), ("Processed", {})):
        assert api(sim, "commands/update", CommandId=command_id, State=state, **extra)[0] == 200
    expected = [[{"Type": "DeviceCommand", "Id": command_id, "State": s}]
                for s in ("Pending", "Received", "Processing", "Processed")]
    assert [events(first) for _ in expected] == expected
    assert [events(second) for _ in expected] == expected
    # A replayed final report changes nothing and pushes nothing.
    assert api(sim, "commands/update", CommandId=command_id, State="Processed")[0] == 200
    assert_quiet(first)
    sim.cancel_command(sim.add_printer_command(b"y"))
    assert [e["State"] for e in events(first) + events(first)] == ["Pending", "Cancelled"]
    first.close()
    second.close()


def test_reservation_and_resource_events(sim):
    ws = connect(sim)
    r = reservation(sim, "1001")
    assert api(sim, "reservations/start", ReservationId=r["Id"])[0] == 200
    (event,) = events(ws)
    assert event == {"Type": "Reservation", "Id": r["Id"], "State": "Started", "StartUtc": r["StartUtc"],
                     "EndUtc": r["EndUtc"], "AssignedResourceId": r["AssignedSpaceId"]}
    settled = reservation(sim, "1006")
    assert api(sim, "reservations/process", ReservationId=settled["Id"])[0] == 200
    reservation_event, room_event = events(ws)
    assert reservation_event["State"] == "Processed"
    assert room_event == {"Type": "Resource", "Id": settled["AssignedSpaceId"], "State": "Dirty"}
    sim.set_space_state(settled["AssignedSpaceId"], "Clean")
    assert events(ws) == [{"Type": "Resource", "Id": settled["AssignedSpaceId"], "State": "Clean"}]
    ws.close()


def test_space_naming_variant(space_sim):
    ws = connect(space_sim)
    r = reservation(space_sim, "1012")
    assert api(space_sim, "reservations/cancel", ReservationId=r["Id"], ChargeCancellationFee=False, Notes="")[0] == 200
    (event,) = events(ws)
    assert event["State"] == "Canceled" and event["AssignedSpaceId"] == r["AssignedSpaceId"]
    assert "AssignedResourceId" not in event
    space_sim.set_space_state(r["AssignedSpaceId"], "Inspected")
    assert events(ws) == [{"Type": "Space", "Id": r["AssignedSpaceId"], "State": "Inspected"}]
    ws.close()


@pytest.mark.parametrize("space_events, key", [(False, "ResourceCategoryId"), (True, "SpaceCategoryId")])
def test_price_update_event(space_events, key):
    with MewsSimulator(generation="seed", space_events=space_events) as s:
        ws = connect(s)
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.request("POST", "/_sim/events/priceUpdate",
                     body=json.dumps({"StartUtc": "2030-01-01T00:00:00Z", "EndUtc": "2030-01-02T00:00:00Z",
                                      "RateId": "rate-1", key: "cat-1"}))
        assert conn.getresponse().status == 200
        conn.close()
        (event,) = events(ws)
        assert event["Type"] == "PriceUpdate" and event["Id"] and event["RateId"] == "rate-1"
        assert event[key] == "cat-1" and event["StartUtc"] == "2030-01-01T00:00:00Z"
        ws.close()


def test_drop_websockets_closes_all_and_refuses_new_until_lifted(sim):
    first, second = connect(sim), connect(sim)
    sim.set_faults(drop_websockets=True)
    for ws in (first, second):
        with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
            ws.recv()
        ws.shutdown()
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        connect(sim)
    assert e.value.status_code == 503
    sim.set_faults(drop_websockets=False)
    ws = connect(sim)
    command_id = sim.add_printer_command(b"x")
    assert events(ws)[0]["Id"] == command_id
    ws.close()


def test_silenced_socket_stays_open_but_sends_and_answers_nothing(sim):
    ws = connect(sim)
    ws.ping(b"alive?")
    opcode, frame = ws.recv_data_frame(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_PONG and frame.data == b"alive?"
    sim.set_faults(silence_websockets=True)
    sim.add_printer_command(b"lost")
    ws.ping(b"anyone?")
    ws.settimeout(QUIET)
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.recv_data_frame(control_frame=True)
    assert ws.connected
    sim.set_faults(silence_websockets=False)
    ws.settimeout(5)
    command_id = sim.add_printer_command(b"seen")
    assert events(ws) == [{"Type": "DeviceCommand", "Id": command_id, "State": "Pending"}]
    ws.close()


@pytest.mark.parametrize("how", ["signIn", "fault"])
def test_displaced_client_socket_is_closed(sim, how):
    _, signed = api(sim, "app/signIn")
    token = signed["AccessToken"]
    ws = connect(sim, token)
    direct = connect(sim)  # the connector token used directly is never displaced
    if how == "signIn":
        api(sim, "app/signIn")
    else:
        sim.set_faults(displace=True)
    opcode, frame = ws.recv_data_frame(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(frame.data[:2], "big") == 4001
    ws.shutdown()
    assert api(sim, "spaces/getAll", token=token)[0] == 401
    with pytest.raises(websocket.WebSocketBadStatusException):
        connect(sim, token)
    command_id = sim.add_printer_command(b"x")
    assert events(direct)[0]["Id"] == command_id
    direct.close()
