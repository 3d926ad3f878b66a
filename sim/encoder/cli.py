"""`kiosk-agent sim encoder [--pty | --port N]`: serve a virtual key encoder until SIGINT/SIGTERM."""

from __future__ import annotations

import sys

from sim.encoder.device import VirtualEncoder
from sim.serving import serve_until_signalled


def _describe(key: dict) -> str:
    kind = "new key" if key["command"] == "CN" else f"copy {key['copy']}"
    return (f"encoder: {kind} for room {', '.join(key['rooms'])}, "
            f"valid {key['valid_from']} .. {key['valid_until']}")


def run(args) -> int:
    encoder = VirtualEncoder(card_delay=args.card_delay, log_path=args.log, port=args.port, host=args.host,
                             on_key=lambda key: print(_describe(key), file=sys.stderr, flush=True))
    try:
        encoder.start()
    except OSError as e:
        print(f"kiosk-agent sim encoder: cannot listen: {e}", file=sys.stderr)
        return 1
    serve_until_signalled(encoder.stop, encoder.path if args.port is None else f"port={encoder.port}")
    return 0
