"""Power-cut lab host side: simulators, command source, cuts, checks, table, JSON.

Run by powercut.sh (make powercut-test). The Mews simulator, the virtual encoder
and the virtual printer run here on the host (127.0.0.1, reached by the guest as
10.0.2.2 through QEMU user networking), so their records survive every cut. The
data disk is served by nbdkit's cache filter in writeback mode: a guest write
reaches data.raw only when the guest flushes; SIGKILLing nbdkit with QEMU loses
every unflushed write, as a power cut loses a card's volatile write cache.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

FINAL = ("Processed", "Cancelled", "Error")
NBD_PORT = int(os.environ.get("POWERCUT_NBD_PORT", "18089"))


def log(text: str) -> None:
    print(f"powercut: {text}", file=sys.stderr, flush=True)


class Platform:
    """The host peers and the command source (admin routes of the Mews simulator)."""

    def __init__(self, work: Path, ports, rng: random.Random):
        from sim.encoder.device import VirtualEncoder
        from sim.mews.server import MewsSimulator
        from sim.printer.virtual import VirtualPrinter

        self.rng = rng
        self.events: list[tuple[float, str]] = []  # (host time, "key:CN"/"key:CC"/"receipt")
        self.mews = MewsSimulator(host="127.0.0.1", port=ports[0], rate_limit=False).start()
        self.encoder = VirtualEncoder(card_delay=1.0, log_path=str(work / "keys.jsonl"), port=ports[1],
                                      on_key=lambda k: self.events.append((time.time(), "key:" + k["command"])))
        self.encoder.start()
        (work / "receipts").mkdir(exist_ok=True)
        self.printer = VirtualPrinter(out_dir=work / "receipts", tcp=True, port=ports[2],
                                      on_receipt=lambda img, path: self.events.append((time.time(), "receipt")))
        self.printer.start()
        self.base = f"http://127.0.0.1:{ports[0]}"
        pdf = Path(__file__).resolve().parents[2] / "sim" / "printer" / "registration-card.pdf"
        self.pdf = base64.b64encode(pdf.read_bytes()).decode()
        self.created: dict[str, tuple[float, str, int]] = {}  # id -> (host time, kind, count)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._source, daemon=True)

    def admin(self, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method="POST" if body is not None else "GET",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def commands(self) -> dict[str, dict]:
        return {c["Id"]: c for c in self.admin("/_sim/commands")["Commands"]}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)
        self.admin("/_sim/faults", {"error_rate": 0.0})

    def _source(self) -> None:
        """One printer and one key command outstanding at a time (so every receipt and key is
        attributed to its command by time); platform errors on and off so the outbox fills and drains."""
        last = {"printer": None, "key": None}
        next_fault = time.time() + self.rng.uniform(20, 40)
        fault_on = False
        while not self._stop.wait(1.0):
            try:
                states = self.commands()
                for kind in last:
                    cid = last[kind]
                    if cid is not None and states[cid]["State"] not in FINAL:
                        continue
                    n = self.rng.choice((1, 2))
                    if kind == "printer":
                        cid = self.admin("/_sim/commands/addPrinter", {"Data": self.pdf, "CopyCount": n})["CommandId"]
                    else:
                        cid = self.admin("/_sim/commands/addKeyCutter", {"KeyCount": n})["CommandId"]
                    self.created[cid] = (time.time(), kind, n)
                    last[kind] = cid
                if time.time() >= next_fault:
                    fault_on = not fault_on
                    self.admin("/_sim/faults", {"error_rate": 1.0 if fault_on else 0.0})
                    next_fault = time.time() + (self.rng.uniform(5, 15) if fault_on else self.rng.uniform(20, 50))
            except Exception as e:  # the source must keep going
                log(f"command source: {e}")


class Boot:
    """One QEMU boot; the guest's report lines (ttyS1) with the host second they appeared."""

    def __init__(self, work: Path, *, setup: bool = False, final: bool = False):
        self.work = work
        self.lines: list[tuple[float, str, str]] = []
        self.serial = work / "lab.log"
        self.serial.unlink(missing_ok=True)
        self.nbd = None
        if setup:
            data = f"file={work}/data.raw,format=raw,if=virtio,cache=writethrough"
        else:
            self.nbd = subprocess.Popen(["nbdkit", "-f", "-i", "127.0.0.1", "-p", str(NBD_PORT), "--filter=cache",
                                         "file", str(work / "data.raw"), "cache=writeback"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            data = f"file=nbd://127.0.0.1:{NBD_PORT},format=raw,if=virtio,cache=writeback"
        root = f"file={work}/disk.raw,format=raw,if=virtio" + ("" if setup else ",snapshot=on")
        append = "root=/dev/vda2 ro rootfstype=ext4 console=ttyS0 quiet" + (" powercut.final" if final or setup else "")
        self.started = time.time()
        self.qemu = subprocess.Popen(
            ["qemu-system-x86_64", "-accel", "tcg", "-m", "768", "-smp", "1", "-nodefaults", "-display", "none",
             "-monitor", "none", "-nic", "user,model=virtio-net-pci", "-kernel", str(work / "vmlinuz"),
             "-initrd", str(work / "initrd.img"), "-append", append, "-drive", root, "-drive", data,
             "-serial", f"file:{work}/console.log", "-serial", f"file:{self.serial}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._pos = 0

    def poll(self) -> None:
        try:
            with open(self.serial, "rb") as f:
                f.seek(self._pos)
                chunk = f.read()
        except FileNotFoundError:
            return
        end = chunk.rfind(b"\n") + 1
        self._pos += end
        for raw in chunk[:end].decode(errors="replace").splitlines():
            parts = raw.strip("\r").split("\t", 2)
            if len(parts) == 3 and parts[0] == "PC":
                self.lines.append((time.time() - self.started, parts[1], parts[2].strip()))

    def get(self, name: str):
        return next(((t, v) for t, n, v in self.lines if n == name), None)

    def wait(self, seconds: float, until=None) -> bool:
        end = time.time() + seconds
        while time.time() < end:
            self.poll()
            if until is not None and until():
                return True
            if self.qemu.poll() is not None:
                self.poll()
                return until() if until else False
            time.sleep(0.2)
        return False

    def cut(self) -> None:
        for p in (self.qemu, self.nbd):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        self.poll()


def fsck_kind(text: str, late: str | None = None) -> str:
    """clean | journal (replayed) | repaired | failed, from systemd-fsck's output.

    A data device that shows up after systemd's fsck gave up ("Dependency failed") is
    checked by kiosk-firstboot before it mounts it (`late`, "... rc N: output"): that
    check counts instead; a late device nobody checked is a failure.
    """
    lines = [x for x in text.split("|") if x.strip() and x != "none"]
    if any("Dependency failed" in x for x in lines):
        m = re.search(r"rc (\d+): (.*)", late or "")
        if m is None or int(m.group(1)) >= 4:
            return "failed"
        lines = [x for x in m.group(2).split("; ") if x.strip()]  # e2fsck's lines, read as systemd-fsck's
    if any("fail" in x.lower() or "UNEXPECTED INCONSISTENCY" in x for x in lines):
        return "failed"
    rest = [x for x in lines if not any(k in x for k in ("clean,", "recovering journal", "Checking", "Finished",
                                                             "Starting", "fsck from"))]
    if rest:
        return "repaired"
    return "journal" if any("recovering journal" in x for x in lines) else "clean"


def attribute(platform: Platform) -> dict[str, list[str]]:
    """Each key/receipt goes to the latest command of its kind created before it (one outstanding at a time)."""
    out: dict[str, list[str]] = {cid: [] for cid in platform.created}
    by_kind = {"printer": [], "key": []}
    for cid, (t, kind, _) in sorted(platform.created.items(), key=lambda kv: kv[1][0]):
        by_kind[kind].append((t, cid))
    for t, what in platform.events:
        kind = "printer" if what == "receipt" else "key"
        owner = None
        for created, cid in by_kind[kind]:
            if created <= t:
                owner = cid
        if owner is not None:
            out[owner].append(what)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--ports", type=int, nargs=3, required=True)
    ap.add_argument("--results", type=Path, required=True)
    args = ap.parse_args()
    n = int(os.environ.get("POWERCUT_N", "100"))
    seed = int(os.environ.get("POWERCUT_SEED", str(random.randrange(1 << 31))))
    window = float(os.environ.get("POWERCUT_WINDOW", "150"))
    rng = random.Random(seed)
    work = args.work
    log(f"N={n} seed={seed} window=0..{window:.0f} s from power-on (replay: POWERCUT_SEED={seed})")
    platform = Platform(work, args.ports, rng)

    if not (work / ".setup").exists():
        log("setup boot: first boot creates the data partition and imports the config, then powers off")
        b = Boot(work, setup=True)
        ok = b.wait(1500, until=lambda: b.qemu.poll() is not None and b.get("drained") is not None)
        b.cut()
        if not ok:
            log(f"setup boot failed (see {work}/console.log, {work}/lab.log)")
            return 1
        (work / ".setup").touch()

    platform.start()
    boots = []
    for i in range(n + 1):
        final = i == n
        if final:
            platform.stop()
        b = Boot(work, final=final)
        cut_at = None
        if final:
            b.wait(1200, until=lambda: b.get("drained") is not None and b.qemu.poll() is not None)
            deadline = time.time() + 120
            while time.time() < deadline and any(c["State"] not in FINAL for c in platform.commands().values()):
                time.sleep(2)
        else:
            cut_at = rng.uniform(0, window)
            b.wait(cut_at)
        b.cut()
        rec = {"boot": i + 1, "cut_at": None if final else round(cut_at, 1),
               **{name: (b.get(name) or (None, None))[1] for name in ("fsck", "mount", "integrity")},
               "ready_s": None if b.get("ready") is None else round(b.get("ready")[0], 1)}
        late = (b.get("latefsck") or (None, None))[1]
        if late is not None:
            rec["late_device_check"] = late
        if rec["fsck"] is not None:
            rec["fsck_kind"] = fsck_kind(rec["fsck"], late)
        rec["final"] = final
        boots.append((rec, b.lines))
        log(f"boot {i + 1}{' (final)' if final else f', cut at {cut_at:.1f} s'}: ready {rec['ready_s']} s, "
            f"fsck {rec.get('fsck_kind')}, integrity {rec['integrity']}, mount {rec['mount']}")

    final_lines = boots[-1][1]
    journal = [json.loads(v) for _, name, v in final_lines if name == "journal"]
    dead = [json.loads(v) for _, name, v in final_lines if name == "dead"]
    cmds = platform.commands()
    owned = attribute(platform)
    recs = [r for r, _ in boots]
    not_final = [cid for cid, c in cmds.items() if c["State"] not in FINAL]
    # the data disk outlives a run: journal entries of earlier runs name commands this platform never made
    lost = [cid for cid, _, state, _ in journal if state == "done" and cid in platform.created
            and cmds[cid]["State"] not in FINAL]
    dup_keys, extra_prints = [], []
    for cid, (t, kind, count) in platform.created.items():
        got = owned.get(cid, [])
        if kind == "key" and (got.count("key:CN") > 1 or len(got) > count):
            dup_keys.append(cid)
        if kind == "printer" and len(got) > 2 * count:
            extra_prints.append(cid)
    readies = [r["ready_s"] for r in recs if r["ready_s"] is not None]
    med = statistics.median(readies) if readies else None
    ready_missing = [r["boot"] for r in recs if r["ready_s"] is None
                     and (r["final"] or (med is not None and r["cut_at"] > 1.5 * med))]
    summary = {
        "cuts": n, "boots": len(recs),
        "fsck_repairs": sum(r.get("fsck_kind") == "repaired" for r in recs),
        "fsck_failures": sum(r.get("fsck_kind") == "failed" for r in recs),
        "journal_replays": sum(r.get("fsck_kind") == "journal" for r in recs),
        "late_device_checks": sum("late_device_check" in r for r in recs),
        "mount_failures": sum(r["mount"] not in (None, "ok") for r in recs),
        "integrity_failures": sum(r["integrity"] not in (None, "ok", "none") for r in recs),
        "ready_missing": len(ready_missing),
        "lost_reports": len(lost), "duplicate_keys": len(dup_keys), "excess_prints": len(extra_prints),
        "commands_not_final": len(not_final), "commands": len(cmds), "dead_letters": len(dead),
        "keys_cut": sum(1 for _, w in platform.events if w.startswith("key")),
        "receipts": sum(1 for _, w in platform.events if w == "receipt"),
        "boot_to_ready_median_s": med, "boot_to_ready_max_s": max(readies) if readies else None,
        "final_drained": any(name == "drained" for _, name, _ in final_lines),
    }
    loss = ("fsck_failures", "mount_failures", "integrity_failures", "ready_missing", "lost_reports",
            "duplicate_keys", "excess_prints", "commands_not_final")
    ok = all(summary[k] == 0 for k in loss) and summary["final_drained"]
    print()
    for k, v in summary.items():
        print(f"{k:24} {v}")
    print(f"{'result':24} {'PASS' if ok else 'FAIL'}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({"seed": seed, "window_s": window, "summary": summary, "pass": ok,
                                        "evidence": {"lost": lost, "duplicate_keys": dup_keys,
                                                     "excess_prints": extra_prints, "not_final": not_final,
                                                     "ready_missing": ready_missing, "dead": dead},
                                        "boots": recs}, indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
