"""Payment terminal drivers by name (``payment.driver``), the way pyserial finds ``protocol_<scheme>``.

Each entry names ``module:function`` taking the [payment] settings (driver, address,
timeout, and the driver's own keys) and returning a PaymentTerminal. Adding a terminal
is a module in hal/payment and one line here; the config's choices come from this table.
"""

from __future__ import annotations

import importlib

DRIVERS = {
    "sim": "hal.payment.simclient:from_settings",  # the simulated terminal (demo, tests)
    "adyen": "hal.payment.adyen:from_settings",  # Adyen Terminal API, local (Nexo over TLS)
}


def open_terminal(settings):
    """The terminal ``settings.driver`` names; ValueError for a name not in DRIVERS."""
    try:
        module, _, name = DRIVERS[settings.driver].partition(":")
    except KeyError:
        raise ValueError(f"unknown payment driver {settings.driver!r} (known: {', '.join(DRIVERS)})") from None
    return getattr(importlib.import_module(module), name)(settings)
