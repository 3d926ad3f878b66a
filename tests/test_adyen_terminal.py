"""The adyen driver against a terminal simulator built on Adyen's own Node library, over loopback TLS.

The simulator decrypts what we send with the library's NexoCrypto and answers with
library-built, library-encrypted messages; it counts what it charged, so every test
can say how many times the card was charged.
"""

import logging
import threading
from decimal import Decimal

import pytest

from hal.payment import Declined, NotCharged, TerminalError
from hal.payment.adyen import AdyenTerminal, KeyMismatch, NexoKey, TerminalBusy
from hal.payment.adyen.crypto import seal, unseal
from tests.adyen_harness import KEY, POI_ID, make_test_ca



@pytest.fixture
def pki(adyen_pki):
    return adyen_pki


@pytest.fixture
def sim(adyen_sim):
    return adyen_sim


def terminal(sim, pki, *, key=KEY, timeout=5.0, **kw) -> AdyenTerminal:
    return AdyenTerminal(sim.address, POI_ID, NexoKey(key["identifier"], key["version"], key["passphrase"]),
                         pki["ca"], timeout=timeout, status_timeout=2.0, settle_time=kw.pop("settle_time", 5.0),
                         poll=0.05, **kw)


def charges(sim, reference):
    return sim.state()["charges"].get(reference, [])


def test_seal_unseal_round_trip_and_a_wrong_passphrase_is_a_key_mismatch():
    key = NexoKey("k", 1, "right")
    message = {"SaleToPOIRequest": {"MessageHeader": {"MessageCategory": "Diagnosis"}, "DiagnosisRequest": {}}}
    secured = seal(message, key)["SaleToPOIRequest"]
    assert "Diagnosis" not in secured["NexoBlob"]
    assert unseal(secured, key) == message
    with pytest.raises(KeyMismatch):
        unseal(secured, NexoKey("k", 1, "wrong"))


def test_approved_charge_records_what_the_terminal_approved_and_only_the_masked_card(sim, pki):
    approval = terminal(sim, pki).charge(Decimal("12.50"), "EUR", "T-approve")
    assert (approval.amount, approval.currency, approval.card_type) == (Decimal("12.50"), "EUR", "Visa")
    assert approval.obfuscated_number == "411111******1111" and approval.expiration == "12/2030"
    assert approval.holder_name == "A CARDHOLDER" and "CARDHOLDER" not in repr(approval)
    assert [c["amount"] for c in charges(sim, "T-approve")] == [12.5]


def test_declined_and_busy_charge_nothing(sim, pki):
    t = terminal(sim, pki)
    sim.set_mode("decline")
    with pytest.raises(Declined):
        t.charge(Decimal("20.00"), "EUR", "T-decline")
    sim.set_mode("busy")
    with pytest.raises(TerminalBusy):
        t.charge(Decimal("20.00"), "EUR", "T-busy")
    assert charges(sim, "T-decline") == charges(sim, "T-busy") == []


def test_part_approval_is_recorded_as_approved(sim, pki):
    sim.set_mode("partial", partial_amount=10)
    approval = terminal(sim, pki).charge(Decimal("25.00"), "EUR", "T-partial")
    assert approval.amount == Decimal("10.00")


def test_lost_answer_is_settled_by_transaction_status_never_sent_twice(sim, pki, caplog):
    before = sim.state()["requests"]
    sim.set_mode("lose", holder="Zuzana Lostreply")
    with caplog.at_level(logging.DEBUG):
        approval = terminal(sim, pki).charge(Decimal("30.00"), "EUR", "T-lose")
    assert approval.amount == Decimal("30.00") and approval.holder_name == "Zuzana Lostreply"
    assert sim.state()["requests"] == before + 1  # one Payment: the rest was TransactionStatus
    assert len(charges(sim, "T-lose")) == 1
    assert "Lostreply" not in caplog.text and "answer lost" in caplog.text


def test_timeout_then_abort_ends_not_charged(sim, pki):
    sim.set_mode("timeout")
    with pytest.raises(NotCharged):
        terminal(sim, pki, timeout=0.3).charge(Decimal("40.00"), "EUR", "T-timeout")
    assert charges(sim, "T-timeout") == []


def test_approved_after_abort_is_found_and_returned(sim, pki):
    sim.set_mode("late")
    approval = terminal(sim, pki, timeout=0.3).charge(Decimal("41.00"), "EUR", "T-late")
    assert approval.amount == Decimal("41.00")
    assert len(charges(sim, "T-late")) == 1


def test_the_guest_cancels_a_charge_in_progress(sim, pki):
    t = terminal(sim, pki)
    sim.set_mode("slow")
    threading.Timer(0.3, t.abort).start()
    with pytest.raises(NotCharged):
        t.charge(Decimal("42.00"), "EUR", "T-cancel")
    assert charges(sim, "T-cancel") == []


def test_status_after_a_restart_knows_the_payment_by_reference(sim, pki):
    terminal(sim, pki).charge(Decimal("43.00"), "EUR", "T-restart")
    fresh = terminal(sim, pki)  # a new process: nothing in memory
    assert fresh.status("T-restart").amount == Decimal("43.00")
    assert fresh.status("T-never-sent") is None


def test_preauthorisation_cancel_and_refund(sim, pki):
    t = terminal(sim, pki)
    held = t.preauthorize(Decimal("100.00"), "EUR", "T-preauth")
    assert charges(sim, "T-preauth")[0]["kind"] == "preauth"
    t.cancel_preauthorization(held)
    assert charges(sim, "T-preauth")[0]["reversed"] is True
    with pytest.raises(TerminalError):
        t.cancel_preauthorization(held)  # the terminal refuses a second reversal
    sale = t.charge(Decimal("15.00"), "EUR", "T-refund")
    t.refund(sale)
    assert charges(sim, "T-refund")[0]["reversed"] is True


def test_a_wrong_key_is_refused_and_nothing_is_charged(sim, pki):
    wrong = {**KEY, "passphrase": "not-the-passphrase"}
    with pytest.raises(TerminalError) as e:
        terminal(sim, pki, key=wrong).charge(Decimal("5.00"), "EUR", "T-wrong-key")
    assert "key" in str(e.value) and "not-the-passphrase" not in str(e.value)
    assert charges(sim, "T-wrong-key") == []


def test_tls_is_checked_against_ca_file_and_the_poi_id(sim, pki, tmp_path):
    other = make_test_ca(tmp_path / "other")
    stranger = AdyenTerminal(sim.address, POI_ID, NexoKey(KEY["identifier"], 1, KEY["passphrase"]), other["ca"],
                             status_timeout=2.0)
    with pytest.raises(TerminalError, match="ca_file"):
        stranger.diagnose()
    renamed = AdyenTerminal(sim.address, "P400Plus-999999999", NexoKey(KEY["identifier"], 1, KEY["passphrase"]),
                            pki["ca"], status_timeout=2.0)
    with pytest.raises(TerminalError, match="poi_id"):
        renamed.diagnose()
    assert terminal(sim, pki).diagnose() == "OK"


def test_an_unreachable_terminal_charges_nothing_and_says_so(pki):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = AdyenTerminal(f"127.0.0.1:{port}", POI_ID, NexoKey("k", 1, "p"), pki["ca"], status_timeout=1.0)
    with pytest.raises(TerminalError, match="not reachable"):
        t.charge(Decimal("1.00"), "EUR", "T-unreachable")


def test_card_data_from_either_additional_response_form_and_never_more_than_a_masked_pan():
    import base64
    import json

    from hal.payment.adyen import nexo

    def body(additional, pan="4111111111111111"):
        return {"Response": {"Result": "Success", "AdditionalResponse": additional},
                "POIData": {"POITransactionID": {"TransactionID": "T1"}},
                "PaymentResult": {"AmountsResp": {"AuthorizedAmount": 9.5, "Currency": "eur"},
                                  "PaymentInstrumentData": {"CardData": {"PaymentBrand": "mc", "MaskedPan": pan}}}}

    as_json = base64.b64encode(json.dumps({"additionalData": {"cardHolderName": "Jana Json",
                                                              "expiryDate": "3/2031"}}).encode()).decode()
    a = nexo.approval("R", body(as_json))
    assert (a.holder_name, a.expiration, a.card_type, a.currency) == ("Jana Json", "03/2031", "MasterCard", "EUR")
    assert a.obfuscated_number == "411111******1111"  # a terminal that sent the whole number: masked here
    b = nexo.approval("R", body("cardHolderName=Udo%20Url&expiryDate=12%2F2030", pan="541333 **** 4444"))
    assert (b.holder_name, b.expiration, b.obfuscated_number) == ("Udo Url", "12/2030", "541333****4444")
