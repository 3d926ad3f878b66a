#!/bin/bash
# make image-arm64-test: boot the image make image-arm64 built, on its own
# architecture, under QEMU (TCG).
#
#  1. a copy of the image (512 MiB more free space: the card's room for the data
#     partition) gets the checker of make image-test (image/test/files), this
#     build's own checks (test-files/imagetest-arm64.sh) and a kiosk-agent.toml on
#     its boot partition pointing at the simulators on the host;
#  2. qemu-system-aarch64 -M virt boots the kernel and initramfs from the image's
#     boot partition with its cmdline.txt (plus a console), the image's root on
#     virtio; the Mews simulator, virtual printer and encoder run on the host
#     (the guest reaches them at 10.0.2.2); first boot turns the read-only root
#     on and reboots, the checker reboots once more;
#     A/B image (image/ab/layout.sh): virt has no Pi firmware, so this script stands
#     in for it: it reads autoboot.txt on the selector partition (p1) and boots the
#     [all] section's boot_partition (p2, slot A: its kernel, initramfs and cmdline.txt,
#     root=PARTUUID=...-05 rauc.slot=A); in the guest, rauc.service gets the two
#     device-tree values the firmware would give the tryboot backend (partition 2,
#     tryboot 0) from a stand-in under /run (test-files/virt-firmware-dt);
#  3. the table of checks, as make image-test prints it, plus: aarch64, boot to
#     READY, the kiosk API, a printer and a key command Processed, doctor, ab-slots
#     (rauc status: both slots, A booted and primary; /etc/rauc; boot A on
#     /boot/firmware; the data partition p7 grown to the disk's end);
#  4. -M raspi3b: the same image as an SD card, the kernel and device tree from
#     its boot partition: the console must show the Pi 3 model, the root mounted
#     from the card and systemd starting (ARM64_TEST_RASPI=0 skips it).
# Needs root; work files in image/work/arm64/test.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ARM64_WORK=${ARM64_WORK:-$REPO/image/work/arm64}
IMG=${ARM64_IMAGE:-$(find "$ARM64_WORK/deploy" -name '*.img' 2>/dev/null | head -n 1)}
export IMAGE_TEST_WORK=$ARM64_WORK/test
# shellcheck source-path=SCRIPTDIR source=../test/run.sh
source "$REPO/image/test/run.sh" # report(), log(); WORK=$IMAGE_TEST_WORK; it sets HERE to image/test
HERE=$REPO/image/arm64
trap - EXIT
TIMEOUT=${ARM64_TEST_TIMEOUT:-2400}
RASPI_TIMEOUT=${ARM64_RASPI_TIMEOUT:-900}
MEWS_PORT=${ARM64_MEWS_PORT:-18180} ENC_PORT=${ARM64_ENCODER_PORT:-18181} PRN_PORT=${ARM64_PRINTER_PORT:-18182}
PY=python3
[ -x "$REPO/.venv/bin/python" ] && PY=$REPO/.venv/bin/python

[ -f "$IMG" ] || die "no image in $ARM64_WORK/deploy: make image-arm64 first"
if ! command -v qemu-system-aarch64 >/dev/null || ! command -v debugfs >/dev/null || ! command -v mcopy >/dev/null; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-arm e2fsprogs mtools >/dev/null
fi

# "start size" in sectors of partition $2 of disk image $1
partition() { sfdisk -d "$1" | grep 'start=' | sed -n "${2}p" | sed -E 's/.*start= *([0-9]+), size= *([0-9]+).*/\1 \2/'; }
# shellcheck source-path=SCRIPTDIR source=../ab/ab.conf
. "$REPO/image/ab/ab.conf"

# The Pi firmware's choice, made here (virt has none): [all] boot_partition of
# autoboot.txt on the selector partition (no tryboot flag on virt).
firmware_boot_partition() {
	local sel_off
	read -r sel_off _ <<<"$(partition "$1" "$AB_P_SELECT")"
	mtype -i "$1@@$((sel_off * 512))" ::autoboot.txt | tr -d '\r' \
		| awk '/^\[/ {s = $0} s == "[all]" && /^boot_partition=/ {sub(/.*=/, ""); print; exit}'
}

prepare_disk() {
	local boot_off root_start root_size files=$REPO/image/test/files t=$HERE/test-files
	mkdir -p "$WORK"
	log "test disk: copy of $(basename "$IMG") + 512 MiB free"
	rm -f "$WORK/disk.raw" "$WORK/root.img"
	cp --sparse=always "$IMG" "$WORK/disk.raw"
	truncate -s +512M "$WORK/disk.raw"
	BOOT_PART=$(firmware_boot_partition "$WORK/disk.raw")
	[ "$BOOT_PART" = "$AB_P_BOOT_A" ] || die "autoboot.txt boots partition '$BOOT_PART', not slot A's $AB_P_BOOT_A"
	log "autoboot.txt on p$AB_P_SELECT: [all] boot_partition=$BOOT_PART (slot A)"
	read -r boot_off _ <<<"$(partition "$WORK/disk.raw" "$BOOT_PART")"
	read -r root_start root_size <<<"$(partition "$WORK/disk.raw" "$AB_P_ROOT_A")"
	BOOTFS="$WORK/disk.raw@@$((boot_off * 512))"
	IMAGE_BOOTFS="$IMG@@$((boot_off * 512))" # as built: the raspi3b boot reads it
	log "kernel, initramfs and cmdline.txt from the boot partition"
	rm -f "$WORK"/vmlinuz-* "$WORK"/initrd.img-* "$WORK"/*.dtb
	mcopy -n -i "$BOOTFS" "::vmlinuz-*" "::initrd.img-*" "::bcm2837-rpi-3-b.dtb" "$WORK/"
	cat >"$WORK/kiosk-agent.toml" <<-TOML
		# arm64 image test: every peer on the host (QEMU user networking: 10.0.2.2)
		[mews]
		platform_address = "http://10.0.2.2:$MEWS_PORT"
		generation = "current"
		client_token = "E0D439EE522F44368DC78E1BFB03710C-D24FB11DBE31D4621C4817E028D9E1D"
		access_token = "C66EF7B239D24632943D115EDE9CB810-EA00F8FD8294692C940F6B5A8F9453D"
		mode = "websocket"
		[agent]
		state_dir = "/var/lib/kiosk-agent"
		log_level = "info"
		[printer]
		port = "socket://10.0.2.2:$PRN_PORT"
		[encoder]
		port = "socket://10.0.2.2:$ENC_PORT"
		reply_timeout = 10
		[kiosk]
		enabled = true
	TOML
	mcopy -o -i "$BOOTFS" "$WORK/kiosk-agent.toml" ::kiosk-agent.toml

	# (the results console is hvc0: no login prompt on it)
	log "checker into the root (debugfs: no loop devices, no mount)"
	printf '[Service]\nEnvironment=IMAGETEST_OUT=/dev/hvc0 IMAGETEST_PLATFORM=http://10.0.2.2:%s IMAGETEST_EXTRA=/usr/local/lib/kiosk-imagetest-arm64.sh\nTimeoutStartSec=30min\n' \
		"$MEWS_PORT" >"$WORK/imagetest-arm64.conf"
	dd if="$WORK/disk.raw" of="$WORK/root.img" bs=512 skip="$root_start" count="$root_size" status=none
	debugfs -w -f - "$WORK/root.img" >"$WORK/debugfs.log" 2>&1 <<-EOF
		write $files/kiosk-imagetest /usr/local/sbin/kiosk-imagetest
		sif /usr/local/sbin/kiosk-imagetest mode 0100755
		write $files/kiosk-imagetest.service /etc/systemd/system/kiosk-imagetest.service
		symlink /etc/systemd/system/multi-user.target.wants/kiosk-imagetest.service /etc/systemd/system/kiosk-imagetest.service
		mkdir /etc/systemd/system/kiosk-imagetest.service.d
		write $WORK/imagetest-arm64.conf /etc/systemd/system/kiosk-imagetest.service.d/arm64.conf
		mkdir /etc/systemd/system/kiosk-agent.service.d
		write $files/watchdog-test.conf /etc/systemd/system/kiosk-agent.service.d/test.conf
		mkdir /usr/local/lib
		write $t/imagetest-arm64.sh /usr/local/lib/kiosk-imagetest-arm64.sh
		write $HERE/sandbox_measure.py /usr/local/lib/sandbox_measure.py
		write $t/virt-firmware-dt /usr/local/lib/virt-firmware-dt
		sif /usr/local/lib/virt-firmware-dt mode 0100755
		mkdir /etc/systemd/system/rauc.service.d
		write $t/rauc-virt-firmware.conf /etc/systemd/system/rauc.service.d/virt-firmware.conf
		symlink /etc/systemd/system/serial-getty@hvc0.service /dev/null
	EOF
	grep -i 'error\|not found\|no such file\|cannot' "$WORK/debugfs.log" | grep -v 'mkdir.*exists' && die "debugfs failed (log: $WORK/debugfs.log)"
	dd if="$WORK/root.img" of="$WORK/disk.raw" bs=512 seek="$root_start" conv=notrunc,sparse status=none
	rm -f "$WORK/root.img"
}

# Each boot reads cmdline.txt from the boot partition anew, as the Pi's firmware
# does (first boot adds overlayroot there): QEMU exits on a reboot (-no-reboot)
# and the next boot starts, until the checker powers off (at most 4 boots).
boot_virt() {
	local sims rc=0 start_s n cmdline
	log "host simulators on 127.0.0.1:$MEWS_PORT (Mews), :$ENC_PORT (encoder), :$PRN_PORT (printer)"
	PYTHONPATH=$REPO "$PY" "$HERE/hostsims.py" --work "$WORK" "$MEWS_PORT" "$ENC_PORT" "$PRN_PORT" >"$WORK/hostsims.log" 2>&1 &
	sims=$!
	rm -f "$WORK"/console*.log "$WORK"/results*.log
	start_s=$(date +%s)
	for n in 1 2 3 4; do
		cmdline=$(mtype -i "$BOOTFS" ::cmdline.txt | tr -d '\r\n')
		log "boot $n -M virt (TCG, 2 x cortex-a72, 1 GiB): $cmdline; console: $WORK/console-$n.log"
		rc=0
		timeout $((TIMEOUT - $(date +%s) + start_s)) qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 \
			-accel tcg -nodefaults -display none -monitor none -no-reboot \
			-kernel "$WORK"/vmlinuz-* -initrd "$WORK"/initrd.img-* \
			-append "$cmdline console=ttyAMA0 systemd.show_status=1" \
			-drive file="$WORK/disk.raw",format=raw,if=virtio \
			-device i6300esb -netdev user,id=net -device virtio-net-pci,netdev=net,romfile= \
			-serial file:"$WORK/console-$n.log" \
			-device virtio-serial-pci -chardev file,id=results,path="$WORK/results-$n.log" \
			-device virtconsole,chardev=results || rc=$?
		cat "$WORK/results-$n.log" >>"$WORK/results.log"
		[ "$rc" -eq 124 ] && { log "the VM did not power off within ${TIMEOUT}s"; break; }
		grep -aq "^RESULT	finished	" "$WORK/results.log" && break
	done
	kill "$sims" 2>/dev/null || true
	wait "$sims" 2>/dev/null || true
	log "virt: $n boots in $(($(date +%s) - start_s)) s"
}

# QEMU's Pi 3 model: the firmware stage is not emulated (no config.txt, cmdline.txt:
# QEMU loads the kernel, DTB and initramfs itself and takes the command line from
# -append), the SD card must be a power of two, no USB network, no watchdog device.
boot_raspi3b() {
	local sd=$WORK/sd.raw size rc=0 marks=0 m
	[ "${ARM64_TEST_RASPI:-1}" = 1 ] || return 0
	log "booting -M raspi3b from the image's boot partition (console: $WORK/raspi3b.log)"
	cp --sparse=always "$IMG" "$sd"
	size=$(stat -c %s "$sd")
	qemu-img resize -q -f raw "$sd" "$(python3 -c "import sys; n=int(sys.argv[1]); print(1 << (n - 1).bit_length())" "$size")"
	timeout "$RASPI_TIMEOUT" qemu-system-aarch64 -M raspi3b -accel tcg -nodefaults -display none -monitor none \
		-kernel "$WORK"/vmlinuz-* -initrd "$WORK"/initrd.img-* -dtb "$WORK/bcm2837-rpi-3-b.dtb" \
		-no-reboot -append "$(mtype -i "$IMAGE_BOOTFS" ::cmdline.txt | tr -d '\r\n' | sed 's/console=tty0//') console=ttyAMA0 systemd.show_status=1" \
		-drive file="$sd",format=raw,if=sd -serial file:"$WORK/raspi3b.log" || rc=$?
	rm -f "$sd"
	echo
	for m in 'Machine model: Raspberry Pi 3 Model B' "EXT4-fs (mmcblk0p$AB_P_ROOT_A): mounted" 'systemd\[1\]: .*running in system mode' \
		'Reached target.*[Mm]ulti-[Uu]ser' 'kiosk-firstboot'; do
		if grep -aq "$m" "$WORK/raspi3b.log"; then
			printf '%-24s %-6s %s\n' raspi3b OK "$(grep -a -m1 "$m" "$WORK/raspi3b.log" | tr -d '\r' | cut -c1-110)"
			marks=$((marks + 1))
		else
			printf '%-24s %-6s %s\n' raspi3b MISSING "$m"
		fi
	done
	log "raspi3b: $marks of 5 marks within ${RASPI_TIMEOUT}s (qemu exit $rc)"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	prepare_disk
	status=0
	if [ "${ARM64_TEST_VIRT:-1}" = 1 ]; then # ARM64_TEST_VIRT=0: the raspi3b boot alone
		boot_virt
		report arch readonly-root boot-to-ready kiosk-api commands doctor rlimit-as ab-slots || status=1
	fi
	boot_raspi3b
	exit "$status"
fi
