"""The kiosk part of `make demo`: a check-in (2 keys, a balance paid on the simulated terminal, the
welcome slip) and a check-out (folio), run through the running agent's kiosk API like the CLI.

How sim/demo.py calls it (the agent must run with ``[kiosk] enabled = true``):

    terminal = kiosk_demo.start_terminal()
    config_text += kiosk_demo.config_tables(terminal, listen="127.0.0.1:8765")
    ... start the agent ...
    lines = kiosk_demo.run(self.mews, "127.0.0.1:8765", out)   # summary lines; out/kiosk.json
    terminal.stop()

Receipts (slip, folio) come out of the virtual printer like every other print.
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path

from sim.mews import fields
from sim.terminal.server import TerminalSimulator


def start_terminal() -> TerminalSimulator:
    return TerminalSimulator().start()


def config_tables(terminal: TerminalSimulator, listen: str = "127.0.0.1:8765") -> str:
    return (f'\n[kiosk]\nenabled = true\nlisten = "{listen}"\ncheckin_from = "00:00"\n'
            'hotel_name = "Kiosk Demo Hotel"\ncommon_areas = ["GYM"]\nvoid_key_on_checkout = false\n'
            'slip_lines = ["Wi-Fi: KioskGuest / sunrise", "Breakfast 7:00-10:30, ground floor"]\n'
            'slip_qr_url = "https://example.com/welcome"\n'
            'documents = "foreign"\nhotel_country = "GB"\n'  # foreign guests show a document (sim/reader/demo.py)
            f'\n[payment]\naddress = "127.0.0.1:{terminal.port}"\ntimeout = 30.0\n')


def _prepare(mews) -> None:
    """Make the demo independent of the hour: 1001 arrives now and owes a minibar bill; 1006 leaves today."""
    ent, now = mews.enterprise, fields.now()
    with ent.lock:
        by_number = {r["Number"]: r for r in ent.reservations.values()}
        walker = by_number["1001"]
        walker["StartUtc"] = now - timedelta(minutes=1)
        ent.items.append(ent._item(walker["CustomerId"], "Minibar", 42.0, ent.currency))
        by_number["1006"]["EndUtc"] = now + timedelta(minutes=30)


def run(mews, listen: str, out: Path) -> list[str]:
    from agent.commands.kiosk import Api, drive

    _prepare(mews)
    api = Api(f"http://{listen}")
    checkin = drive(api, argparse.Namespace(flow="check-in", number="1001", last_name="walker", keys=2))
    checkout = drive(api, argparse.Namespace(flow="check-out", card=False, number="1006", room=None, last_name="O'Neill"))
    Path(out, "kiosk.json").write_text(json.dumps({"check-in": checkin, "check-out": checkout}, indent=2,
                                                  ensure_ascii=False))
    return [f"kiosk check-in 1001: {checkin['result']}, {checkin['keys']} keys, slip printed "
            f"{checkin['printed']}, balance after {checkin.get('balance')}",
            f"kiosk check-out 1006 (room 201): {checkout['result']}, folio printed {checkout['printed']}"]
