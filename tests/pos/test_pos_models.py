"""ConcertPOS wire models, records, error mapping and local parameter checks (no network)."""

import json
from decimal import Decimal

import pytest

from agent.pos import errors
from agent.pos.client import COMMANDS, check_parameters
from agent.pos.models import (BroadcastMessage, CommandMessage, Deposit, ErrorMessage, EventMessage, License,
                              PaymentMethod, PointOfSale, Product, Transaction, parse_message, records)


def test_four_models_parse():
    ev = parse_message('{"type":"event","result":{"event":"version","parameters":{"Version":"1.0.1"}}}')
    assert ev == EventMessage("version", {"Version": "1.0.1"})
    er = parse_message('{"type":"error","result":{"error":"api_key_mismatch","code":6}}')
    assert er == ErrorMessage("api_key_mismatch", 6)
    bc = parse_message('{"type":"broadcast","result":{"message":"updatepos","parameters":{}}}')
    assert bc == BroadcastMessage("updatepos", {})
    cm = parse_message('{"type":"command","command":"some_server_response","result":"some_result"}')
    assert cm == CommandMessage("some_server_response", "some_result")


@pytest.mark.parametrize("frame", ["not json", "[1,2]", '{"type":"event"}', '{"type":"event","result":{}}',
                                   '{"type":"nope","result":{"event":"x"}}', b"\xff\xfe"])
def test_malformed_frames_raise_invalid_reply(frame):
    with pytest.raises(errors.InvalidReply):
        parse_message(frame)


def test_missing_parameters_object_is_empty():
    assert parse_message('{"type":"event","result":{"event":"payitem"}}') == EventMessage("payitem", {})


@pytest.mark.parametrize("name, cls", [
    ("invalid_json", errors.InvalidJson), ("invalid_json5", errors.InvalidJson5),
    ("missing_parameter_api", errors.MissingParameter), ("invalid_instance", errors.InvalidInstance),
    ("no_api_key", errors.NoApiKey), ("api_key_mismatch", errors.ApiKeyMismatch),
    ("invalid_password", errors.InvalidPassword), ("getlicense", errors.LicenseInvalid),
])
def test_every_error_code_maps_to_a_class_with_a_clear_message(name, cls):
    e = errors.from_reply(name, 5)
    assert type(e) is cls and e.error == name and e.code == 5
    assert name in str(e) and len(str(e)) > len(name) + 20  # says what to do, not just the code


def test_ratelimit_code_object_in_milliseconds():
    e = errors.from_reply("ratelimit", {"command": "version", "retry_after": 2500})
    assert isinstance(e, errors.PosRateLimited) and e.retryable
    assert e.command == "version" and e.retry_after == 2.5
    assert "version" in str(e) and "2.5 s" in str(e)
    odd = errors.from_reply("ratelimit", 7)  # a number where the object belongs: no crash
    assert odd.retry_after is None and odd.command == ""


def test_unknown_error_keeps_its_name():
    e = errors.from_reply("brand_new_error", 42)
    assert type(e) is errors.GatewayError and "brand_new_error" in str(e) and "42" in str(e)


def test_records_keep_unknown_fields():
    p = Product.from_wire({"ID": 3, "ProductName": "Beer", "Price": 4.5, "Deposit": True, "CrewBlocked": "0",
                           "Colour": "gold"})
    assert (p.id, p.name, p.price, p.deposit, p.crew_blocked) == (3, "Beer", Decimal("4.5"), True, False)
    assert p.raw["Colour"] == "gold"
    m = PaymentMethod.from_wire({"ID": 2, "Payment": "Card", "color": "#00f"})
    assert (m.id, m.name, m.color) == (2, "Card", "#00f")
    assert Deposit.from_wire({"Price": 1.5}).price == Decimal("1.5")
    assert Deposit.from_wire(2).price == Decimal(2)
    pos = PointOfSale.from_wire({"ID": 2, "PointOfSale": "Bar", "enabled": 1, "password": True})
    assert (pos.id, pos.name, pos.enabled, pos.has_password) == (2, "Bar", True, True)


def test_license_active_flag_and_key_hidden():
    assert License.from_wire({"Active": "0"}).active is False
    lic = License.from_wire({"Active": "1", "LicenseKey": "ABCD-EFGH-IJKL-MNOP", "Name": "Venue"})
    assert lic.active and lic.name == "Venue"
    assert "ABCD" not in json.dumps(lic.public()) and lic.public()["LicenseKey"].endswith("MNOP")


def test_transaction_from_the_spec_example():
    t = Transaction.from_wire({"ID": 9215, "Payment_ID": 1, "PointOfSaleID": 1, "Product_ID": 1, "AmountProduct": 1,
                               "AmountMoney": 18, "timestamp": "2020-05-13T15:27:02.000Z", "hash": "2ac3", "Note": None})
    assert (t.id, t.payment_id, t.pos_id, t.product_id, t.amount_product) == (9215, 1, 1, 1, 1)
    assert t.amount_money == Decimal(18) and t.timestamp.isoformat() == "2020-05-13T15:27:02+00:00"
    assert Transaction.from_wire({"ID": 1, "timestamp": "garbage"}).timestamp is None


def test_records_need_their_list():
    with pytest.raises(errors.InvalidReply):
        records({}, "Products", Product)
    assert records({"Products": [{"ID": 1}, "junk"]}, "Products", Product)[0].id == 1


@pytest.mark.parametrize("command, params, problem", [
    ("listproducts", {}, "POSID"),
    ("listpm", {"POSID": None}, "POSID"),
    ("listtransactions", {}, "POSID"),
    ("registerdevice", {}, "UUID"),
    ("payitems", {"POSID": 1, "PaymentMethod": 1}, "Products"),
    ("payitems", {"POSID": 1, "Products": [{"ID": 1, "Amount": 1}]}, "PaymentMethod"),
    ("payitems", {"POSID": 1, "PaymentMethod": 1, "Products": []}, "Products"),
    ("payitems", {"POSID": 1, "PaymentMethod": 1, "Products": [{"ID": 1, "Amount": 0}]}, "Amount"),
    ("payitems", {"POSID": 1, "PaymentMethod": 1, "Products": [{"ID": "x", "Amount": 1}]}, "ID"),
    ("listproducts", {"POSID": "1"}, "POSID"),
    ("listproducts", {"POSID": -1}, "POSID"),
    ("frobnicate", {}, "unknown"),
])
def test_required_parameters_checked_locally(command, params, problem):
    with pytest.raises(errors.InvalidRequest, match=problem):
        check_parameters(command, params)


def test_all_documented_commands_known():
    for name in ("getconfig", "getdeposit", "getlicense", "listpm", "listproducts", "payitems",
                 "registerdevice", "version", "getstatus", "listtransactions", "listpos"):
        assert name in COMMANDS
    check_parameters("payitems", {"POSID": 1, "PaymentMethod": 1,
                                  "Products": [{"ID": 1, "Amount": 0}, {"ID": 2, "Amount": 3}]})
