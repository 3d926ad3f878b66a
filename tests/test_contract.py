"""Contract test (issue 22 item 5): what the client sends and what the simulator answers, against the
published Connector API (tests/contract/mews-openapi/*.yml, jsonschema as the validator).

One rig in today's generation: every CLI operation, a kiosk check-in with a changed address, a
passport and a card payment, a check-out, a printer and a key command. Each request and answer the
simulator saw is validated; a violation names the operation, the JSON path and the rule. The schema
noise is listed once, with why, in tests/contract/openapi.py (NOISE).
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout

import pytest

from agent import cli
from agent.kiosk.checkin import CheckIn
from agent.kiosk.checkout import CheckOut
from agent.mews.operations import CURRENT_OPERATIONS, RETIRED
from tests.contract.openapi import NOISE, Contract
from tests.kiosk_harness import Rig, run

CARD = {"Type": "Visa", "Number": "411111******1111", "Expiration": "12/2030", "Name": "Jane Doe"}


@pytest.fixture(scope="module")
def contract():
    return Contract()


def violations(contract: Contract, exchanges: list[dict]) -> list[str]:
    out = []
    for x in exchanges:
        if x["request"] is not None:
            out += contract.check_request(x["operation"], x["request"])
        out += contract.check_answer(x["operation"], x["status"], x["answer"])
    return out


def test_the_published_examples_pass_but_for_the_listed_noise(contract):
    """The validator itself: the files' own examples pass, except the two printer examples NOISE names."""
    found = []
    for op, what, example, _ in contract.examples:
        found += (contract.check_request(op, example) if what == "request"
                  else contract.check_answer(op, int(what.split()[1]), example))
    assert found and all("PrinterDriverName" in v or "PrinterPortName" in v for v in found), found
    assert "example PrinterDriverName/PrinterPortName ''" in NOISE


def test_a_violation_names_operation_path_and_rule(contract):
    body = {"ClientToken": "c", "AccessToken": "a", "Client": "k 1", "ReservationId": "not-a-uuid",
            "ChargeCancellationFee": True}
    found = contract.check_request("reservations/cancel", body)
    assert "reservations/cancel: request: (body): required: 'ReservationIds' is a required property" in found
    assert any(v.startswith("reservations/cancel: request: (body): additionalProperties:") for v in found)
    assert any(v.startswith("reservations/cancel: request: ReservationId: format:") for v in found)


def test_the_client_uses_only_published_operations(contract):
    assert set(CURRENT_OPERATIONS) <= contract.operations()
    assert not set(RETIRED) & set(CURRENT_OPERATIONS)


def _cli(config: str, operation: str, body: dict | None = None) -> tuple[int, dict | str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["mews", operation, "--config", config] + (["--json", json.dumps(body)] if body is not None else [])
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    return code, (json.loads(out.getvalue()) if code == 0 else err.getvalue())


def test_todays_traffic_conforms_to_the_published_contract(tmp_path, contract):
    rig = Rig(tmp_path, kiosk_extra="ask_passport = true")
    try:
        sim, ent = rig.sim, rig.ent
        # -- a kiosk check-in: changed address, a passport, a balance paid on the terminal
        s = CheckIn(rig.ctx)
        screen = run(s, "find", number="1002", last_name="FERNANDEZ")
        assert screen["screen"] == "details", screen
        screen = run(s, "confirm", address={"line1": "1 New Street", "city": "Leeds", "postal_code": "LS1 1AA",
                                            "country": "GB"},
                     passport_number="X1234567", passport_expiry="2031-05-01")
        assert screen["screen"] == "payment", screen
        screen = run(s, "pay")
        assert screen["screen"] == "keys", screen
        screen = run(s, "keys", count=1)
        assert screen["screen"] == "done", screen
        guest = ent.customers[rig.reservation("1002")["CustomerId"]]
        assert guest["Address"]["City"] == "Leeds" and guest["Documents"][0]["Number"] == "X1234567"
        # -- a check-out
        s = CheckOut(rig.ctx)
        screen = run(s, "find", number="1006", last_name="o'neill")
        assert screen["screen"] == "bill", screen
        assert run(s, "checkout")["screen"] == "goodbye"
        # -- a printer and a key command, as the agent takes and reports them
        printed = sim.add_printer_command(b"%PDF-1.4 test")
        keyed = sim.add_key_cutter_command(key_count=1)
        client = rig.client
        assert {c.id for c in client.get_all_active_commands()} >= {printed, keyed}
        assert {c.id for c in client.get_commands_by_ids([printed, keyed])} == {printed, keyed}
        for cid in (printed, keyed):
            client.update_command(cid, "Received")
            client.update_command(cid, "Processing", progress=50.0)
            client.update_command(cid, "Processed")
        # -- every CLI operation of today's generation
        config = str(tmp_path / "config.toml")
        customer = rig.reservation("1001")["CustomerId"]
        code, services = _cli(config, "services/getAll", {"Limitation": {"Count": 10}})
        service = services["Services"][0]["Id"]
        code, categories = _cli(config, "resourceCategories/getAll",
                                {"ServiceIds": [service], "Limitation": {"Count": 100}})
        code, added = _cli(config, "identityDocuments/add", {"IdentityDocuments": [
            {"CustomerId": customer, "Type": "Passport", "Number": "P7654321", "ExpirationDate": "2030-01-31"}]})
        calls = {
            "resources/getAll": {"Extent": {"Resources": True}, "Limitation": {"Count": 100}},
            "resourceCategoryAssignments/getAll": {"ResourceCategoryIds": [categories["ResourceCategories"][0]["Id"]],
                                                   "Limitation": {"Count": 100}},
            "reservations/getAll/2023-06-06": {"Numbers": ["1001"], "States": ["Inquired", "Confirmed"],
                                               "Limitation": {"Count": 10}},
            "reservations/start": {"ReservationId": rig.reservation("1001")["Id"]},
            "reservations/process": {"ReservationId": rig.reservation("1001")["Id"], "AllowOpenBalance": True},
            "reservations/cancel": {"ReservationIds": [rig.reservation("1012")["Id"]], "PostCancellationFee": False,
                                    "Notes": "contract test"},
            "customers/getAll": {"CustomerIds": [customer], "Extent": {"Customers": True}, "Limitation": {"Count": 5}},
            "customers/update": {"CustomerId": customer, "Phone": "+441234567890", "BirthDate": "1986-04-12"},
            "orderItems/getAll": {"AccountIds": [customer], "AccountingStates": ["Open"], "Limitation": {"Count": 50}},
            "payments/getAll": {"AccountIds": [customer], "Limitation": {"Count": 50}},
            "payments/addExternal": {"AccountId": customer, "Amount": {"Currency": "GBP", "GrossValue": 1.5},
                                     "Type": "Cash", "Notes": "contract test"},
            "payments/addCreditCard": {"CustomerId": customer, "Amount": {"Currency": "GBP", "GrossValue": 2.0},
                                       "CreditCard": CARD},
            "identityDocuments/getAll": {"CustomerIds": [customer], "Limitation": {"Count": 10}},
            "identityDocuments/update": {"IdentityDocuments": [{"Id": added["IdentityDocuments"][0]["Id"],
                                                                "Number": {"Value": "P7654322"}}]},
            "tasks/add": {"Name": "Kiosk: contract test", "DeadlineUtc": "2030-01-01T10:00:00Z"},
            "commands/getAllActive": None,
            "commands/getAllByIds": {"CommandIds": [printed]},
            "commands/update": {"CommandId": printed, "State": "Processed"},
        }
        for operation, body in calls.items():
            code, answer = _cli(config, operation, body)
            assert code == 0, (operation, answer)
        spoken = {x["operation"] for x in sim.exchanges}
        assert set(CURRENT_OPERATIONS) <= spoken, set(CURRENT_OPERATIONS) - spoken
        assert not spoken & set(RETIRED)
        # -- the retired paths answer 404 and a missing required field 400, in the platform's error shape
        for retired in sorted(RETIRED):
            code, message = _cli(config, retired, {})
            assert code == 2 and "not an operation of" in message
        bad = [x for x in sim.exchanges if x["status"] != 200]
        assert not bad, bad
        found = violations(contract, sim.exchanges)
        assert not found, "\n".join(found)
    finally:
        rig.close()


def test_the_simulator_holds_clients_to_the_contract(tmp_path, contract):
    """Retired paths 404, a missing required field 400, both in the platform's error shape (validated)."""
    import urllib.error
    import urllib.request

    rig = Rig(tmp_path, payment=False)
    try:
        sim = rig.sim

        def post(op, body):
            data = json.dumps({"ClientToken": sim.client_token, "AccessToken": sim.access_token,
                               "Client": "contract 1.0", **body}).encode()
            request = urllib.request.Request(sim.url + "/api/connector/v1/" + op, data=data,
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=5) as r:
                    return r.status, json.load(r)
            except urllib.error.HTTPError as e:
                return e.code, json.load(e)

        for op in ("app/signIn", "spaces/getAll", "customers/getBalance", "reservations/getAll"):
            status, answer = post(op, {})
            assert status == 404 and set(answer) == {"Message", "RequestId"}, (op, answer)
        status, answer = post("resources/getAll", {"Limitation": {"Count": 5}})
        assert status == 400 and answer["Message"] == "Missing required field Extent."
        assert not contract.check_answer("resources/getAll", 400, answer)
        status, answer = post("reservations/cancel", {"ReservationId": rig.reservation("1012")["Id"],
                                                      "ChargeCancellationFee": False, "Notes": "old form"})
        assert status == 400 and "ReservationIds" in answer["Message"]
        status, answer = post("customers/update", {"CustomerId": rig.reservation("1001")["CustomerId"],
                                                   "Passport": {"Number": "X", "Expiration": "2030-01-01"}})
        assert status == 400 and "identityDocuments" in answer["Message"]
        status, answer = post("payments/addCreditCard", {"CustomerId": rig.reservation("1001")["CustomerId"],
                                                         "Amount": {"Currency": "GBP", "Value": 1.0},
                                                         "CreditCard": CARD})
        assert status == 400 and "GrossValue" in answer["Message"]
    finally:
        rig.close()
