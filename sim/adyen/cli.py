"""`kiosk-agent sim adyen`: a simulated Adyen terminal (Terminal API, local) on @adyen/api-library.

Needs Node and npm; installs the library once into the npm cache folder. Writes a
test CA into ``--pki`` and prints, on its first stdout line, what ``[payment]``
needs: ``address=HOST:PORT poi_id=... key_identifier=... key_version=... ca_file=...``
(the passphrase is the one given with ``--passphrase``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sim.adyen.runner import AdyenSim, make_test_ca, node_modules
from sim.serving import serve_until_signalled


def run(args) -> int:
    modules, why = node_modules()
    if modules is None:
        print(f"kiosk-agent sim adyen: {why}", file=sys.stderr)
        return 1
    pki = make_test_ca(Path(args.pki), args.poi_id)
    key = {"identifier": args.key_identifier, "version": args.key_version, "passphrase": args.passphrase}
    try:
        sim = AdyenSim(modules, pki, hold=args.hold, key=key, poi_id=args.poi_id, host=args.host, port=args.port)
    except RuntimeError as e:
        print(f"kiosk-agent sim adyen: {e}", file=sys.stderr)
        return 1
    serve_until_signalled(sim.stop, f"address={sim.address} poi_id={args.poi_id} key_identifier="
                                    f"{args.key_identifier} key_version={args.key_version} ca_file={pki['ca']}")
    return 0
