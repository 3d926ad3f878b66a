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
