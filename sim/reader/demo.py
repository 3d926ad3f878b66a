"""The document reader's part of `make demo`: a Mews PassportScanner command, and a kiosk check-in with a passport.

sim/demo.py starts a ``VirtualReader`` with the world, writes ``[reader]`` into the
agent's config (``reader_table``) and calls ``step_passport_command`` and
``step_kiosk_passport`` once the agent is online. The kiosk asks foreign guests
(``kiosk.documents = "foreign"``, ``hotel_country = "GB"``) for a document.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from datetime import timedelta
from pathlib import Path

from sim.mews import fields
from sim.reader import specimens

def reader_table(reader) -> str:
    return f'\n[reader]\nport = "{reader.path}"\ntimeout = 30.0\n'


def _wait(pred, timeout: float):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    return None


def step_passport_command(demo, say) -> None:
    """Reception asks the unit for the guest's passport (PassportScanner); the guest lays it on the reader."""
    say("\n2b. Reception asks for a guest's passport (PassportScanner): the unit reads it and sends it to the profile")
    mews = demo.mews
    command_id = demo.track("passport (PassportScanner)", mews.add_passport_scanner_command())
    if not _wait(lambda: any(h["State"] == "Processing" for h in mews.command(command_id)["History"]), 30):
        demo.fail("the unit did not ask for the passport")
        return
    demo.reader.present(specimens.passport("WALKER", "ALICE", number="GB1234567", country="GBR",
                                           birth=dt.date(1986, 4, 2)))
    if not demo.wait_final([command_id], 30):
        demo.fail("the passport command did not finish")
    demo.show(command_id)


def step_kiosk_passport(demo, say, out: Path) -> list[str]:
    """A Spanish guest checks in at the kiosk and shows a passport (the foreign-guests rule)."""
    from agent.commands.kiosk import Api

    say("\n7b. A foreign guest checks in at the kiosk with a passport (document step, then payment and a key)")
    ent = demo.mews.enterprise
    with ent.lock:
        stay = next(r for r in ent.reservations.values() if r["Number"] == "1002")
        stay["StartUtc"] = fields.now() - timedelta(minutes=1)
    api = Api(f"http://{demo.kiosk_listen}")
    status, screen = api.ask("POST", "/api/sessions", {"flow": "check-in", "language": "es"})
    trail, shown = [], {}

    def act(action, **body):
        nonlocal screen
        _, screen = api.ask("POST", f"/api/sessions/{screen['session']}/input", {"action": action, **body})
        trail.append(screen["screen"])

    def settle():
        nonlocal screen
        while screen.get("busy"):
            time.sleep(0.1)
            _, screen = api.ask("GET", f"/api/sessions/{screen['session']}")
        trail.append(screen["screen"])

    act("find", number="1002", last_name="Fernandez")
    if screen["screen"] == "document":
        act("scan_document")
        _wait(lambda: (api.ask("GET", f"/api/sessions/{screen['session']}")[1].get("progress") or {}).get("deadline"),
              10)
        demo.reader.present(specimens.passport("FERNANDEZ", "BRUNO", number="PAE123456", country="ESP",
                                               birth=dt.date(1979, 11, 23)))
        settle()
        shown = (screen.get("data") or {}).get("document") or {}
        act("confirm_document")
    for action, body in (("confirm", {}), ("pay", {}), ("keys", {"count": 1})):
        settle()
        if action in screen.get("actions", []):
            act(action, **body)
    settle()
    result = screen["screen"]
    api.ask("DELETE", f"/api/sessions/{screen['session']}")
    Path(out, "kiosk-passport.json").write_text(json.dumps({"screens": trail, "document_shown": shown}, indent=2,
                                                           ensure_ascii=False))
    line = f"kiosk check-in 1002 with a passport: {' -> '.join(dict.fromkeys(trail))}"
    say("    " + line)
    if result != "done":
        demo.fail(f"the kiosk check-in with a passport ended on {result}")
    return [line]
