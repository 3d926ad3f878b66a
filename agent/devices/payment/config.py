"""The [payment] table."""

from __future__ import annotations

from dataclasses import dataclass

from agent.config.errors import ConfigError
from agent.config.fields import Section, opt
from hal.payment.drivers import DRIVERS


@dataclass(frozen=True, repr=False)
class PaymentConfig(Section):
    """A payment terminal for balances due at the kiosk; absent = settled at reception."""

    driver: str = opt("sim", choices=tuple(DRIVERS), doc="sim: the simulated terminal; adyen: Adyen Terminal API")
    address: str = opt("127.0.0.1:8790", doc="host:port of the terminal (adyen: host, port 8443 when not given)")
    timeout: float = opt(90.0, minimum=1.0, doc="seconds a charge may take (the guest follows the terminal)")
    # adyen: the terminal's POIID ([model]-[serial]) and the shared key set on it in Adyen's customer area
    poi_id: str = opt("", doc="adyen: the terminal's POIID, e.g. P400Plus-275000001 (its certificate's name)")
    key_identifier: str = opt("", doc="adyen: the key identifier set on the terminal")
    key_version: int = opt(1, minimum=0, doc="adyen: the key version set on the terminal")
    key_passphrase: str = opt("", secret=True, doc="adyen: the key passphrase set on the terminal")
    ca_file: str = opt("", file=True, doc="adyen: the terminal's certificate chain (Adyen's root, PEM)")
    mews_device: str = opt("", doc='Mews PaymentTerminal Device Id or Name whose commands this terminal takes; '
                                     '"" = none')


def check(p: PaymentConfig, fname: str) -> None:
    """An Adyen terminal needs its POIID, the shared key and the chain its certificate is checked against."""
    if p.driver != "adyen":
        return
    missing = [ConfigError(fname, f"payment.{k}", 'required with driver = "adyen"')
               for k in ("address", "poi_id", "key_identifier", "key_passphrase", "ca_file") if not getattr(p, k)]
    if missing:
        raise ConfigError.several(missing)
