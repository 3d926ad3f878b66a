#!/bin/bash
# make powercut-test: pull the plug POWERCUT_N times (default 100) under QEMU.
#
# Builds the root file system exactly as `make image-test` does (its build steps,
# sourced from run.sh), plus lab-only units (powercut-files/), then hands over to
# powercut.py, which runs the simulators on the host and cuts the VM.
# POWERCUT_SEED replays a run; POWERCUT_REBUILD=1 rebuilds the image.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export IMAGE_TEST_WORK=${POWERCUT_WORK:-$(cd "$HERE/../.." && pwd)/image/work/powercut}
# shellcheck source-path=SCRIPTDIR source=run.sh
source "$HERE/run.sh"
PC=$HERE/powercut-files
MEWS_PORT=${POWERCUT_MEWS_PORT:-18080} ENC_PORT=${POWERCUT_ENCODER_PORT:-18081} PRN_PORT=${POWERCUT_PRINTER_PORT:-18082}

lab_additions() {
	log "power-cut lab additions: probe/ready units, networkd on QEMU user networking, host sims as peers"
	in_root systemctl disable kiosk-sim.service kiosk-imagetest.service >/dev/null 2>&1
	install -m 0755 "$PC/powercut-probe" "$PC/powercut-ready" "$ROOT/usr/local/sbin/"
	install -m 0644 "$PC/powercut-probe.service" "$PC/powercut-ready.service" "$ROOT/etc/systemd/system/"
	printf '[Match]\nName=e*\n[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\n' >"$ROOT/etc/systemd/network/10-lab.network"
	in_root systemctl enable powercut-probe.service powercut-ready.service systemd-networkd.service >/dev/null 2>&1
	rm -f "$ROOT/etc/systemd/system/kiosk-agent.service.d/test.conf" # the field's WatchdogSec=30
	cat >"$ROOT/boot/firmware/kiosk-agent.toml" <<-TOML
		# power-cut lab: every peer is on the host (QEMU user networking: 10.0.2.2 is the host's loopback)
		[mews]
		platform_address = "http://10.0.2.2:$MEWS_PORT"
		generation = "current"
		client_token = "E0D439EE522F44368DC78E1BFB03710C-D24FB11DBE31D4621C4817E028D9E1D"
		access_token = "C66EF7B239D24632943D115EDE9CB810-EA00F8FD8294692C940F6B5A8F9453D"
		mode = "websocket"
		[agent]
		state_dir = "/var/lib/kiosk-agent"
		[encoder]
		port = "socket://10.0.2.2:$ENC_PORT"
		reply_timeout = 10
		[printer]
		port = "socket://10.0.2.2:$PRN_PORT"
	TOML
}

mkdir -p "$WORK"
if [ -z "${POWERCUT_REBUILD:-}" ] && [ -f "$WORK/disk.raw" ] && [ -f "$WORK/.built" ]; then
	log "reusing the built lab disk in $WORK (POWERCUT_REBUILD=1 rebuilds)"
else
	shared=$(dirname "$WORK")/image-test/base
	if [ ! -f "$WORK/base/.complete" ] && [ -f "$shared/.complete" ]; then
		log "hard-linking the debootstrapped base from $shared"
		cp -al "$shared" "$WORK/base"
	fi
	ensure_tools
	command -v nbdkit >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nbdkit >/dev/null; }
	debootstrap_base
	build_wheelhouse
	prepare_root
	lab_additions
	make_disks
	rm -f "$WORK/.setup"
	touch "$WORK/.built"
fi
trap - EXIT
PY=python3
[ -x "$REPO/.venv/bin/python" ] && PY=$REPO/.venv/bin/python
exec env PYTHONPATH="$REPO" "$PY" "$HERE/powercut.py" --work "$WORK" \
	--ports "$MEWS_PORT" "$ENC_PORT" "$PRN_PORT" --results "$REPO/bench/results/powercut.json"
