"""`kiosk-agent demo`: the agent against the simulated Mews platform, printer, encoder and POS gateway.

Everything worth looking at lands in the output folder: every receipt as PNG,
every distinct OLED frame as PNG, the encoder's key log, the agent's log and a
summary. It ends by itself; exit 0 when every step reached its outcome.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from sim.reader import demo as reader_demo
from sim.serving import free_port

FINAL = ("Processed", "Cancelled", "Error")


def say(text: str = "") -> None:
    print(text, flush=True)


def wait_for(pred, timeout: float, interval: float = 0.05):
    end = time.time() + timeout
    while time.time() < end:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    return None


class Demo:
    def __init__(self, out: Path):
        self.out = out
        self.commands: list[tuple[str, str]] = []  # (label, command id)
        self.failures: list[str] = []

    # ---- the world ---------------------------------------------------------------

    def start_world(self) -> None:
        from sim.encoder.device import VirtualEncoder
        from sim.mews import MewsSimulator
        from sim.pos.server import PosGatewaySimulator
        from sim.printer import VirtualPrinter

        self.mews = MewsSimulator(rate_limit=True).start()
        self.printer = VirtualPrinter(width_dots=384, out_dir=self.out / "receipts").start()
        self.encoder = VirtualEncoder(card_delay=0.8, log_path=str(self.out / "keys.jsonl")).start()
        self.pos = PosGatewaySimulator(ports=(0, 0, 0)).start()
        from sim import kiosk_demo

        self.terminal = kiosk_demo.start_terminal()
        from sim.reader import VirtualReader

        self.reader = VirtualReader("cr").start()
        self.kiosk_listen = f"127.0.0.1:{free_port()}"  # the agent's kiosk API binds it
        say(f"  Mews platform      {self.mews.url}  (REST + websocket)")
        say(f"  thermal printer    {self.printer.url}  -> {self.out / 'receipts'}")
        say(f"  key-card encoder   {self.encoder.url}  -> {self.out / 'keys.jsonl'}")
        say(f"  ConcertPOS gateway {', '.join(self.pos.urls)}")
        say(f"  payment terminal   127.0.0.1:{self.terminal.port}  (simulated)")
        say(f"  document reader    {self.reader.path}  (passports, ID cards, booking QR codes)")

    def write_config(self) -> Path:
        from sim import kiosk_demo

        shards = ", ".join(f'"{s}"' for s in self.pos.shards)
        path = self.out / "config.toml"
        path.write_text(f"""# written by `kiosk-agent demo`
[mews]
platform_address = "{self.mews.url}"
generation = "current"
client_token = "{self.mews.client_token}"
access_token = "{self.mews.access_token}"
poll_interval = 1.0

[agent]
state_dir = "state"
timezone = "Europe/London"
log_level = "info"

[printer]
port = "{self.printer.url}"
baudrate = 115200

[encoder]
port = "{self.encoder.url}"
reply_timeout = 10.0

[display]
driver = "png"
frames_dir = "oled"
dim_after = 600.0

[gpio]
board = "sim"

[pos]
instance = "{self.pos.instance}"
api_key = "{self.pos.api_key}"
shards = [{shards}]
url_template = "{self.pos.url_template}"
pos_id = 1
""" + kiosk_demo.config_tables(self.terminal, listen=self.kiosk_listen) + reader_demo.reader_table(self.reader))
        return path

    def start_agent(self, config_path: Path) -> None:
        from agent import config as config_mod
        from agent.runtime import logs
        from agent.runtime.app import build_agent

        self.cfg = config_mod.load(str(config_path))
        logs.setup("info", self.cfg.secrets())
        handler = logging.FileHandler(self.out / "agent.log")
        handler.setFormatter(logs.RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        logging.getLogger().handlers[:] = [handler]  # the console tells the story; the log keeps details
        self.agent = build_agent(self.cfg)
        self.thread = threading.Thread(target=self.agent.serve, name="agent", daemon=True)
        self.thread.start()
        if not wait_for(lambda: self.agent.listener.connected and self.agent.health.connection == "online", 20):
            self.fail("the agent did not come online")
        say(f"  agent online: enterprise {self.agent.health.enterprise!r}, websocket connected")

    def step_kiosk(self) -> None:
        from sim import kiosk_demo

        say(f"\n7. Self-service kiosk at http://{self.kiosk_listen}/: a guest checks in (balance paid on the "
            "terminal, 2 keys, welcome slip), another checks out (folio)")
        if not wait_for(lambda: self.agent.kiosk is not None, 10):
            self.fail("the kiosk service did not start")
            return
        before = len(self.printer.receipt_paths)
        self.kiosk_lines = kiosk_demo.run(self.mews, self.kiosk_listen, self.out)
        for line in self.kiosk_lines:
            say(f"    {line}")
        wait_for(lambda: len(self.printer.receipt_paths) >= before + 2, 10)
        for p in self.printer.receipt_paths[before:]:
            say(f"    receipt PNG: {p}")
        result = json.loads((self.out / "kiosk.json").read_text())
        for flow, wanted in (("check-in", "checked in"), ("check-out", "checked out")):
            if result[flow]["result"] != wanted:
                self.fail(f"kiosk {flow}: {result[flow]['result']} ({result[flow].get('message')})")

    def step_ui_screenshots(self) -> None:
        say("\n8. Kiosk touchscreen: screenshots of every screen in every language (headless Chromium)")
        from sim.ui_screens import take_screenshots

        try:
            shots = take_screenshots(self.out / "ui")
        except Exception as e:  # a browser that fails to start: the demo says so and goes on
            say(f"    skipped: {type(e).__name__}: {e}")
            return
        if shots is None:
            say("    skipped: Chromium/chromedriver not installed (apt-get install chromium chromium-driver)")
        else:
            say(f"    {len(shots)} screenshot(s) in {self.out / 'ui'}")

    def stop(self) -> None:
        agent = getattr(self, "agent", None)
        if agent is not None:
            agent.stop()
            self.thread.join(40)
        for name in ("reader", "terminal", "pos", "encoder", "printer", "mews"):
            thing = getattr(self, name, None)
            if thing is not None:
                try:
                    thing.stop()
                except Exception:
                    pass

    def fail(self, text: str) -> None:
        self.failures.append(text)
        say(f"  !! {text}")

    # ---- commands ------------------------------------------------------------------

    def track(self, label: str, command_id: str) -> str:
        self.commands.append((label, command_id))
        return command_id

    def final(self, command_id: str) -> str | None:
        state = self.mews.command(command_id)["State"]
        return state if state in FINAL else None

    def wait_final(self, ids, timeout=60.0) -> bool:
        return bool(wait_for(lambda: all(self.final(i) for i in ids), timeout))

    def show(self, command_id: str) -> None:
        cmd = self.mews.command(command_id)
        trail = " -> ".join(h["State"] for h in cmd["History"])
        note = cmd["History"][-1].get("Notes") or ""
        say(f"    {command_id[:8]}  {trail}" + (f"  ({note})" if note else ""))

    # ---- the story -----------------------------------------------------------------

    def step_registration_card(self) -> None:
        from sim.printer.sample import registration_card_pdf

        say("\n1. Night auditor prints a registration card (PDF, 2 copies)")
        before = len(self.printer.receipt_paths)
        cid = self.track("registration card (PDF x2)",
                         self.mews.add_printer_command(registration_card_pdf(), file_type="application/pdf",
                                                       copy_count=2))
        if not self.wait_final([cid], 60):
            self.fail("the registration card did not finish")
        self.show(cid)
        for p in self.printer.receipt_paths[before:]:
            say(f"    receipt PNG: {p}")

    def step_keys(self) -> None:
        say("\n2. Guest at the kiosk gets two room keys (KeyCutter, 2 keys)")
        before = len(self.encoder.keys)
        from datetime import datetime, timedelta, timezone

        from sim.mews import fields

        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        with self.mews.commands.lock:  # a guest arriving now for two nights; nobody sees it half-made
            command_id = self.mews.add_key_cutter_command(key_count=2)
            self.mews.commands.commands[command_id]["Data"].update(
                StartUtc=fields.format_utc(now), EndUtc=fields.format_utc(now + timedelta(days=2)))
        cid = self.track("room keys (KeyCutter x2)", command_id)
        if not self.wait_final([cid], 60):
            self.fail("the key command did not finish")
        self.show(cid)
        for k in self.encoder.keys[before:]:
            kind = "new key" if k.get("copy") == 0 else f"copy {k.get('copy')}"
            say(f"    {kind}: rooms {', '.join(k.get('rooms', []))}, valid {k.get('valid_from')} -> "
                f"{k.get('valid_until')}, text {k.get('text')}")

    def step_text_receipt(self) -> None:
        say("\n3. A text receipt with accents and currency signs (text/plain)")
        text = ("Hotel Demo - Café Bar\n" + "=" * 32 + "\n2 x Espresso          € 5,00\n"
                "1 x Croissant         € 2,50\n" + "-" * 32 + "\nTotal                 € 7,50\n\nMerci, à bientôt!\n")
        cid = self.track("text receipt", self.mews.add_printer_command(text.encode(), file_type="text/plain"))
        if not self.wait_final([cid], 60):
            self.fail("the text receipt did not finish")
        self.show(cid)
        if self.printer.receipt_paths:
            say(f"    receipt PNG: {self.printer.receipt_paths[-1]}")
        self.paper_low()

    def paper_low(self) -> None:
        """The roll runs low: PAPER LOW on the OLED and in STATUS=, one staff task; a new roll clears it."""
        if getattr(self.agent, "paper", None) is None:
            return
        self.printer.set_state(paper_near_end=True)
        self.agent.paper.check_now()
        tasks = lambda: [t["Name"] for t in self.mews.enterprise.tasks if "paper" in t["Name"]]  # noqa: E731
        if not wait_for(lambda: self.agent.health.devices["printer"].paper == "low" and tasks(), 15):
            self.fail("the paper-low warning did not show")
            return
        time.sleep(0.6)  # let the OLED draw it
        say(f"    the roll runs low: {self.agent.status_line()!r}; staff task {tasks()[0]!r}")
        self.printer.set_state(paper_near_end=False)
        self.agent.paper.check_now()
        wait_for(lambda: self.agent.health.devices["printer"].paper == "ok", 15)
        say("    a new roll: paper ok again")

    def step_outage(self) -> None:
        from sim.printer.sample import registration_card_pdf

        say("\n4. The network goes down mid-job: printing goes on, reports wait in the durable outbox")
        card = registration_card_pdf()
        ids = [self.track(f"print during outage #{k}",
                          self.mews.add_printer_command(card, file_type="application/pdf", copy_count=2))
               for k in (1, 2, 3)]
        wait_for(lambda: all(len(self.mews.command(i)["History"]) > 1 for i in ids), 20)
        self.mews.set_faults(drop_websockets=True, error_rate=1.0)
        say("    3 cards taken; now the websocket drops and the platform answers 5xx to everything")
        wait_for(lambda: self.agent.store.outbox.depth()[0] >= 3, 60)
        pending = [r for r in self.agent.store.outbox.reports() if not r.dead]
        say(f"    websocket {'up' if self.agent.listener.connected else 'down'}, "
            f"health: {self.agent.health.connection}")
        say(f"    outbox backlog: {len(pending)} report(s): " +
            ", ".join(f"{r.command_id[:8]}->{r.state}" for r in pending[:6]))
        time.sleep(2.0)
        say("    network back: the backlog is replayed in order")
        self.mews.set_faults(drop_websockets=False, error_rate=0.0)
        if not self.wait_final(ids, 90):
            self.fail("the backlog was not replayed")
        for cid in ids:
            self.show(cid)
        wait_for(lambda: self.agent.listener.connected, 60)
        say(f"    outbox now {self.agent.store.outbox.depth()[0]}, websocket {'up' if self.agent.listener.connected else 'down'}")

    def step_bad_command(self) -> None:
        say("\n5. A document the printer cannot take ends in Error with a clear note")
        cid = self.track("unsupported file (image/tiff)",
                         self.mews.add_printer_command(b"II*\x00", file_type="image/tiff"))
        if not self.wait_final([cid], 30):
            self.fail("the bad command did not finish")
        self.show(cid)

    def step_pos_sale(self, config_path: Path) -> None:
        say("\n6. Kiosk sale through ConcertPOS (2 x parking day ticket, 1 x water), receipt printed")
        before = len(self.printer.receipt_paths)
        r = subprocess.run([sys.executable, "-m", "agent", "pos", "pay", "--config", str(config_path),
                            "--pos", "1", "--method", "1", "--item", "7x2", "--item", "9x1", "--json"],
                           capture_output=True, text=True, timeout=120)
        (self.out / "pos-sale.json").write_text(r.stdout)
        try:
            sale = json.loads(r.stdout)
        except ValueError:
            self.fail(f"kiosk-agent pos pay failed: {r.stderr.strip()[-300:]}")
            return
        say(f"    result: {sale.get('result')}, transactions "
            f"{', '.join(str(t.get('id', t)) if isinstance(t, dict) else str(t) for t in sale.get('transactions', []))}"
            f", receipt {sale.get('receipt')}")
        if sale.get("result") != "booked":
            self.fail("the sale was not booked")
        self.pos_line = (f"POS sale (2 x parking day ticket, 1 x water): {sale.get('result')}, "
                         f"receipt {sale.get('receipt')}")
        wait_for(lambda: len(self.printer.receipt_paths) > before, 10)
        for p in self.printer.receipt_paths[before:]:
            say(f"    receipt PNG: {p}")

    # ---- summary ------------------------------------------------------------------

    def summary(self) -> list[dict]:
        rows = []
        for label, cid in self.commands:
            cmd = self.mews.command(cid)
            rows.append({"command": label, "id": cid, "device": cmd["Device"]["Type"], "state": cmd["State"],
                         "history": [h["State"] for h in cmd["History"]],
                         "notes": cmd["History"][-1].get("Notes") or ""})
        return rows


def run(args) -> int:
    out = Path(args.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    demo = Demo(out)
    say(f"kiosk-agent demo -> {out}\n\nStarting the simulated world:")
    code = 0
    try:
        demo.start_world()
        config_path = demo.write_config()
        demo.start_agent(config_path)
        demo.step_registration_card()
        demo.step_keys()
        reader_demo.step_passport_command(demo, say)
        demo.step_text_receipt()
        demo.step_outage()
        demo.step_bad_command()
        demo.step_pos_sale(config_path)
        demo.step_kiosk()
        demo.kiosk_lines = getattr(demo, "kiosk_lines", []) + reader_demo.step_kiosk_passport(demo, say, out)
        demo.step_ui_screenshots()
        time.sleep(1.5)  # let the display settle on the final screen
    except Exception as e:  # the demo reports, it does not hide
        demo.fail(f"{type(e).__name__}: {e}")
    finally:
        rows = demo.summary() if hasattr(demo, "mews") else []
        demo.stop()
    frames = sorted((out / "oled").glob("*.png")) if (out / "oled").exists() else []
    receipts = sorted((out / "receipts").glob("*.png")) if (out / "receipts").exists() else []
    lines = ["| command | device | final state | history | notes |", "|---|---|---|---|---|"]
    lines += [f"| {r['command']} | {r['device']} | {r['state']} | {' -> '.join(r['history'])} | {r['notes']} |"
              for r in rows]
    (out / "summary.md").write_text("# kiosk-agent demo\n\n" + "\n".join(lines) + "\n\n"
                                    f"receipts: {len(receipts)} PNG in receipts/\n"
                                    f"OLED frames: {len(frames)} PNG in oled/\n"
                                    "encoder key log: keys.jsonl\nagent log: agent.log\n")
    (out / "summary.json").write_text(json.dumps({"commands": rows, "failures": demo.failures}, indent=2))
    kiosk_lines = [line for line in (getattr(demo, "pos_line", ""),) if line] + getattr(demo, "kiosk_lines", [])
    if kiosk_lines:
        with (out / "summary.md").open("a") as f:
            f.write("\n" + "\n".join(f"- {line}" for line in kiosk_lines) + "\n")
    say("\nSummary")
    width = max((len(r["command"]) for r in rows), default=10)
    for r in rows:
        say(f"  {r['command']:<{width}}  {r['state']:<9}  {r['notes'][:70]}")
    for line in kiosk_lines:
        say(f"  {line}")
    say(f"\nEverything is in {out}:")
    say(f"  receipts/   {len(receipts)} receipt PNG(s)")
    say(f"  oled/       {len(frames)} distinct OLED frame(s)")
    say("  keys.jsonl  the encoder's key log")
    say("  agent.log   the agent's log;  summary.md / summary.json  this table")
    expected = {"unsupported file (image/tiff)": "Error"}
    for r in rows:
        if r["state"] != expected.get(r["command"], "Processed"):
            demo.fail(f"{r['command']} ended {r['state']}")
    if not frames:
        demo.fail("no OLED frame was saved")
    if demo.failures:
        say(f"\nDemo FAILED: {'; '.join(demo.failures)}")
        code = 1
    else:
        say("\nDemo OK")
    return code
