"""`kiosk-agent sim mews`: serve the simulated platform until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import logging
import sys

from sim.serving import serve_until_signalled


def run(args: argparse.Namespace) -> int:
    from sim.mews.seed import SeedError
    from sim.mews.server import DEMO_ACCESS_TOKEN, DEMO_CLIENT_TOKEN, DEMO_CONNECTOR_TOKEN, MewsSimulator

    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    token = getattr(args, "connector_token", None) or DEMO_CONNECTOR_TOKEN
    generation = getattr(args, "generation", None) or "current"
    client_token = getattr(args, "client_token", None) or DEMO_CLIENT_TOKEN
    access_token = getattr(args, "access_token", None) or DEMO_ACCESS_TOKEN
    try:
        sim = MewsSimulator(host=args.host, port=args.port, connector_token=token, seed=args.seed,
                            space_events=bool(args.space_events), rate_limit=not args.no_rate_limit,
                            generation=generation, client_token=client_token, access_token=access_token)
    except SeedError as e:
        print(f"kiosk-agent sim mews: {e}", file=sys.stderr)
        return 2
    try:
        sim.start()
    except OSError as e:
        print(f"kiosk-agent sim mews: cannot listen on {args.host}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 1
    # token= stays the token a client starts with (AccessToken today, the connector token in the seed).
    first = (f"address={sim.url} token={access_token} client_token={client_token}"
             if generation == "current" else f"address={sim.url} token={token}")
    serve_until_signalled(sim.stop, first)
    logging.getLogger("sim.mews").info("stopped")
    return 0
