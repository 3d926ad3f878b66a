#!/bin/bash
# make image-test: the image's install steps on a real Debian system, booted.
#
#  1. debootstrap a Debian bookworm root file system (Debian archive);
#  2. run image/install.sh --image in it (chroot), exactly as the pi-gen stage
#     does, plus test-only units: the Mews simulator, a short WatchdogSec, the
#     checker; put kiosk-agent.toml on a FAT "boot partition";
#  3. boot it under qemu-system-x86_64 (TCG; IMAGE_TEST_ACCEL=kvm for KVM) with the
#     Debian kernel and a blank virtual data disk, twice (the checker reboots);
#  4. read the checker's results from the second serial port; print a table.
#
# IMAGE_TEST_DATA=rootdisk puts the data partition in the free space of the
# booted disk instead, as on an SD card.
# Needs root. Installs debootstrap/qemu/mtools with apt-get when missing.
# Work files: image/work/image-test (IMAGE_TEST_WORK); the debootstrapped base
# is cached there (delete base/ to rebuild it).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${IMAGE_TEST_WORK:-$REPO/image/work/image-test}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
TIMEOUT=${IMAGE_TEST_TIMEOUT:-1500} # seconds for both boots
# disk: a blank second virtual disk becomes the data partition (DATA_DISK=/dev/vdb);
# rootdisk: as on an SD card, free space after the root partition on the booted disk.
DATA_MODE=${IMAGE_TEST_DATA:-disk}
ROOT=$WORK/rootfs
BOOT_MB=128
DISK_MB=2560
DATA_MB=512

log() { echo "image-test: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, chroot)"

ensure_tools() {
	local missing=() pair
	for pair in debootstrap:debootstrap qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils \
		mkfs.vfat:dosfstools mcopy:mtools sfdisk:fdisk mkfs.ext4:e2fsprogs; do
		command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

cleanup_mounts() {
	local m
	for m in dev/pts dev proc sys; do
		mountpoint -q "$ROOT/$m" && umount -l "$ROOT/$m"
	done
	return 0
}
trap cleanup_mounts EXIT

debootstrap_base() {
	if [ -f "$WORK/base/.complete" ]; then
		log "reusing the debootstrapped base in $WORK/base"
		return
	fi
	log "debootstrap $SUITE from $MIRROR (a few minutes)"
	rm -rf "$WORK/base"
	debootstrap --variant=minbase \
		--include=systemd,systemd-sysv,udev,dbus,kmod,linux-image-amd64,initramfs-tools,apt,ca-certificates,procps,iproute2,util-linux,e2fsprogs,fdisk \
		"$SUITE" "$WORK/base" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
		|| { tail -n 30 "$WORK/debootstrap.log"; die "debootstrap failed (log: $WORK/debootstrap.log)"; }
	touch "$WORK/base/.complete"
}

build_wheelhouse() {
	local py=python3
	[ -x "$REPO/.venv/bin/python" ] && py=$REPO/.venv/bin/python
	log "wheelhouse: kiosk-agent[sim] and dependencies"
	rm -rf "$WORK/wheels"
	"$py" -m pip wheel --quiet --wheel-dir "$WORK/wheels" "${REPO}[sim]" >"$WORK/wheels.log" 2>&1 \
		|| { tail -n 20 "$WORK/wheels.log"; die "pip wheel failed"; }
}

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# The kiosk screen unit: systemd-analyze verify in the image. Starting it (cage +
# Chromium with WLR_BACKENDS=headless) is checked on the host by
# tests/test_kiosk_ui_screen.py, not in this VM: the VM boots without a network
# (-nic none) from a minbase root with no cage/chromium (~300 MB more per boot
# disk), and Chromium under TCG takes minutes to paint.
verify_screen_unit() {
	local out
	if out=$(in_root systemd-analyze verify /etc/systemd/system/kiosk-screen.service 2>&1); then
		log "kiosk-screen.service: systemd-analyze verify OK"
		log "kiosk-screen.service: start not checked in this VM: its minbase root has no cage/chromium" \
			"(~300 MB more per boot disk), it boots without a network (-nic none), and Chromium under TCG" \
			"takes minutes to paint; tests/test_kiosk_ui_screen.py starts the same script under cage's" \
			"headless backend on the host and reads the page through Chromium's remote-debugging port"
	else
		echo "$out" >&2
		die "kiosk-screen.service: systemd-analyze verify failed"
	fi
}

prepare_root() {
	log "root file system: copy of the base"
	rm -rf "$ROOT"
	cp -a "$WORK/base" "$ROOT"
	mount -t proc proc "$ROOT/proc"
	mount -t sysfs sys "$ROOT/sys"
	mount --bind /dev "$ROOT/dev"
	mount --bind /dev/pts "$ROOT/dev/pts"
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
	echo kiosk >"$ROOT/etc/hostname"
	# Raspberry Pi OS layout: the FAT boot partition at /boot/firmware, with the
	# stock cmdline.txt tokens the stage must rewrite.
	mkdir -p "$ROOT/boot/firmware"
	echo "console=serial0,115200 console=tty1 root=ROOTDEV rootfstype=ext4 fsck.repair=yes rootwait resize" \
		>"$ROOT/boot/firmware/cmdline.txt"
	printf '# config.txt (image test)\n[all]\n' >"$ROOT/boot/firmware/config.txt"
	cat >"$ROOT/etc/fstab" <<-EOF
		/dev/vda2 / ext4 defaults,noatime 0 1
		LABEL=bootfs /boot/firmware vfat defaults 0 2
	EOF

	log "install.sh --image inside the chroot (as the pi-gen stage runs it)"
	rm -rf "$ROOT/tmp/kiosk-install"
	mkdir -p "$ROOT/tmp/kiosk-install"
	cp -a "$REPO/image/stage-kiosk/00-kiosk-agent/files/." "$ROOT/tmp/kiosk-install/"
	cp "$REPO/image/install.sh" "$ROOT/tmp/kiosk-install/install.sh"
	cp -a "$WORK/wheels" "$ROOT/tmp/kiosk-install/wheels"
	in_root bash /tmp/kiosk-install/install.sh --image --wheelhouse /tmp/kiosk-install/wheels --extras sim \
		>"$WORK/install.log" 2>&1 || { tail -n 30 "$WORK/install.log"; die "install.sh failed (log: $WORK/install.log)"; }
	rm -rf "$ROOT/tmp/kiosk-install"
	verify_screen_unit

	log "test-only additions: simulator, short WatchdogSec, checker, blank data disk as DATA_DISK"
	install -m 0644 "$HERE/files/kiosk-sim.service" "$HERE/files/kiosk-imagetest.service" "$ROOT/etc/systemd/system/"
	install -D -m 0644 "$HERE/files/watchdog-test.conf" "$ROOT/etc/systemd/system/kiosk-agent.service.d/test.conf"
	install -m 0755 "$HERE/files/kiosk-imagetest" "$ROOT/usr/local/sbin/kiosk-imagetest"
	[ "$DATA_MODE" = rootdisk ] || sed -i 's|^DATA_DISK=.*|DATA_DISK=/dev/vdb|' "$ROOT/etc/default/kiosk-firstboot"
	in_root systemctl enable kiosk-sim.service kiosk-imagetest.service >/dev/null 2>&1
	in_root systemctl mask getty@tty1.service serial-getty@ttyS1.service >/dev/null 2>&1
	install -m 0644 "$HERE/files/kiosk-agent.toml" "$ROOT/boot/firmware/kiosk-agent.toml"
	cleanup_mounts
}

make_disks() {
	local boot_img=$WORK/boot.img root_img=$WORK/root.img disk=$WORK/disk.raw
	local root_start=$((2048 + BOOT_MB * 2048)) root_sectors
	log "disk: FAT boot partition + ext4 root (mke2fs -d, no loop devices); data: $DATA_MODE (${DATA_MB} MiB)"
	cp "$ROOT"/boot/vmlinuz-* "$WORK/vmlinuz"
	cp "$ROOT"/boot/initrd.img-* "$WORK/initrd.img"
	rm -f "$boot_img" "$root_img" "$disk" "$WORK/data.raw"
	truncate -s "${BOOT_MB}M" "$boot_img"
	mkfs.vfat -n bootfs "$boot_img" >/dev/null
	mcopy -i "$boot_img" -s "$ROOT"/boot/firmware/* ::/
	root_sectors=$((DISK_MB * 2048 - root_start))
	if [ "$DATA_MODE" = rootdisk ]; then
		truncate -s $((DISK_MB + DATA_MB))M "$disk" # free space after the root partition
	else
		truncate -s "${DISK_MB}M" "$disk"
	fi
	printf 'label: dos\nstart=2048, size=%d, type=c\nstart=%d, size=%d, type=83\n' \
		$((BOOT_MB * 2048)) "$root_start" "$root_sectors" | sfdisk --quiet "$disk"
	find "$ROOT/boot/firmware" -mindepth 1 -delete # it is a mount point in the image
	mkfs.ext4 -q -L rootfs -d "$ROOT" "$root_img" $((root_sectors / 2))k
	dd if="$boot_img" of="$disk" bs=1M seek=1 conv=notrunc status=none
	dd if="$root_img" of="$disk" bs=512 seek="$root_start" conv=notrunc,sparse status=none
	rm -f "$boot_img" "$root_img"
	[ "$DATA_MODE" = rootdisk ] || truncate -s "${DATA_MB}M" "$WORK/data.raw"
}

boot_vm() {
	local accel=(-accel tcg) rc=0
	# TCG by default: nested KVM hangs in early boot on some hosts (this sandbox's among them).
	if [ "${IMAGE_TEST_ACCEL:-tcg}" = kvm ]; then
		accel=(-accel kvm -cpu host)
	fi
	local data=(-drive "file=$WORK/data.raw,format=raw,if=virtio")
	[ "$DATA_MODE" = rootdisk ] && data=()
	log "booting (${accel[1]}, data: $DATA_MODE), console log: $WORK/console.log"
	rm -f "$WORK/console.log" "$WORK/results.log"
	timeout "$TIMEOUT" qemu-system-x86_64 "${accel[@]}" -m 1024 -smp 2 -nodefaults \
		-display none -monitor none -nic none \
		-kernel "$WORK/vmlinuz" -initrd "$WORK/initrd.img" \
		-append "root=/dev/vda2 ro rootfstype=ext4 console=ttyS0 systemd.show_status=1" \
		-drive file="$WORK/disk.raw",format=raw,if=virtio \
		"${data[@]}" \
		-device i6300esb \
		-serial file:"$WORK/console.log" -serial file:"$WORK/results.log" || rc=$?
	[ "$rc" -eq 124 ] && log "the VM did not power off within ${TIMEOUT}s"
	return 0
}

# shellcheck disable=SC2120 # arm64/test.sh passes its own check names
# report [NAME...]: the table of every check, these names (a build's own checks) included.
report() {
	local expected=(boot firstboot-import config-mode data-partition boot-settings agent-ready agent-sandbox
		watchdog-restart hw-watchdog journal-volatile bad-config "$@" reboot-data-partition reboot-no-repartition
		reboot-config-change reboot-config-mode reboot-agent-ready finished)
	local name fails=0 line
	echo
	printf '%-24s %-6s %s\n' CHECK RESULT DETAIL
	for name in "${expected[@]}"; do
		# the last line for a name wins (boot is reported once per boot)
		line=$(grep -a "^RESULT	$name	" "$WORK/results.log" 2>/dev/null | tail -n 1 | tr -d '\r' || true)
		if [ -z "$line" ]; then
			printf '%-24s %-6s %s\n' "$name" MISSING "not reported (see $WORK/console.log)"
			fails=$((fails + 1))
			continue
		fi
		IFS=$'\t' read -r _ _ result detail <<<"$line"
		printf '%-24s %-6s %s\n' "$name" "$result" "$detail"
		[ "$result" = FAIL ] && fails=$((fails + 1))
	done
	echo
	if [ "$fails" -gt 0 ]; then
		log "$fails check(s) failed or missing"
		return 1
	fi
	log "all checks passed"
}

# image/test/powercut.sh sources this file for its build steps (build_image) only.
build_image() {
	mkdir -p "$WORK"
	ensure_tools
	debootstrap_base
	build_wheelhouse
	prepare_root
	make_disks
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	build_image
	boot_vm
	report
fi
