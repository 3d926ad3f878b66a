"""`kiosk-agent doctor` asks the Adyen terminal for a diagnosis: reachability, TLS and the shared key."""

import pytest

from agent.config import parse
from tests.adyen_harness import KEY, POI_ID, make_test_ca


@pytest.fixture
def pki(adyen_pki):
    return adyen_pki


@pytest.fixture
def sim(adyen_sim):
    return adyen_sim


def cfg(address, ca, passphrase=KEY["passphrase"]):
    return parse('[mews]\nplatform_address = "http://x"\nclient_token = "c"\naccess_token = "a"\n[payment]\n'
                 f'driver = "adyen"\naddress = "{address}"\npoi_id = "{POI_ID}"\n'
                 f'key_identifier = "{KEY["identifier"]}"\nkey_version = 1\nkey_passphrase = "{passphrase}"\n'
                 f'ca_file = "{ca}"\ntimeout = 5.0\n')


def test_doctor_payment_check(sim, pki, tmp_path):
    from agent.devices.payment.doctor import check_payment

    ok = check_payment(cfg(sim.address, pki["ca"]))
    assert ok.status == "OK" and POI_ID in ok.detail
    wrong_key = check_payment(cfg(sim.address, pki["ca"], passphrase="wrong-passphrase-x"))
    assert wrong_key.status == "FAIL" and "key_passphrase" in wrong_key.fix
    assert "wrong-passphrase-x" not in wrong_key.line()
    other = make_test_ca(tmp_path / "other")
    wrong_ca = check_payment(cfg(sim.address, other["ca"]))
    assert wrong_ca.status == "FAIL" and "ca_file" in wrong_ca.fix
    gone = check_payment(cfg("127.0.0.1:9", pki["ca"]))
    assert gone.status == "FAIL" and "network" in gone.fix
    assert check_payment(parse('[mews]\nplatform_address = "http://x"\nclient_token = "c"\naccess_token = "a"\n')) \
        .status == "SKIP"
