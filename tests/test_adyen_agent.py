"""End to end: a Mews PaymentTerminal command reaches the running agent and ends Processed or Error in Mews."""

import uuid

import pytest

from sim.mews.server import MewsSimulator
from tests.adyen_harness import KEY, POI_ID
from tests.agent_harness import AgentThread, final_state, wait_until, write_config

DEVICE = "Kiosk terminal"


@pytest.fixture
def pki(adyen_pki):
    return adyen_pki


@pytest.fixture
def adyen(adyen_sim):
    return adyen_sim


def test_front_desk_payments_on_the_kiosk_terminal(tmp_path, adyen, pki):
    sim = MewsSimulator(rate_limit=False, generation="current").start()
    try:
        device_id = str(uuid.uuid4())
        with sim.enterprise.lock:
            sim.enterprise.devices[device_id] = {"Id": device_id, "Name": DEVICE, "Type": "PaymentTerminal"}
        customer = next(iter(sim.enterprise.customers))
        extra = (f'[payment]\ndriver = "adyen"\naddress = "{adyen.address}"\npoi_id = "{POI_ID}"\n'
                 f'key_identifier = "{KEY["identifier"]}"\nkey_version = 1\nkey_passphrase = "{KEY["passphrase"]}"\n'
                 f'ca_file = "{pki["ca"]}"\ntimeout = 5.0\nmews_device = "{DEVICE}"\n')
        with AgentThread(write_config(tmp_path, sim, extra=extra, mode="poll", poll_interval=0.2)):
            paid = sim.commands.add_payment_terminal(customer, "EUR", 48.5)
            wait_until(lambda: final_state(sim, paid), what="payment command final")
            adyen.set_mode("decline")
            declined = sim.commands.add_payment_terminal(customer, "EUR", 12.0, type="Preauthorization")
            wait_until(lambda: final_state(sim, declined), what="declined command final")
        assert final_state(sim, paid) == "Processed"
        assert "48.50 EUR" in sim.command(paid)["Notes"] and "411111******1111" in sim.command(paid)["Notes"]
        assert final_state(sim, declined) == "Error"
        assert "declined" in sim.command(declined)["Notes"] and "nothing was charged" in sim.command(declined)["Notes"]
        books = adyen.state()
        assert [c["amount"] for c in books["charges"][f"M{paid}"]] == [48.5]
        assert f"M{declined}" not in books["charges"]
    finally:
        sim.stop()
