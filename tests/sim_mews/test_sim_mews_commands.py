"""Mews simulator, device commands: admin creation, platform shapes, legal transitions, history, cancel."""

from __future__ import annotations

import base64
import json

import pytest

from sim.mews.errors import ApiError
from tests.sim_mews.sim_harness import api, call


def active_ids(sim):
    status, body = api(sim, "commands/getAllActive")
    assert status == 200
    return [c["Id"] for c in body["Commands"]]


def update(sim, command_id, state, **extra):
    return api(sim, "commands/update", CommandId=command_id, State=state, **extra)


def test_add_printer_route_creates_a_platform_shaped_command(sim):
    pdf = b"%PDF-1.4 receipt"
    status, body = call(sim, "/_sim/commands/addPrinter", {"Data": base64.b64encode(pdf).decode()})
    assert status == 200
    command_id = body["CommandId"]
    status, active = api(sim, "commands/getAllActive")
    command = next(c for c in active["Commands"] if c["Id"] == command_id)
    assert command["State"] == "Pending" and command["CreatedUtc"].endswith("Z")
    assert command["Device"]["Type"] == "Printer" and command["Device"]["Id"] and command["Device"]["Name"]
    assert command["Creator"]["LastName"]
    data = command["Data"]
    assert base64.b64decode(data["FileData"]) == pdf
    assert data["FileType"] == "application/pdf" and data["CopyCount"] == 1
    assert {"PrinterName", "PrinterDriverName", "PrinterPortName"} <= set(data)


def test_add_printer_helper_with_options(sim):
    command_id = sim.add_printer_command(b"hello", file_type="text/plain", copy_count=3)
    data = sim.command(command_id)["Data"]
    assert data["FileType"] == "text/plain" and data["CopyCount"] == 3 and base64.b64decode(data["FileData"]) == b"hello"


@pytest.mark.parametrize("body, word", [({"Data": "not base64!"}, "base64"), ({}, "Data"),
                                        ({"Data": "aGk=", "CopyCount": 0}, "CopyCount"),
                                        ({"Data": "aGk=", "PrinterId": "nope"}, "PrinterId")])
def test_add_printer_validation(sim, body, word):
    status, answer = call(sim, "/_sim/commands/addPrinter", body)
    assert status == 400 and word in answer["Message"]


def test_key_cutter_command_data_per_field_notes(sim):
    status, body = call(sim, "/_sim/commands/addKeyCutter", {"KeyCount": 2})
    assert status == 200
    command = sim.command(body["CommandId"])
    assert command["Device"]["Type"] == "KeyCutter"
    data = command["Data"]
    for key in ("KeyCutterId", "ApiUrl", "KeyCutterData", "KeyCount", "LockIds", "StartUtc", "EndUtc", "FirstName",
                "LastName", "NormalizedFirstName", "NormalizedLastName", "Telephone", "Email", "ReservationId",
                "ReservationNumber"):
        assert key in data, key
    assert data["KeyCount"] == 2 and isinstance(json.loads(data["KeyCutterData"]), dict)
    status, found = api(sim, "reservations/getAll", StartUtc=data["StartUtc"], EndUtc=data["EndUtc"])
    r = next(r for r in found["Reservations"] if r["Id"] == data["ReservationId"])
    assert r["Number"] == data["ReservationNumber"] and r["State"] == "Started"
    status, spaces = api(sim, "spaces/getAll")
    numbers = {s["Id"]: s for s in spaces["Spaces"]}
    assigned = numbers[r["AssignedSpaceId"]]
    room = numbers.get(assigned["ParentSpaceId"], assigned)
    assert data["LockIds"] == [room["Number"]]


def test_key_cutter_names_are_normalized_to_ascii(sim):
    status, found = api(sim, "reservations/getAll", StartUtc="2000-01-01T00:00:00Z", EndUtc="2100-01-01T00:00:00Z")
    zoe = next(r for r in found["Reservations"] if r["Customer"]["FirstName"] == "Zoë")
    data = sim.command(sim.add_key_cutter_command(zoe["Id"]))["Data"]
    assert data["FirstName"] == "Zoë" and data["NormalizedFirstName"] == "Zoe"
    assert data["NormalizedLastName"] == "Angstrom"


def test_visionline_key_cutter_command(sim):
    status, found = api(sim, "reservations/getAll", StartUtc="2000-01-01T00:00:00Z", EndUtc="2100-01-01T00:00:00Z")
    r = next(r for r in found["Reservations"] if r["Number"] == "1001")
    status, body = call(sim, "/_sim/commands/addKeyCutter",
                        {"Type": "VisiOnlineKeyCutter", "ReservationId": r["Id"], "KeyCount": 1})
    assert status == 200
    command = sim.command(body["CommandId"])
    assert command["Device"]["Type"] == "VisiOnlineKeyCutter"
    data = command["Data"]
    assert {"ApiUrl", "UserName", "Password", "KeyCutterId"} <= set(data)
    assert data["ValidityStartUtc"] == r["StartUtc"] and data["ValidityEndUtc"] == r["EndUtc"]
    assert data["LockIds"] == ["103"] and data["Reservation"]["Id"] == r["Id"]


def test_key_cutter_device_type_follows_named_device(sim):
    devices = sim.enterprise.devices.values()
    visi = next(d for d in devices if d["Type"] == "VisiOnlineKeyCutter")
    status, body = call(sim, "/_sim/commands/addKeyCutter", {"KeyCutterId": visi["Id"]})
    assert status == 200 and sim.command(body["CommandId"])["Device"]["Id"] == visi["Id"]
    with pytest.raises(ApiError):
        sim.add_key_cutter_command(type="KeyCutter", key_cutter_id=visi["Id"])


@pytest.mark.parametrize("body, word", [({"Type": "Laser"}, "Type"), ({"ReservationId": "nope"}, "ReservationId"),
                                        ({"KeyCount": "2"}, "KeyCount"), ({"KeyCutterId": "nope"}, "KeyCutterId")])
def test_key_cutter_validation(sim, body, word):
    status, answer = call(sim, "/_sim/commands/addKeyCutter", body)
    assert status == 400 and word in answer["Message"]


def test_key_cutter_refused_for_a_reservation_without_room(sim):
    status, found = api(sim, "reservations/getAll", StartUtc="2000-01-01T00:00:00Z", EndUtc="2100-01-01T00:00:00Z")
    r = next(r for r in found["Reservations"] if r["AssignedSpaceId"] is None)
    status, answer = call(sim, "/_sim/commands/addKeyCutter", {"ReservationId": r["Id"]})
    assert status == 400 and "room" in answer["Message"]


def test_get_all_active_returns_pending_and_received_in_creation_order(sim):
    ids = [sim.add_printer_command(b"%d" % i) for i in range(4)]
    assert active_ids(sim) == ids
    assert update(sim, ids[0], "Received")[0] == 200
    assert update(sim, ids[1], "Processing", Progress=0.5)[0] == 200
    assert update(sim, ids[2], "Processed")[0] == 200
    assert active_ids(sim) == [ids[0], ids[3]]


def test_full_lifecycle_is_recorded_in_history(sim):
    command_id = sim.add_printer_command(b"x")
    for state, extra in (("Received", {}), ("Processing", {"Progress": 0.25, "Notes": "ignored"}),
                         ("Processing", {"Progress": 0.75}), ("Processed", {"Notes": "Printed 1 copy", "Progress": 1})):
        status, body = update(sim, command_id, state, **extra)
        assert status == 200 and body == {}
    status, command = call(sim, f"/_sim/commands/{command_id}", method="GET")
    assert status == 200
    history = command["History"]
    assert [h["State"] for h in history] == ["Pending", "Received", "Processing", "Processing", "Processed"]
    assert [h["Progress"] for h in history] == [None, None, 0.25, 0.75, None]
    assert [h["Notes"] for h in history] == [None, None, None, None, "Printed 1 copy"]
    assert all(h["Utc"].endswith("Z") for h in history)
    assert command["State"] == "Processed" and command["Progress"] == 0.75 and command["Notes"] == "Printed 1 copy"
    assert sim.command(command_id) == command


@pytest.mark.parametrize("path, state", [
    (["Received"], "Received"), (["Received"], "Pending"), (["Processing"], "Received"),
    ([], "Pending"), (["Processed"], "Error"), (["Error"], "Processing"), (["Cancelled"], "Received"),
    ([], "Done"),
])
def test_illegal_transitions_are_400(sim, path, state):
    command_id = sim.add_printer_command(b"x")
    for step in path:
        assert update(sim, command_id, step)[0] == 200
    before = sim.command(command_id)
    status, body = update(sim, command_id, state)
    assert status == 400 and body["Message"]
    assert sim.command(command_id) == before


@pytest.mark.parametrize("final", ["Processed", "Error", "Cancelled"])
def test_repeating_a_final_state_is_accepted_idempotently(sim, final):
    command_id = sim.add_printer_command(b"x")
    assert update(sim, command_id, "Processing", Progress=0.1)[0] == 200
    assert update(sim, command_id, final, Notes="first")[0] == 200
    before = sim.command(command_id)
    status, body = update(sim, command_id, final, Notes="replayed")
    assert status == 200 and body == {}
    assert sim.command(command_id) == before


@pytest.mark.parametrize("fields, word", [({"State": None}, "State"), ({"Progress": "half", "State": "Processing"}, "Progress"),
                                          ({"Notes": 5, "State": "Error"}, "Notes"),
                                          ({"Result": [1], "State": "Processed"}, "Result")])
def test_update_validation(sim, fields, word):
    command_id = sim.add_printer_command(b"x")
    status, body = api(sim, "commands/update", CommandId=command_id, **fields)
    assert status == 400 and word in body["Message"]


def test_platform_cancel(sim):
    pending, processing, done = (sim.add_printer_command(b"x") for _ in range(3))
    update(sim, processing, "Processing", Progress=0.5)
    update(sim, done, "Processed")
    assert sim.cancel_command(pending)["State"] == "Cancelled"
    status, body = call(sim, f"/_sim/commands/{processing}/cancel", {})
    assert status == 200 and body["State"] == "Cancelled" and body["History"][-1]["Notes"]
    status, body = call(sim, f"/_sim/commands/{done}/cancel", {})
    assert status == 400 and sim.command(done)["State"] == "Processed"
    # The client's later report of a cancelled command: a different final state is refused.
    assert update(sim, processing, "Processed")[0] == 400
    assert update(sim, processing, "Cancelled")[0] == 200
    assert call(sim, "/_sim/commands/nope/cancel", {})[0] == 404
    assert call(sim, "/_sim/commands/nope", method="GET")[0] == 404


def test_list_all_commands_with_histories(sim):
    a = sim.add_printer_command(b"a")
    b = sim.add_key_cutter_command()
    update(sim, a, "Processed")
    status, body = call(sim, "/_sim/commands", method="GET")
    assert status == 200
    assert [c["Id"] for c in body["Commands"]] == [a, b]
    assert [len(c["History"]) for c in body["Commands"]] == [2, 1]


def test_admin_get_and_cancel_a_command_and_404_for_an_unknown_one(sim):
    cid = sim.add_printer_command(b"%PDF")
    status, body = call(sim, f"/_sim/commands/{cid}", method="GET")
    assert status == 200 and body["Id"] == cid and body["State"] == "Pending"
    status, body = call(sim, f"/_sim/commands/{cid}/cancel")
    assert status == 200 and sim.command(cid)["State"] == "Cancelled"
    for method, path in (("GET", "/_sim/commands/nope"), ("POST", "/_sim/commands/nope/cancel")):
        status, body = call(sim, path, method=method)
        assert status == 404 and "nope" in json.dumps(body)
