"""`sim mews` admin addKeyCutter takes LockIds and the other KeyCutter Data fields (issue 13 item 16)."""

import pytest

from tests.sim_mews.sim_harness import api, call


def test_multi_room_key_with_chosen_fields(sim):
    status, body = call(sim, "/_sim/commands/addKeyCutter", {
        "KeyCount": 2, "LockIds": ["101", "102", "GYM"], "StartUtc": "2026-12-01T14:00:00Z",
        "EndUtc": "2026-12-03T10:00:00+00:00", "FirstName": "Ana", "LastName": "Novak", "Email": "",
        "KeyCutterData": '{"Site": 4}'})
    assert status == 200, body
    data = sim.command(body["CommandId"])["Data"]
    assert data["LockIds"] == ["101", "102", "GYM"]
    assert (data["StartUtc"], data["EndUtc"]) == ("2026-12-01T14:00:00Z", "2026-12-03T10:00:00Z")
    assert (data["FirstName"], data["LastName"], data["Email"]) == ("Ana", "Novak", "")
    assert data["KeyCutterData"] == '{"Site": 4}' and data["KeyCount"] == 2
    # the agent reads the same Data through the Connector API
    status, active = api(sim, "commands/getAllActive")
    listed = next(c for c in active["Commands"] if c["Id"] == body["CommandId"])
    assert listed["Data"]["LockIds"] == ["101", "102", "GYM"]


def test_visionline_validity_fields(sim):
    status, body = call(sim, "/_sim/commands/addKeyCutter", {
        "Type": "VisiOnlineKeyCutter", "LockIds": ["201", "202"], "ValidityEndUtc": "2027-01-01T09:00:00Z"})
    assert status == 200, body
    data = sim.command(body["CommandId"])["Data"]
    assert data["LockIds"] == ["201", "202"] and data["ValidityEndUtc"] == "2027-01-01T09:00:00Z"


@pytest.mark.parametrize("extra, word", [({"LockIds": []}, "LockIds"), ({"LockIds": "101"}, "LockIds"),
                                         ({"StartUtc": "tomorrow"}, "StartUtc"),
                                         ({"KeyCutterData": "{not json"}, "KeyCutterData")])
def test_bad_overrides_are_400(sim, extra, word):
    status, answer = call(sim, "/_sim/commands/addKeyCutter", extra)
    assert status == 400 and word in answer["Message"]
    status, body = call(sim, "/_sim/commands", method="GET")
    assert body["Commands"] == []  # nothing created
