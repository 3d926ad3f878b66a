"""Update rehearsal host side (make update-test): one unit under QEMU, updated again and again.

Run by update.sh after it built the disks. The Mews simulator, the virtual encoder
and printer (powercut.Platform: a command source that keeps one print and one key
command outstanding and turns platform errors on and off) and a systemd-journal-remote
(mutual TLS) run on the host, reached by the guest at 10.0.2.2. Both guest disks are
served by nbdkit's cache filter in writeback mode, as in the power-cut lab: a power cut
(SIGKILL of QEMU and nbdkit together) loses every write the guest did not flush.

The guest's checker (update-files/kiosk-update-check) reports each boot on ttyS1 and
asks /action what to do. The plan: a clean install (the version changes, the gate
commits), then the injected failures, each followed by boots until the unit is on a
working slot again (agent READY, RAUC's booted slot good): bundles with a bad
signature (refused, the other slot untouched), crash-looping versions (the gate rolls
back), power cuts during the install and during the trial boot. Last, the outbox is
drained and every command the platform made must be final there: no report lost.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from powercut import FINAL, Platform

NBD_PORTS = (int(os.environ.get("UPDATE_TEST_NBD_PORT", "18096")), int(os.environ.get("UPDATE_TEST_NBD_PORT", "18096")) + 1)
BOOT_TIMEOUT = float(os.environ.get("UPDATE_TEST_BOOT_TIMEOUT", "900"))


def log(text: str) -> None:
    print(f"update-test: {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


class Failed(Exception):
    """The unit did not do what the step expected (the step's record says what)."""


class Actions(ThreadingHTTPServer):
    """GET /action: the next thing the checker does ("install NAME", "status", "drain", or "none")."""

    daemon_threads = True

    def __init__(self, port: int):
        self.next = "none"
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with outer.lock:
                    body, outer.next = outer.next, "none"
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        super().__init__(("127.0.0.1", port), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def set(self, action: str) -> None:
        with self.lock:
            self.next = action


class MutualTlsFront:
    """Mutual TLS in front of the host's systemd-journal-remote.

    Debian's systemd-journal-remote is built without ``--trust`` (it would not check the
    unit's certificate), so the host terminates TLS here: a client certificate chaining to
    the test CA is required (ssl.CERT_REQUIRED), and the bytes go on to journal-remote's
    plain HTTP listener on loopback. Refused handshakes are counted.
    """

    def __init__(self, port: int, backend: int, pki: Path):
        import socket
        import ssl

        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki / "server.crt", pki / "server.key")
        self.ctx.load_verify_locations(pki / "ca.crt")
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.backend = backend
        self.accepted = self.refused = 0
        self.sock = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        import socket
        import ssl

        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            try:
                raw.settimeout(30)
                conn = self.ctx.wrap_socket(raw, server_side=True)
                conn.settimeout(None)
                back = socket.create_connection(("127.0.0.1", self.backend))
            except (OSError, ssl.SSLError):
                self.refused += 1
                raw.close()
                continue
            self.accepted += 1
            for a, b in ((conn, back), (back, conn)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass


def refuses_anonymous(port: int, pki: Path) -> bool:
    """True when a TLS client without a certificate gets nothing through the front (mutual TLS holds)."""
    import socket
    import ssl

    ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
                conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                return conn.recv(100) == b""
    except (OSError, ssl.SSLError):
        return True


def accel() -> list[str]:
    """KVM when a kernel boots under it here (nested KVM hangs in early boot on some hosts), else TCG."""
    if os.environ.get("UPDATE_TEST_ACCEL") in ("tcg", "kvm"):
        return ["-accel", "tcg"] if os.environ["UPDATE_TEST_ACCEL"] == "tcg" else ["-accel", "kvm", "-cpu", "host"]
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return ["-accel", "tcg"]
    # the guest's own kernel: another kernel may boot under KVM where this one hangs
    kernel = next(iter(sorted(Path(os.environ.get("UPDATE_TEST_KERNEL_DIR", "/boot")).glob("vmlinuz-*"))), None)
    if kernel is None:
        return ["-accel", "tcg"]
    try:
        out = subprocess.run(["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "256", "-nodefaults",
                              "-display", "none", "-serial", "stdio", "-kernel", str(kernel), "-append",
                              "console=ttyS0", "-no-reboot"], capture_output=True, timeout=15).stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or b""
    return ["-accel", "kvm", "-cpu", "host"] if b"Command line:" in out else ["-accel", "tcg"]


class Unit:
    """The VM: one power-on at a time; ttyS1 lines ("UT<TAB>name<TAB>value") with the host time they came."""

    def __init__(self, work: Path, accel_args: list[str]):
        self.work, self.accel = work, accel_args
        self.lines: list[tuple[float, str, str]] = []
        self.qemu = None
        self.nbd: list[subprocess.Popen] = []
        self.power_ons = 0
        self._pos = 0

    def power_on(self) -> None:
        self.power_ons += 1
        self.serial = self.work / "run" / f"ut-{self.power_ons:03}.log"
        self._pos = 0
        self.nbd = [subprocess.Popen(["nbdkit", "-f", "-i", "127.0.0.1", "-p", str(port), "--filter=cache", "file",
                                      str(self.work / "run" / name), "cache=writeback"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    for port, name in zip(NBD_PORTS, ("disk.raw", "data.raw"))]
        time.sleep(0.5)
        drives = [f"file=nbd://127.0.0.1:{NBD_PORTS[0]},format=raw,if=virtio,cache=writeback",
                  f"file=nbd://127.0.0.1:{NBD_PORTS[1]},format=raw,if=virtio,cache=writeback",
                  f"file={self.work}/bundles.img,format=raw,if=virtio,readonly=on"]
        args = ["qemu-system-x86_64", *self.accel, "-m", "1024", "-smp", "2", "-nodefaults", "-display", "none",
                "-monitor", "none", "-nic", "user,model=virtio-net-pci"]
        for d in drives:
            args += ["-drive", d]
        args += ["-serial", f"file:{self.work}/run/console-{self.power_ons:03}.log", "-serial", f"file:{self.serial}"]
        self.qemu = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def poll(self) -> None:
        try:
            with open(self.serial, "rb") as f:
                f.seek(self._pos)
                chunk = f.read()
        except (FileNotFoundError, AttributeError):
            return
        end = chunk.rfind(b"\n") + 1
        self._pos += end
        for raw in chunk[:end].decode(errors="replace").splitlines():
            parts = raw.strip("\r").split("\t", 2)
            if len(parts) == 3 and parts[0] == "UT":
                self.lines.append((time.time(), parts[1], parts[2].strip()))

    def wait(self, name: str, since: int, timeout: float = BOOT_TIMEOUT) -> tuple[int, float, str]:
        """The first line ``name`` at index >= since: (index, host time, value); Failed on timeout."""
        end = time.time() + timeout
        while True:
            self.poll()
            for i in range(since, len(self.lines)):
                if self.lines[i][1] == name:
                    return i, self.lines[i][0], self.lines[i][2]
            if time.time() > end:
                raise Failed(f"no '{name}' within {timeout:.0f} s (console: {self.work}/run/console-{self.power_ons:03}.log)")
            if self.qemu is not None and self.qemu.poll() is not None:
                raise Failed(f"the VM stopped before '{name}'")
            time.sleep(0.3)

    def wait_any(self, names, since: int, timeout: float = BOOT_TIMEOUT) -> tuple[int, float, str, str]:
        """The first line at index >= since whose name is in ``names``: (index, host time, name, value)."""
        end = time.time() + timeout
        while True:
            self.poll()
            for i in range(since, len(self.lines)):
                if self.lines[i][1] in names:
                    return i, self.lines[i][0], self.lines[i][1], self.lines[i][2]
            if time.time() > end:
                raise Failed(f"none of {names} within {timeout:.0f} s (console: {self.work}/run/"
                             f"console-{self.power_ons:03}.log)")
            if self.qemu is not None and self.qemu.poll() is not None:
                raise Failed(f"the VM stopped before any of {names}")
            time.sleep(0.3)

    def cut(self) -> None:
        for p in [self.qemu, *self.nbd]:
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        self.poll()

    def stop(self, timeout: float = 120) -> None:
        if self.qemu is not None:
            try:
                self.qemu.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.cut()


def working(unit: Unit, since: int) -> dict:
    """Boots until one reports READY on a good slot; the record of that boot. Failed when none does.

    A boot whose checker reports nothing more before the next boot's first line (the gate
    rolled back and rebooted, or grub fell back after a failed trial) is skipped.
    """
    i, t_boot, boot = unit.wait("boot", since)
    for _ in range(5):  # a rollback reboots; grub falls back after a failed trial: a few boots at most
        lines = {}
        j = i + 1
        while "rauc" not in lines:
            j, t, name, value = unit.wait_any(("agent", "gate", "ready", "rauc", "boot"), j)
            if name == "boot":
                break
            lines[name] = (t, value)
            j += 1
            if name == "gate" and value.split(" ", 1)[0] == "3":
                j, t, name, value = unit.wait_any(("boot",), j)  # the rollback's reboot
                break
        if name == "boot":
            i, t_boot, boot = j, t, value
            continue
        slot, version = boot.split()[:2]
        st = json.loads(lines["rauc"][1])
        ready = lines["ready"][1].split()[0]
        good = st["booted"] == slot and st["slots"].get(slot, [""])[0] == "good"
        rec = {"slot": slot, "version": version, "gate": lines["gate"][1], "agent": ready, "rauc": st,
               "index": j, "boot_at": t_boot, "gate_at": lines["gate"][0]}
        if ready != "active" or not good:
            raise Failed(f"boot on slot {slot} ({version}) is not working: agent {ready}, rauc {lines['rauc'][1]}")
        return rec
    raise Failed("five boots in a row did not come up on a good slot")


def journal_lines(remote: Path) -> dict:
    """What the host's systemd-journal-remote received: entries by SYSLOG_IDENTIFIER."""
    if not remote.exists() or not any(remote.iterdir()):
        return {}
    out = subprocess.run(["journalctl", "-D", str(remote), "-o", "json", "--no-pager"], capture_output=True,
                         text=True, timeout=120).stdout
    counts: dict[str, int] = {}
    for line in out.splitlines():
        try:
            ident = json.loads(line).get("SYSLOG_IDENTIFIER", "")
        except ValueError:
            continue
        counts[ident] = counts.get(ident, 0) + 1
    return counts


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--ports", type=int, nargs=5, required=True)
    ap.add_argument("--results", type=Path, required=True)
    ap.add_argument("--versions", nargs=3, required=True, help="slot A's, the good bundle's, the crash bundle's")
    args = ap.parse_args()
    work = args.work
    old_version, good_version, crash_version = args.versions
    seed = int(os.environ.get("UPDATE_TEST_SEED", str(random.randrange(1 << 31))))
    rng = random.Random(seed)
    plan_text = os.environ.get("UPDATE_TEST_PLAN", "bad=2,crash=2,install_cut=8,trial_cut=8")
    plan = {k: int(v) for k, v in (p.split("=") for p in plan_text.split(","))}
    log(f"plan {plan_text}, seed {seed} (replay: UPDATE_TEST_SEED={seed})")

    run = work / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    for name in ("disk.raw", "data.raw"):  # every run starts from the built disks
        subprocess.run(["cp", "--sparse=always", str(work / name), str(run / name)], check=True)
    remote = run / "journal-remote"
    remote.mkdir()
    pki = work / "pki"
    jr = subprocess.Popen(["/lib/systemd/systemd-journal-remote", f"--listen-http=127.0.0.1:{args.ports[4] + 1}",
                           "--split-mode=none", f"--output={remote}/remote.journal"],
                          stdout=open(run / "journal-remote.log", "w"), stderr=subprocess.STDOUT)
    front = MutualTlsFront(args.ports[4], args.ports[4] + 1, pki)
    anonymous_refused = refuses_anonymous(args.ports[4], pki)
    actions = Actions(args.ports[0])
    platform = Platform(run, args.ports[1:4], rng)
    acc = accel()
    log(f"accelerator: {' '.join(acc)}")
    unit = Unit(work, acc)
    steps: list[dict] = []
    timing = {"install_s": None, "trial_s": None}
    t0 = time.time()

    def step(kind: str, fn) -> None:
        rec = {"step": len(steps) + 1, "kind": kind, "started": round(time.time() - t0, 1)}
        try:
            rec.update(fn())
            rec["ok"] = True
        except Failed as e:
            rec.update(ok=False, error=str(e))
            # Leave the unit running for the next step only when it is up; else power it on again.
            unit.cut()
            unit.power_on()
            try:
                rec["after"] = {k: v for k, v in working(unit, len(unit.lines)).items() if k != "rauc"}
            except Failed as e2:
                rec["after_error"] = str(e2)
        rec["took_s"] = round(time.time() - t0 - rec["started"], 1)
        steps.append(rec)
        # So far, in case the run is stopped before its end (the final summary replaces it).
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps({"seed": seed, "plan": plan, "partial": True, "steps": steps},
                                           indent=1, default=str) + "\n")
        log(f"step {rec['step']} {kind}: {'ok' if rec['ok'] else 'FAILED: ' + rec.get('error', '')} "
            f"({rec['took_s']} s) {json.dumps({k: v for k, v in rec.items() if k in ('slot', 'version', 'cut_at', 'ended')})}")

    def install(bundle: str, since: int) -> tuple[int, float, str]:
        # The platform is down from just before the install until the new slot runs: reports queue.
        platform.admin("/_sim/faults", {"error_rate": 1.0})
        actions.set(f"install {bundle}")
        return unit.wait("installing", since, 300)

    state = {}

    def first_boot():
        unit.power_on()
        rec = working(unit, 0)
        state.update(rec)
        if rec["version"] != old_version:
            raise Failed(f"slot A runs {rec['version']}, expected {old_version}")
        return {"slot": rec["slot"], "version": rec["version"]}

    def clean_install():
        i, t_inst, _ = install("good.raucb", len(unit.lines))
        i, t_done, installed = unit.wait("installed", i + 1, 1800)
        if not installed.startswith("0 "):
            raise Failed(f"install failed: {installed}")
        i, t_reboot, _ = unit.wait("rebooting", i + 1, 60)
        rec = working(unit, i + 1)
        platform.admin("/_sim/faults", {"error_rate": 0.0})
        timing["install_s"] = round(t_done - t_inst, 1)
        timing["trial_s"] = round(rec["gate_at"] - t_reboot, 1)
        if rec["version"] != good_version or rec["slot"] == state["slot"] or "commit" not in rec["gate"]:
            raise Failed(f"after the install: slot {rec['slot']} version {rec['version']}, gate {rec['gate']}")
        state.update(rec)
        return {"slot": rec["slot"], "version": rec["version"], "gate": rec["gate"], **timing}

    def bad_signature():
        other = "B" if state["slot"] == "A" else "A"
        before = state["rauc"]["slots"].get(other)
        i, _, _ = install("evil.raucb", len(unit.lines))
        i, _, installed = unit.wait("installed", i + 1, 600)
        platform.admin("/_sim/faults", {"error_rate": 0.0})
        if installed.startswith("0 ") or "signature" not in installed.lower():
            raise Failed(f"a bundle signed by another key was not refused for its signature: {installed}")
        actions.set("status")
        i, _, rauc = unit.wait("rauc", i + 1, 120)
        after = json.loads(rauc)
        if after["booted"] != state["slot"] or after["slots"].get(other) != before:
            raise Failed(f"the refused bundle changed the slots: before {before}, after {after}")
        why = installed.split("LastError:", 1)[-1].strip() if "LastError:" in installed else installed
        return {"slot": after["booted"], "refused": why[:160], "other_slot": after["slots"].get(other)}

    def crash_loop():
        i, _, _ = install("crash.raucb", len(unit.lines))
        i, _, installed = unit.wait("installed", i + 1, 1800)
        if not installed.startswith("0 "):
            raise Failed(f"install failed: {installed}")
        i, _, _ = unit.wait("rebooting", i + 1, 60)
        i, _, boot = unit.wait("boot", i + 1)
        trial_slot, trial_version = boot.split()[:2]
        rec = working(unit, i)  # the trial's boot first: its gate rolls back, the next boot is the old slot
        platform.admin("/_sim/faults", {"error_rate": 0.0})
        if trial_version != crash_version or rec["version"] == crash_version or rec["slot"] != state["slot"]:
            raise Failed(f"trial {trial_slot} {trial_version}; ended on {rec['slot']} {rec['version']}")
        state.update(rec)
        return {"trial": f"{trial_slot} {trial_version}", "slot": rec["slot"], "version": rec["version"],
                "ended": "rolled back"}

    def cut_during(where: str):
        before = state["slot"]
        i, t_inst, _ = install("good.raucb", len(unit.lines))
        if where == "install":
            cut_at = rng.uniform(0, timing["install_s"] or 120)
            deadline = t_inst + cut_at
        else:
            i, _, installed = unit.wait("installed", i + 1, 1800)
            if not installed.startswith("0 "):
                raise Failed(f"install failed: {installed}")
            i, t_reboot, _ = unit.wait("rebooting", i + 1, 60)
            cut_at = rng.uniform(0, timing["trial_s"] or 120)
            deadline = t_reboot + cut_at
        while time.time() < deadline:
            unit.poll()
            time.sleep(0.2)
        progressed = [n for _, n, _ in unit.lines[i:]]
        unit.cut()
        unit.power_on()
        rec = working(unit, len(unit.lines))
        platform.admin("/_sim/faults", {"error_rate": 0.0})
        state.update(rec)
        return {"cut_at": round(cut_at, 1), "lines_before_cut": progressed[-3:], "slot": rec["slot"],
                "version": rec["version"], "ended": "old slot" if rec["slot"] == before else "new slot"}

    platform.start()
    try:
        step("first boot", first_boot)
        if not steps[-1]["ok"]:
            raise SystemExit(1)
        step("install", clean_install)
        kinds = (["bad_signature"] * plan.get("bad", 0) + ["crash_loop"] * plan.get("crash", 0)
                 + ["install_cut"] * plan.get("install_cut", 0) + ["trial_cut"] * plan.get("trial_cut", 0))
        for kind in kinds:
            fn = {"bad_signature": bad_signature, "crash_loop": crash_loop,
                  "install_cut": lambda: cut_during("install"), "trial_cut": lambda: cut_during("trial")}[kind]
            step(kind, fn)
        platform.stop()
        log("final: drain the outbox, dump the journal, power off")
        actions.set("drain")
        since = len(unit.lines)
        try:
            unit.wait("drained", since, 900)
            unit.wait("uploaded", since, 120)
        except Failed as e:
            log(f"final drain: {e}")
        unit.stop()
        deadline = time.time() + 60
        while time.time() < deadline and any(c["State"] not in FINAL for c in platform.commands().values()):
            time.sleep(2)
    finally:
        unit.cut()
        jr.send_signal(signal.SIGTERM)
        try:
            jr.wait(10)
        except subprocess.TimeoutExpired:
            jr.kill()

    journal = [json.loads(v) for _, n, v in unit.lines if n == "journal"]
    cmds = platform.commands()
    lost = [cid for cid, _, state_, _ in journal if state_ == "done" and cid in platform.created
            and cmds[cid]["State"] not in FINAL]
    not_final = [cid for cid, c in cmds.items() if c["State"] not in FINAL]
    uploaded = journal_lines(remote)
    injected = [s for s in steps if s["kind"] not in ("first boot", "install")]
    summary = {
        "injected_failures": len(injected),
        "ended_on_working_slot": sum(1 for s in injected if s["ok"]),
        "bad_signature_refused": sum(1 for s in injected if s["kind"] == "bad_signature" and s["ok"]),
        "crash_loops_rolled_back": sum(1 for s in injected if s["kind"] == "crash_loop" and s["ok"]),
        "install_cuts_survived": sum(1 for s in injected if s["kind"] == "install_cut" and s["ok"]),
        "trial_cuts_survived": sum(1 for s in injected if s["kind"] == "trial_cut" and s["ok"]),
        "clean_install": bool(steps[1:2] and steps[1]["ok"]),
        "power_ons": unit.power_ons,
        "commands": len(cmds), "lost_reports": len(lost), "commands_not_final": len(not_final),
        "journal_entries_uploaded": sum(uploaded.values()), "agent_lines_uploaded": uploaded.get("kiosk-agent", 0),
        "gate_lines_uploaded": uploaded.get("kiosk-update-gate", 0),
        "upload_tls_connections": front.accepted, "upload_without_client_cert_refused": anonymous_refused,
        "install_s": timing["install_s"], "trial_to_gate_s": timing["trial_s"],
        "accelerator": acc[1], "minutes": round((time.time() - t0) / 60, 1),
    }
    ok = (summary["clean_install"] and summary["ended_on_working_slot"] == summary["injected_failures"]
          and not lost and not not_final and summary["agent_lines_uploaded"] > 0 and anonymous_refused)
    print()
    print(f"{'step':>4}  {'kind':14} {'result':7} {'slot':4} {'version':8} {'took s':>7}  detail")
    for s in steps:
        detail = s.get("error") or s.get("refused") or s.get("ended") or s.get("gate", "")
        if "cut_at" in s:
            detail = f"cut at {s['cut_at']} s; {detail}"
        print(f"{s['step']:>4}  {s['kind']:14} {'ok' if s['ok'] else 'FAIL':7} {s.get('slot', '-'):4} "
              f"{s.get('version', '-'):8} {s['took_s']:>7}  {str(detail)[:90]}")
    print()
    for k, v in summary.items():
        print(f"{k:26} {v}")
    print(f"{'result':26} {'PASS' if ok else 'FAIL'}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({"seed": seed, "plan": plan, "summary": summary, "pass": ok,
                                        "evidence": {"lost": lost, "not_final": not_final,
                                                     "uploaded_by_identifier": uploaded},
                                        "steps": steps}, indent=1, default=str) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
