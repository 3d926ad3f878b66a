"""Mews simulator, REST side: auth, seeded data and the platform's business rules, over loopback HTTP."""

from __future__ import annotations

import http.client
import json

import pytest

from sim.mews import DEMO_CONNECTOR_TOKEN, MewsSimulator

ALL_STATES = ["Enquired", "Requested", "Optional", "Confirmed", "Started", "Processed", "Canceled"]
WIDE = {"StartUtc": "2000-01-01T00:00:00Z", "EndUtc": "2100-01-01T00:00:00Z"}


@pytest.fixture
def sim():
    with MewsSimulator(generation="seed") as s:
        yield s


def call(sim, path, body=None, raw=None, method="POST"):
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(payload) if payload else None


def api(sim, op, token=DEMO_CONNECTOR_TOKEN, **fields):
    status, _, body = call(sim, "/api/connector/v1/" + op, {"AccessToken": token, **fields})
    return status, body


def ok(sim, op, **fields):
    status, body = api(sim, op, **fields)
    assert status == 200, body
    return body


def reservation(sim, number):
    found = ok(sim, "reservations/getAll", States=ALL_STATES, **WIDE)["Reservations"]
    return next(r for r in found if r["Number"] == number)


def space(sim, space_id):
    return next(s for s in ok(sim, "spaces/getAll")["Spaces"] if s["Id"] == space_id)


# ---- auth


def test_sign_in_returns_token_and_enterprise_and_displaces_previous(sim):
    status, headers, first = call(sim, "/api/connector/v1/app/signIn",
                                  {"ConnectorToken": DEMO_CONNECTOR_TOKEN, "ClientToken": "ct", "Client": "Test 1.0"})
    assert status == 200 and headers.get("request-id")
    assert first["Enterprise"]["Name"] and first["Enterprise"]["Id"]
    token1 = first["AccessToken"]
    assert token1 != DEMO_CONNECTOR_TOKEN
    assert api(sim, "spaces/getAll", token=token1)[0] == 200
    _, _, second = call(sim, "/api/connector/v1/app/signIn", {"ConnectorToken": DEMO_CONNECTOR_TOKEN})
    assert second["AccessToken"] != token1
    status, body = api(sim, "spaces/getAll", token=token1)
    assert status == 401 and body["Message"] and body["RequestId"]
    assert api(sim, "spaces/getAll", token=second["AccessToken"])[0] == 200
    # Without session management the connector token itself stays usable.
    assert api(sim, "spaces/getAll")[0] == 200
    assert sim.last_client is not None


@pytest.mark.parametrize("body", [{"ConnectorToken": "wrong"}, {}])
def test_sign_in_with_a_bad_connector_token_is_401(sim, body):
    status, headers, answer = call(sim, "/api/connector/v1/app/signIn", body)
    assert status == 401
    assert answer["RequestId"] == headers["request-id"] and answer["Message"]


@pytest.mark.parametrize("token", ["nope", "", None, 42])
def test_invalid_or_missing_access_token_is_401(sim, token):
    status, body = api(sim, "spaces/getAll", token=token)
    assert status == 401 and "AccessToken" in body["Message"]


def test_earlier_spec_connector_token_field_is_accepted_for_get_balance(sim):
    customer = reservation(sim, "1002")["Customer"]["Id"]
    status, _, body = call(sim, "/api/connector/v1/customers/getBalance",
                           {"ConnectorToken": DEMO_CONNECTOR_TOKEN, "CustomerId": customer})
    assert status == 200 and body["Value"] == 360


def test_custom_connector_token():
    with MewsSimulator(generation="seed", connector_token="my-token") as s:
        assert api(s, "spaces/getAll")[0] == 401
        assert api(s, "spaces/getAll", token="my-token")[0] == 200


# ---- envelope and validation


def test_unknown_paths_are_404_with_message_and_request_id(sim):
    for path in ("/api/connector/v1/spaces/getSome", "/elsewhere"):
        status, headers, body = call(sim, path, {"AccessToken": DEMO_CONNECTOR_TOKEN})
        assert status == 404 and body["RequestId"] == headers["request-id"] and body["Message"]


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b"\xff\xfe", b"null", b"[" * 100000])
def test_malformed_body_is_400_with_message(sim, raw):
    status, headers, body = call(sim, "/api/connector/v1/spaces/getAll", raw=raw)
    assert status == 400 and body["Message"] and body["RequestId"] == headers["request-id"]


@pytest.mark.parametrize("op, fields, word", [
    ("reservations/getAll", {"StartUtc": "2020-01-01T00:00:00Z"}, "EndUtc"),
    ("reservations/getAll", {"StartUtc": 5, "EndUtc": "2020-01-01T00:00:00Z"}, "StartUtc"),
    ("reservations/getAll", {"StartUtc": "yesterday", "EndUtc": "2020-01-01T00:00:00Z"}, "StartUtc"),
    ("reservations/getAll", {**WIDE, "States": ["Sleeping"]}, "Sleeping"),
    ("reservations/getAll", {**WIDE, "States": "Confirmed"}, "States"),
    ("reservations/start", {}, "ReservationId"),
    ("reservations/start", {"ReservationId": "00000000-0000-0000-0000-000000000000"}, "ReservationId"),
    ("reservations/cancel", {"ReservationId": "x", "Notes": "n"}, "ChargeCancellationFee"),
    ("reservations/cancel", {"ReservationId": "x", "ChargeCancellationFee": "yes", "Notes": "n"}, "ChargeCancellationFee"),
    ("customers/getBalance", {"CustomerId": "unknown"}, "CustomerId"),
    ("customers/getOpenItems", {"CustomerIds": ["unknown"]}, "CustomerId"),
    ("customers/getOpenItems", {"CustomerIds": [1]}, "CustomerIds"),
    ("customers/update", {"CustomerId": "unknown", "LastName": "X"}, "CustomerId"),
    ("tasks/add", {"Name": "Fix lamp"}, "DeadlineUtc"),
    ("tasks/add", {"Name": "Fix lamp", "DeadlineUtc": "2030-01-01T10:00:00Z", "DepartmentId": "nope"}, "DepartmentId"),
    ("commands/update", {"CommandId": "unknown", "State": "Received"}, "CommandId"),
])
def test_missing_fields_wrong_types_and_unknown_ids_are_400(sim, op, fields, word):
    status, body = api(sim, op, **fields)
    assert status == 400, body
    assert word in body["Message"]


def test_get_on_an_operation_is_refused_with_json(sim):
    status, headers, body = call(sim, "/api/connector/v1/spaces/getAll", method="GET")
    assert status in (404, 405) and body["Message"] and headers["request-id"]


# ---- seeded enterprise


def test_spaces_in_every_state_with_categories(sim):
    body = ok(sim, "spaces/getAll")
    states = {s["State"] for s in body["Spaces"]}
    assert states == {"Dirty", "Clean", "Inspected", "OutOfService", "OutOfOrder"}
    category_ids = {c["Id"] for c in body["SpaceCategories"]}
    assert all(s["CategoryId"] in category_ids for s in body["Spaces"])
    assert any(s["ParentSpaceId"] for s in body["Spaces"])


def test_resources_alias_uses_newer_names(sim):
    spaces = ok(sim, "spaces/getAll")["Spaces"]
    body = ok(sim, "resources/getAll")
    assert [r["Id"] for r in body["Resources"]] == [s["Id"] for s in spaces]
    assert body["ResourceCategories"] and "ResourceCategoryId" in body["Resources"][0]


def test_reservations_default_states_and_every_state_seeded(sim):
    default = ok(sim, "reservations/getAll", **WIDE)
    assert {r["State"] for r in default["Reservations"]} == {"Confirmed", "Started", "Processed"}
    everything = ok(sim, "reservations/getAll", States=ALL_STATES, **WIDE)["Reservations"]
    assert {r["State"] for r in everything} == set(ALL_STATES)
    groups = {g["Id"] for g in default["ReservationGroups"]}
    assert {r["GroupId"] for r in default["Reservations"]} == groups
    r = reservation(sim, "1001")
    assert r["AssignedSpaceId"] == r["AssignedResourceId"]
    assert r["Customer"]["LastName"] and r["Companions"] and "Address" in r["Customer"]


def test_reservations_filtered_by_interval_collision(sim):
    r = reservation(sim, "1004")  # arrives tomorrow
    # An interval ending exactly at the arrival does not collide; one reaching past it does.
    before = ok(sim, "reservations/getAll", StartUtc="2000-01-01T00:00:00Z", EndUtc=r["StartUtc"])
    assert r["Id"] not in {x["Id"] for x in before["Reservations"]}
    inside = ok(sim, "reservations/getAll", StartUtc=r["StartUtc"], EndUtc=r["StartUtc"].replace("Z", "+00:00"))
    assert r["Id"] not in {x["Id"] for x in inside["Reservations"]}
    during = ok(sim, "reservations/getAll", StartUtc=r["StartUtc"], EndUtc=r["EndUtc"])
    assert r["Id"] in {x["Id"] for x in during["Reservations"]}
    status, body = api(sim, "reservations/getAll", StartUtc=r["EndUtc"], EndUtc=r["StartUtc"])
    assert status == 400


# ---- business rules


def test_start_confirmed_arrived_inspected_reservation(sim):
    r = reservation(sim, "1001")
    assert r["State"] == "Confirmed" and space(sim, r["AssignedSpaceId"])["State"] == "Inspected"
    assert ok(sim, "reservations/start", ReservationId=r["Id"]) == {}
    assert reservation(sim, "1001")["State"] == "Started"
    status, body = api(sim, "reservations/start", ReservationId=r["Id"])
    assert status == 403 and "checked in" in body["Message"]


@pytest.mark.parametrize("number, word", [("1003", "inspected"), ("1004", "arrival"), ("1005", "no room"),
                                          ("1006", "checked in"), ("1010", "not confirmed")])
def test_start_refused_with_a_message_for_the_guest(sim, number, word):
    r = reservation(sim, number)
    status, body = api(sim, "reservations/start", ReservationId=r["Id"])
    assert status == 403 and word in body["Message"]
    assert reservation(sim, number)["State"] == r["State"]


def test_start_succeeds_once_the_room_is_inspected(sim):
    r = reservation(sim, "1003")
    sim.set_space_state(r["AssignedSpaceId"], "Inspected")
    assert ok(sim, "reservations/start", ReservationId=r["Id"]) == {}


def test_process_needs_started_and_zero_balance(sim):
    settled = reservation(sim, "1006")
    assert ok(sim, "reservations/process", ReservationId=settled["Id"]) == {}
    assert reservation(sim, "1006")["State"] == "Processed"
    assert space(sim, settled["AssignedSpaceId"])["State"] == "Dirty"
    owing = reservation(sim, "1007")
    status, body = api(sim, "reservations/process", ReservationId=owing["Id"])
    assert status == 403 and "95.50" in body["Message"]
    status, body = api(sim, "reservations/process", ReservationId=reservation(sim, "1001")["Id"])
    assert status == 403 and "not checked in" in body["Message"]


def card(number="411111******1111", **over):
    return {"Type": "Visa", "Number": number, "Expiration": "12/2030", "Name": "Fatima Khan", **over}


def test_card_payment_settles_the_bill_then_checkout_succeeds(sim):
    r = reservation(sim, "1007")
    customer = r["Customer"]["Id"]
    assert ok(sim, "customers/getBalance", CustomerId=customer)["Value"] == 95.5
    balance = ok(sim, "payments/addCreditCard", CustomerId=customer, Amount={"Currency": "GBP", "Value": 95.5},
                 CreditCard=card(), Category={"Code": "CCP"}, ReceiptIdentifier="R1", Notes="Kiosk")
    assert balance == {"Currency": "GBP", "Tax": None, "TaxRate": None, "Value": 0.0}
    items = ok(sim, "customers/getOpenItems", CustomerIds=[customer])["Customers"][0]["Items"]
    assert items[-1]["Amount"]["Value"] == -95.5 and "Visa" in items[-1]["Name"]
    assert round(sum(i["Amount"]["Value"] for i in items), 2) == 0
    assert ok(sim, "reservations/process", ReservationId=r["Id"]) == {}


def test_card_payment_in_another_currency_is_converted(sim):
    customer = reservation(sim, "1002")["Customer"]["Id"]
    balance = ok(sim, "payments/addCreditCard", CustomerId=customer, Amount={"Currency": "EUR", "Value": 100},
                 CreditCard=card("1111"))
    assert balance["Currency"] == "GBP" and balance["Value"] == 275.0


@pytest.mark.parametrize("number", ["4111111111111111", "4111111*11111111", "4111111****1111", "12345", "4111-11**-**11-1x"])
def test_card_number_not_obfuscated_is_400_without_echoing_it(sim, number):
    customer = reservation(sim, "1002")["Customer"]["Id"]
    status, body = api(sim, "payments/addCreditCard", CustomerId=customer,
                       Amount={"Currency": "GBP", "Value": 10}, CreditCard=card(number))
    assert status == 400 and "obfuscated" in body["Message"]
    assert number not in body["Message"]
    assert ok(sim, "customers/getBalance", CustomerId=customer)["Value"] == 360


@pytest.mark.parametrize("over, word", [({"Amount": {"Currency": "JPY", "Value": 10}}, "Currency"),
                                        ({"Amount": {"Currency": "GBP", "Value": -5}}, "Value"),
                                        ({"Amount": {"Currency": "GBP", "Value": "10"}}, "Value"),
                                        ({"CreditCard": card(Type="Bank")}, "Type"),
                                        ({"CreditCard": card(Expiration="2030-12")}, "Expiration"),
                                        ({"CreditCard": None}, "CreditCard")])
def test_card_payment_validation(sim, over, word):
    customer = reservation(sim, "1002")["Customer"]["Id"]
    body = {"CustomerId": customer, "Amount": {"Currency": "GBP", "Value": 10}, "CreditCard": card(), **over}
    status, answer = api(sim, "payments/addCreditCard", **body)
    assert status == 400 and word in answer["Message"]


def test_cancel_only_cancellable_and_fee_charged(sim):
    for number in ("1010", "1011", "1012"):
        r = reservation(sim, number)
        assert ok(sim, "reservations/cancel", ReservationId=r["Id"], ChargeCancellationFee=False, Notes="") == {}
        assert reservation(sim, number)["State"] == "Canceled"
    r = reservation(sim, "1004")
    ok(sim, "reservations/cancel", ReservationId=r["Id"], ChargeCancellationFee=True, Notes="Guest called")
    assert ok(sim, "customers/getBalance", CustomerId=r["Customer"]["Id"])["Value"] == 25
    for number in ("1006", "1008", "1009"):
        status, body = api(sim, "reservations/cancel", ReservationId=reservation(sim, number)["Id"],
                           ChargeCancellationFee=False, Notes="x")
        assert status == 403 and "cannot be canceled" in body["Message"]


def test_customer_update_replaces_all_fields(sim):
    before = reservation(sim, "1001")["Customer"]
    assert before["Email"] and before["Phone"] and before["BirthDateUtc"]
    updated = ok(sim, "customers/update", CustomerId=before["Id"], LastName="Walker-Smith", FirstName="Alice",
                 Passport={"Number": "X1", "ExpirationUtc": "2031-01-01T12:00:00Z"})
    assert updated["LastName"] == "Walker-Smith" and updated["Passport"]["Number"] == "X1"
    assert updated["Phone"] is None and updated["BirthDateUtc"] is None and updated["NationalityCode"] is None
    assert updated["Email"] == before["Email"]  # not an updatable field
    assert reservation(sim, "1001")["Customer"] == updated


@pytest.mark.parametrize("fields", [{"LastName": None}, {"LastName": "X", "NationalityCode": "GBR"},
                                    {"LastName": "X", "BirthDateUtc": "12/01/1990"},
                                    {"LastName": "X", "Passport": "P123"}])
def test_customer_update_validation(sim, fields):
    customer = reservation(sim, "1001")["Customer"]
    status, body = api(sim, "customers/update", CustomerId=customer["Id"], **fields)
    assert status == 400 and body["Message"]
    assert reservation(sim, "1001")["Customer"] == customer


def test_add_task(sim):
    assert ok(sim, "tasks/add", Name="Printer out of paper", Description="Kiosk 1",
              DeadlineUtc="2030-01-01T14:00:00Z", DepartmentId=None) == {}
    status, _, body = call(sim, "/_sim/tasks", method="GET")
    assert status == 200 and body["Tasks"][0]["Name"] == "Printer out of paper"


def test_request_count(sim):
    ok(sim, "spaces/getAll")
    api(sim, "spaces/getAll", token="bad")
    call(sim, "/_sim/faults", method="GET")
    assert sim.request_count("spaces/getAll") == 2
    assert sim.request_count("/api/connector/v1/spaces/getAll") == 2
    assert sim.request_count() == 2
