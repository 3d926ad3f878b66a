"""Doctor: the payment terminal. For Adyen, one Diagnosis request proves reachability, TLS and the shared key."""

from __future__ import annotations

from collections.abc import Iterator

from agent.doctor import FAIL, OK, SKIP, Result


def check(cfg, options) -> Iterator[Result]:
    """The terminal's line, when the unit has one."""
    if cfg.payment is not None:
        yield check_payment(cfg)


def check_payment(cfg) -> Result:
    p = cfg.payment
    if p is None:
        return Result("payment", SKIP, "no [payment] table")
    if p.driver != "adyen":
        return Result("payment", SKIP, f"driver {p.driver}: simulated terminal at {p.address}")
    from hal.payment import from_config
    from hal.payment.adyen import KeyMismatch
    from hal.payment.adyen.client import AdyenTerminal
    from hal.payment.adyen.transport import NotSent, Rejected
    from hal.payment.terminal import TerminalError

    terminal = from_config(p)
    if not isinstance(terminal, AdyenTerminal):  # driver "adyen" builds one
        return Result("payment", SKIP, f"driver {p.driver}: not an Adyen terminal")
    terminal.status_timeout = min(terminal.status_timeout, 10.0)
    try:
        state = terminal.diagnose()
    except (Rejected, KeyMismatch) as e:
        return Result("payment", FAIL, str(e), "set payment.key_identifier, key_version and key_passphrase to the "
                      "key configured on the terminal (Adyen customer area: terminal settings, Integrations)")
    except NotSent as e:
        text = str(e)
        if "ca_file" in text or "certificate" in text:
            return Result("payment", FAIL, text, "payment.ca_file must hold Adyen's terminal root certificate and "
                          "payment.poi_id the terminal's POIID ([model]-[serial], on its screen and in the "
                          "customer area)")
        return Result("payment", FAIL, text, f"check the terminal is on and on the network at {p.address} "
                      "(port 8443; its IP address in the customer area or on its screen)")
    except TerminalError as e:
        return Result("payment", FAIL, str(e), "the terminal answered but not as expected: restart it and try again")
    return Result("payment", OK, f"Adyen terminal {p.poi_id} at {p.address}: {state}")
