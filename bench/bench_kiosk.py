"""Kiosk benchmark: the agent's own time per check-in / check-out and requests per flow, on loopback.

The platform is `sim mews` in its own process; devices and the terminal answer at
once (guest input and card presentation are excluded by design), so the time
measured is the flow's own work plus the platform round trips it needs. Side by
side: the two reservations forms (2023-06-06 needs customers/getAll, 2017-04-12
does not), and the RSS the web layer (Bottle + waitress) adds to a process.
Goal: <= 500 ms and <= 8 requests for a check-in; <= 8 MB for the web layer.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.request import urlopen

from bench.report import table

ROUNDS = int(os.environ.get("BENCH_KIOSK_ROUNDS", "5"))


class InstantJobs:
    def serves(self, kind, device=""):
        return True

    def submit(self, job):
        from agent.runtime.jobs import JobHandle, Outcome, OutcomeState

        handle = JobHandle(job)
        n = job.data.get("KeyCount", 1)
        handle.finish(Outcome(OutcomeState.DONE, "ok", {"keys_made": n, "keys_asked": n, "rooms": ["202"]}))
        return handle


class InstantTerminal:
    def charge(self, amount: Decimal, currency: str, reference: str):
        from hal.payment import Approval

        return Approval(reference, "B1", amount, currency, "Visa", "411111******1111", "12/2030", "X")

    def status(self, reference):
        return None

    def abort(self):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _requests(url: str) -> int:
    with urlopen(url + "/_sim/requests") as r:
        return json.loads(r.read())["Total"]


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def web_layer_rss() -> float:
    """MB a fresh interpreter gains by importing Bottle + waitress and serving one request.

    The stdlib modules the agent loads anyway (ssl, http.client, email, urllib) are imported first."""
    code = ("import sys;from pathlib import Path\n"
            "def rss():\n return int([l for l in Path('/proc/self/status').read_text().splitlines()"
            " if l.startswith('VmRSS')][0].split()[1])\n"
            "import json,logging,threading,socket,ssl,http.client,urllib.request,email.utils;before=rss()\n"
            "import bottle\nfrom waitress.server import create_server\n"
            "app=bottle.Bottle()\n@app.get('/')\ndef i(): return 'ok'\n"
            "s=create_server(app,host='127.0.0.1',port=0,threads=4)\n"
            "threading.Thread(target=s.run,daemon=True).start()\n"
            "from urllib.request import urlopen;urlopen(f'http://127.0.0.1:{s.effective_port}/').read()\n"
            "print((rss()-before)/1024)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return float(out.stdout.strip() or "nan")


def run_flows(generation: str, version: str, url: str, tokens: dict, tmp: Path) -> dict:
    from agent import config as config_mod
    from agent.kiosk.checkin import CheckIn
    from agent.kiosk.checkout import CheckOut
    from agent.kiosk.context import KioskContext
    from agent.mews.client import MewsClient
    from sim.mews.kiosk import midday_zone

    cfg_path = tmp / f"{generation}-{version}.toml"
    if generation == "current":
        auth = f'client_token = "{tokens["client_token"]}"\naccess_token = "{tokens["token"]}"\n'
    else:
        auth = f'connector_token = "{tokens["token"]}"\n'
    cfg_path.write_text(f'[mews]\nplatform_address = "{url}"\ngeneration = "{generation}"\n{auth}'
                        f'reservations_version = "{version}"\n[agent]\nstate_dir = "{tmp}"\n'
                        f'timezone = "{midday_zone()}"\n[kiosk]\ncheckin_from = "00:00"\n')
    cfg = config_mod.load(str(cfg_path))
    client = MewsClient(cfg.mews)
    # What a running agent does once, not per guest: the seed's sign-in; today's static room categories.
    client.sign_in() if cfg.mews.signs_in else client.get_all_spaces()
    from agent.kiosk.ledger import PaymentLedger
    from agent.runtime.outbox import OutboxSender
    from agent.runtime.store import Store

    store = Store(tmp / version)  # payment records go through the runtime's outbox, as in the agent
    sender = OutboxSender(store, client)
    sender.start()
    ctx = KioskContext(cfg=cfg, client=client, jobs=InstantJobs(), terminal=InstantTerminal(),
                       ledger=PaymentLedger(store, sender.wake))

    def timed(session, steps):
        spent, before = 0.0, _requests(url)
        for action, fields in steps:
            t = time.perf_counter()
            session.act(action, fields)
            session.wait_idle(30)
            spent += time.perf_counter() - t
        return spent, _requests(url) - before, session.screen()["screen"]

    ci = timed(CheckIn(ctx), [("find", {"number": "1001", "last_name": "Walker"}), ("confirm", {}),
                              ("keys", {"count": 2})])
    co = timed(CheckOut(ctx), [("find", {"number": "1007", "last_name": "Khan"}), ("pay", {})])
    sender.stop(1.0)
    store.close()
    client.close()
    return {"checkin": ci, "checkout": co}


def main() -> None:
    rows = []
    for generation, version in (("current", "2023-06-06"), ("seed", "2023-06-06"), ("seed", "2017-04-12")):
        times = {"checkin": [], "checkout": []}
        reqs = {}
        for _ in range(ROUNDS):
            port = _free_port()
            proc = subprocess.Popen([sys.executable, "-m", "agent", "sim", "mews", "--port", str(port),
                                     "--generation", generation, "--no-rate-limit"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            try:
                ready = dict(part.split("=", 1) for part in proc.stdout.readline().split())
                with tempfile.TemporaryDirectory() as tmp:
                    result = run_flows(generation, version, ready["address"], ready, Path(tmp))
            finally:
                proc.terminate()
                proc.wait(10)
            for flow, (spent, n, screen) in result.items():
                assert screen in ("done", "goodbye"), f"{flow} ended on {screen}"
                times[flow].append(spent * 1000)
                reqs[flow] = n  # API operations only (admin routes are not counted)
        for flow in ("checkin", "checkout"):
            today = generation == "current"
            rows.append([generation, version, flow, round(min(times[flow]), 1),
                         round(sorted(times[flow])[len(times[flow]) // 2], 1), reqs[flow],
                         50 if today else (500 if flow == "checkin" else "-"), 8 if today or flow == "checkin" else "-"])
    rss = web_layer_rss()
    table("kiosk", ["generation", "reservations form", "flow", "best ms", "median ms", "requests", "goal ms", "goal requests"],
          rows, {"web layer RSS (Bottle + waitress, MB)": round(rss, 2), "goal MB": 8, "rounds": ROUNDS})


if __name__ == "__main__":
    main()
