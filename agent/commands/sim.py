"""`kiosk-agent sim mews|printer|encoder|pos|terminal`: the simulators (need the `sim` extra).

The simulator packages are imported only here, lazily, so the agent itself never
depends on them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# sim name -> (module with run(args) -> int, help)
SIMULATORS = {
    "mews": ("sim.mews.cli", "Mews platform: REST + websocket on one port"),
    "printer": ("sim.printer.cli", "virtual ESC/POS printer on a pty or TCP port; receipts as PNG"),
    "encoder": ("sim.encoder.cli", "virtual key-card encoder (PMS Industry Standard) on a pty or TCP port"),
    "pos": ("sim.pos.cli", "ConcertPOS gateway: one port per shard, shared state"),
    "terminal": ("sim.terminal.cli", "card payment terminal over TCP: approves, declines, times out or loses answers"),
    "adyen": ("sim.adyen.cli", "Adyen terminal (Terminal API, local) on @adyen/api-library: needs node and npm"),
    "reader": ("sim.reader.cli", "document reader on a pty: passports, ID cards, booking QR codes (lines on stdin)"),
}


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="simulator", metavar="SIMULATOR", required=True)

    p = sub.add_parser("mews", help=SIMULATORS["mews"][1])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--generation", choices=("current", "seed"), default="current",
                   help="current: today's published Connector API (ClientToken + AccessToken, retired operations "
                        "404); seed: the spec documents' forms with signIn (default: current)")
    p.add_argument("--connector-token", default=None, help="seed generation: the token signIn accepts "
                   "(default: the spec's demo token)")
    p.add_argument("--client-token", default=None, help="current generation: the ClientToken accepted "
                   "(default: the published example's)")
    p.add_argument("--access-token", default=None, help="current generation: the AccessToken accepted "
                   "(default: the published example's)")
    p.add_argument("--seed", default=None, help="JSON seed file (enterprise, spaces, reservations, devices)")
    p.add_argument("--space-events", action="store_true", help="push Space events (older spec) instead of Resource")
    p.add_argument("--no-rate-limit", action="store_true", help="lift the 200 requests / 30 s limit")

    p = sub.add_parser("printer", help=SIMULATORS["printer"][1])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--pty", action="store_true", help="listen on a new pty (default)")
    g.add_argument("--port", type=int, default=None, help="listen on this TCP port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--out", default="printer-output", help="folder for receipt PNGs")
    p.add_argument("--width-dots", type=int, default=384)
    p.add_argument("--paper-rows", type=int, default=None, help="dot rows on the roll (default: endless)")
    p.add_argument("--near-end-rows", type=int, default=None,
                   help="the near-end sensor trips when this many rows are left")
    p.add_argument("--presenter", action="store_true",
                   help="a Custom-style presenter: a receipt waits in the mouth (DLE EOT 20) until taken")

    p = sub.add_parser("encoder", help=SIMULATORS["encoder"][1])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--pty", action="store_true", help="listen on a new pty (default)")
    g.add_argument("--port", type=int, default=None, help="listen on this TCP port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--log", default=None, help="JSONL file of keys issued")
    p.add_argument("--card-delay", type=float, default=0.5, help="seconds until a card is presented")

    p = sub.add_parser("pos", help=SIMULATORS["pos"][1])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--ports", default="9001,9002,9003", help="one port per shard, comma separated")
    p.add_argument("--instance", default="my-venue")
    p.add_argument("--api-key", default="demo-api-key")
    p.add_argument("--seed", default=None, help="JSON seed file (products, payment methods, POS)")

    p = sub.add_parser("terminal", help=SIMULATORS["terminal"][1])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8790)
    p.add_argument("--mode", default="approve", choices=("approve", "decline", "timeout", "lose"),
                   help="what the first charge does (then approve; change with {\"op\": \"mode\"})")

    p = sub.add_parser("adyen", help=SIMULATORS["adyen"][1])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    p.add_argument("--poi-id", default="P400Plus-275000001", help="the terminal's POIID (its certificate's name)")
    p.add_argument("--key-identifier", default="kioskKey")
    p.add_argument("--key-version", type=int, default=1)
    p.add_argument("--passphrase", default="kiosk-demo-passphrase", help="the shared key's passphrase")
    p.add_argument("--pki", default="adyen-sim-pki", help="folder for the test CA (ca.pem is payment.ca_file)")
    p.add_argument("--hold", type=float, default=3.0, help="seconds a slow/late/timeout payment takes")


    p = sub.add_parser("reader", help=SIMULATORS["reader"][1])
    p.add_argument("--framing", default="cr", choices=("cr", "stx"), help="cr: lines ended by CR; stx: STX .. ETX")
    p.add_argument("--present", default="", help='present this every --every seconds (e.g. "passport", "qr ID")')
    p.add_argument("--every", type=float, default=5.0)

def main(args: argparse.Namespace) -> int:
    module_name = SIMULATORS[args.simulator][0]
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        if "aiohttp" in str(e) or "sim" in str(e):
            print(f"kiosk-agent sim: the simulators need the 'sim' extra: pip install 'kiosk-agent[sim]' ({e})",
                  file=sys.stderr)
            return 2
        raise
    return int(module.run(args) or 0)
