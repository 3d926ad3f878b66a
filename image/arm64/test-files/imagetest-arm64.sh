# arm64 image test only: sourced by kiosk-imagetest in boot 1 (IMAGETEST_EXTRA), after
# the checks make image-test has. The simulators run on the host (QEMU user
# networking: 10.0.2.2 is the host's loopback, $PLATFORM the Mews simulator).
# shellcheck shell=bash
PY=/opt/kiosk-agent/bin/python

ready_at() { # seconds from kernel start to the agent's first READY=1 (systemd logs "Started" then)
	journalctl -b -o short-monotonic --no-pager -u kiosk-agent.service | grep -m1 'Started kiosk-agent' \
		| sed -E 's/^\[ *([0-9]+)\.([0-9]).*/\1.\2/'
}
check arch "$(uname -m), $($PY -c 'import platform; print("Python", platform.python_version())'), $(uname -r)" \
	test "$(uname -m)" = aarch64
check readonly-root "/ is $(findmnt -no FSTYPE /) ($(grep -o 'overlayroot=[^ ]*' /proc/cmdline))" \
	test "$(findmnt -no FSTYPE /)" = overlay
READY_S=$(ready_at)
report boot-to-ready "$([ -n "$READY_S" ] && echo OK || echo FAIL)" "${READY_S:-?} s after kernel start (TCG)"

# The kiosk API on its loopback address ([kiosk] enabled in the test config).
KIOSK_DETAIL=$($PY - <<'PY' 2>&1
import json, urllib.request
with urllib.request.urlopen("http://127.0.0.1:8765/api/config", timeout=20) as r:
    body = json.load(r)
print(f"GET /api/config {r.status}: {sorted(body)[:4]}")
PY
)
check kiosk-api "$KIOSK_DETAIL" grep -q ' 200: ' <<<"$KIOSK_DETAIL"

# A printer command (the sample PDF, rendered by pypdfium2 on aarch64) and a key
# command, made on the host's simulator; both must end Processed.
COMMANDS_DETAIL=$($PY - "$PLATFORM" <<'PY' 2>&1
import base64, json, sys, time, urllib.request
from pathlib import Path
import sim
base = sys.argv[1]
def call(path, body=None):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=20) as r:
        return json.load(r)
pdf = (Path(sim.__file__).parent / "printer" / "registration-card.pdf").read_bytes()
ids = {"printer": call("/_sim/commands/addPrinter", {"Data": base64.b64encode(pdf).decode(), "CopyCount": 1})["CommandId"],
       "key": call("/_sim/commands/addKeyCutter", {"KeyCount": 1})["CommandId"]}
t0 = time.monotonic()
states = {}
while time.monotonic() - t0 < 300:
    all_ = {c["Id"]: c["State"] for c in call("/_sim/commands")["Commands"]}
    states = {k: all_.get(v) for k, v in ids.items()}
    if all(s in ("Processed", "Cancelled", "Error") for s in states.values()):
        break
    time.sleep(2)
print(f"printer {states['printer']}, key {states['key']} after {time.monotonic() - t0:.0f} s")
PY
)
check commands "$COMMANDS_DETAIL" grep -q '^printer Processed, key Processed' <<<"$COMMANDS_DETAIL"

# The technician's check: it runs on aarch64 (exit 1 is a failed device check, not a crash).
DOCTOR_OUT=$(timeout 120 /usr/local/bin/kiosk-agent doctor --config /etc/kiosk-agent/config.toml 2>&1)
DOCTOR_RC=$?
echo "$DOCTOR_OUT"
check doctor "exit $DOCTOR_RC: $(echo "$DOCTOR_OUT" | tail -n 1)" \
	test "$DOCTOR_RC" -le 1 -a -n "$(echo "$DOCTOR_OUT" | grep -E '^[0-9]+ checks')"

# RLIMIT_AS of the PDF renderer re-measured on the booted aarch64 kernel (qemu-user
# cannot: its VmSize is the emulator's, and it does not enforce the guest's limit).
RLIMIT_DETAIL=$(runuser -u kiosk -- $PY /usr/local/lib/sandbox_measure.py 2>&1 | tail -n 1)
check rlimit-as "$RLIMIT_DETAIL" grep -q '"sample_card_renders": true' <<<"$RLIMIT_DETAIL"

# The A/B image (image/ab/layout.sh): RAUC reads both slots, slot A booted and primary
# (the test booted autoboot.txt's [all] partition), RAUC's config and keyring in /etc/rauc,
# /boot/firmware is boot A (kiosk-boot-slot generator), the data partition is p7 on the
# same disk, grown by first boot to the end of the disk (the test disk has 512 MiB more).
AB_DETAIL=$($PY - <<'PY' 2>&1
import json, os, subprocess
from agent.fleet import rauc
out = subprocess.run(["rauc", "status", "--detailed", "--output-format=json"], capture_output=True,
                     text=True, timeout=120)
if out.returncode:
    raise SystemExit(f"rauc status exit {out.returncode}: {out.stderr.strip()[-200:]}")
st = rauc.parse_status(out.stdout)  # the agent's own reading (root slots: booted, primary, states)
names = sorted(name for entry in json.loads(out.stdout)["slots"] for name in entry)  # every slot RAUC knows
states = ",".join(f"{s.bootname}:{s.boot_status or '?'}" for s in st.slots)
def src(path):
    return subprocess.run(["findmnt", "-no", "SOURCE", path], capture_output=True, text=True).stdout.strip()
data = os.path.realpath(src("/mnt/kiosk-data"))
dname = os.path.basename(data)
disk = os.path.basename(os.path.dirname(os.path.realpath(f"/sys/class/block/{dname}")))
part = int(open(f"/sys/class/block/{dname}/partition").read())
end = int(open(f"/sys/class/block/{dname}/start").read()) + int(open(f"/sys/class/block/{dname}/size").read())
disk_size = int(open(f"/sys/block/{disk}/size").read())
fs_mib = os.statvfs("/mnt/kiosk-data").f_blocks * os.statvfs("/mnt/kiosk-data").f_frsize // 2**20
boot = os.path.realpath(src("/boot/firmware"))
info = open("/usr/lib/kiosk/BUILD-INFO").read()
keyring = "development" if "rauc_keyring=development" in info else "chain"
ok = (st.booted == "A" and st.primary == "A" and names == ["boot.0", "boot.1", "rootfs.0", "rootfs.1"]
      and os.path.isfile("/etc/rauc/system.conf") and os.path.isfile("/etc/rauc/keyring.pem")
      and boot.endswith("2") and part == 7 and disk_size - end < 8192 and fs_mib > 600)
print(f"{'AB-OK' if ok else 'AB-BAD'} booted {st.booted} primary {st.primary} slots {','.join(names)} ({states}) "
      f"boot {boot} data {data} p{part} {fs_mib} MiB (disk end -{disk_size - end} sectors) keyring {keyring}")
PY
)
check ab-slots "$AB_DETAIL" grep -q '^AB-OK' <<<"$AB_DETAIL"
