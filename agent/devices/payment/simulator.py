"""``kiosk-agent sim terminal|adyen``: the payment simulator's command line (the simulator is in the sim extra)."""

from __future__ import annotations

from agent.devices.kind import Simulator


def _terminal_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8790)
    p.add_argument("--mode", default="approve", choices=("approve", "decline", "timeout", "lose"),
                   help="what the first charge does (then approve; change with {\"op\": \"mode\"})")


def _adyen_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    p.add_argument("--poi-id", default="P400Plus-275000001", help="the terminal's POIID (its certificate's name)")
    p.add_argument("--key-identifier", default="kioskKey")
    p.add_argument("--key-version", type=int, default=1)
    p.add_argument("--passphrase", default="kiosk-demo-passphrase", help="the shared key's passphrase")
    p.add_argument("--pki", default="adyen-sim-pki", help="folder for the test CA (ca.pem is payment.ca_file)")
    p.add_argument("--hold", type=float, default=3.0, help="seconds a slow/late/timeout payment takes")


SIMULATORS = (
    Simulator("terminal", "sim.terminal.cli", "card payment terminal over TCP: approves, declines, times out or loses answers", _terminal_arguments),
    Simulator("adyen", "sim.adyen.cli", "Adyen terminal (Terminal API, local) on @adyen/api-library: needs node and npm", _adyen_arguments),
)
