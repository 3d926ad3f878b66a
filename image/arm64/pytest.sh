#!/bin/bash
# make image-arm64-pytest: the agent's tests that need no hardware, under the
# arm64 Python of the image's own tree (image/work/arm64/rootfs, left by make
# image-arm64) through qemu-user, and the PDF renderer's RLIMIT_AS re-measured
# there (sandbox_measure.py, also run on this host for comparison).
#
# The tree is not changed: an overlay on it gets the test tools (pip, from PyPI,
# into the agent's venv /opt/kiosk-agent) and a copy of this checkout in /src.
# ARM64_PYTEST="tests/test_x.py ..." picks other tests. Needs root.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${ARM64_WORK:-$REPO/image/work/arm64}
TREE=$WORK/rootfs
RUN=$WORK/pytest
# config, urequests, printer raster and sandbox, encoder protocol, runtime
TESTS=${ARM64_PYTEST:-tests/test_config.py tests/test_urequests.py tests/test_printer_raster.py
tests/test_printer_limits.py tests/test_encoder_frame.py tests/test_encoder_link.py tests/test_runtime_jobs.py}
TEST_TOOLS=(pytest pytest-timeout pytest-mock hypothesis aiohttp)

log() { echo "image-arm64-pytest: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (overlay mount, chroot)"
[ -x "$TREE/opt/kiosk-agent/bin/python" ] || die "no arm64 tree in $TREE: make image-arm64 first"

M=$RUN/merged
unmount_all() {
	local m
	for m in src dev/pts dev sys proc; do mountpoint -q "$M/$m" 2>/dev/null && umount -l "$M/$m"; done
	mountpoint -q "$M" && umount -l "$M"
	return 0
}
trap unmount_all EXIT
unmount_all
rm -rf "$RUN"
mkdir -p "$RUN/upper" "$RUN/overlay-work" "$M"
mount -t overlay overlay -o "lowerdir=$TREE,upperdir=$RUN/upper,workdir=$RUN/overlay-work" "$M"
mount -t proc proc "$M/proc"
mount -t sysfs sys "$M/sys"
mount --bind /dev "$M/dev"
mount --bind /dev/pts "$M/dev/pts"
rm -f "$M/etc/resolv.conf"
cp /etc/resolv.conf "$M/etc/resolv.conf"
# this host's CA bundle: PyPI may be reached through its TLS-inspecting proxy
cp /etc/ssl/certs/ca-certificates.crt "$M/etc/ssl/certs/kiosk-host-ca.crt"
mkdir -p "$M/src"
tar -C "$REPO" --exclude=./image/work --exclude=./.venv --exclude=./.git --exclude=./build -cf - . | tar -C "$M/src" -xf -

in_tree() { chroot "$M" /usr/bin/env -i PATH=/opt/kiosk-agent/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

log "test tools into the overlay's /opt/kiosk-agent: ${TEST_TOOLS[*]}"
in_tree python -m pip install --cert /etc/ssl/certs/kiosk-host-ca.crt --quiet --disable-pip-version-check "${TEST_TOOLS[@]}" >"$RUN/pip.log" 2>&1 \
	|| { tail -n 20 "$RUN/pip.log"; die "pip install of the test tools failed"; }
log "$(in_tree python -c 'import platform, sys; print(platform.machine(), "Python", sys.version.split()[0])')"

start_s=$(date +%s)
status=0
in_tree sh -c "cd /src && python -m pytest -q -p no:cacheprovider ${TESTS//$'\n'/ }" 2>&1 | tee "$RUN/pytest.log" || status=1
log "tests: $(tail -n 1 "$RUN/pytest.log") ($(($(date +%s) - start_s)) s under qemu-user)"

# Under qemu-user VmSize is the emulator's and RLIMIT_AS is not the guest's: the
# aarch64 figure that counts is make image-arm64-test's (rlimit-as, in the booted image).
log "RLIMIT_AS of the PDF renderer, this host then the arm64 tree (qemu-user: VmSize is the emulator's):"
PY=python3
[ -x "$REPO/.venv/bin/python" ] && PY=$REPO/.venv/bin/python
"$PY" "$HERE/sandbox_measure.py" | tee "$RUN/sandbox-host.json" || status=1
in_tree python /src/image/arm64/sandbox_measure.py | tee "$RUN/sandbox-qemu-user.json" || true
exit "$status"
