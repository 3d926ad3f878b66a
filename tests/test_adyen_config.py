"""[payment] driver = "adyen": its keys, what is required, the secret kept out of repr, the driver built."""

import pytest

from agent.config import ConfigError, parse

BASE = '[mews]\nplatform_address = "http://x"\nclient_token = "c"\naccess_token = "a"\n'


def adyen_table(tmp_path, **over) -> str:
    ca = tmp_path / "terminal-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
    keys = {"driver": '"adyen"', "address": '"192.168.1.50"', "poi_id": '"P400Plus-275000001"',
            "key_identifier": '"kioskKey"', "key_version": "1", "key_passphrase": '"s3cret-passphrase"',
            "ca_file": f'"{ca}"'}
    keys.update(over)
    return BASE + "[payment]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items() if v is not None)


def test_adyen_keys_parse_and_the_passphrase_stays_secret(tmp_path):
    cfg = parse(adyen_table(tmp_path))
    p = cfg.payment
    assert (p.driver, p.address, p.poi_id, p.key_identifier, p.key_version) == (
        "adyen", "192.168.1.50", "P400Plus-275000001", "kioskKey", 1)
    assert "s3cret-passphrase" not in repr(cfg.payment)
    assert "s3cret-passphrase" in cfg.secrets()


def test_adyen_names_every_missing_key(tmp_path):
    with pytest.raises(ConfigError) as e:
        parse(adyen_table(tmp_path, poi_id=None, key_passphrase=None, ca_file=None))
    text = str(e.value)
    for key in ("payment.poi_id", "payment.key_passphrase", "payment.ca_file"):
        assert key in text
    assert "s3cret" not in text


def test_from_config_builds_the_adyen_driver(tmp_path):
    from hal.payment import from_config
    from hal.payment.adyen import AdyenTerminal

    from tests.adyen_harness import make_test_ca

    pki = make_test_ca(tmp_path / "pki")
    cfg = parse(adyen_table(tmp_path, address='"127.0.0.1:9"', ca_file=f'"{pki["ca"]}"'))
    terminal = from_config(cfg.payment)
    assert isinstance(terminal, AdyenTerminal)
    assert (terminal.transport.host, terminal.transport.port, terminal.poi_id) == ("127.0.0.1", 9, "P400Plus-275000001")
