#!/bin/bash
# make update-test: the A/B update rehearsal under QEMU (issue 29 items 3 and 6).
#
# x86_64 with RAUC's grub backend (KVM when it boots here, else TCG): KVM makes the 20+
# boots of a run affordable where aarch64 `virt` + UEFI would run under TCG only; the
# Pi's tryboot backend is tested on the host (tests/test_rauc_tryboot.py).
#
#  1. the root file system as `make image-test` builds it (run.sh's steps: debootstrap
#     base, image/install.sh --image, which installs kiosk-update-gate.service), plus
#     rauc, rauc-service, grub2-common (grub-editenv) and systemd-journal-remote, RAUC's
#     system.conf (update-files/system.conf, compatible kiosk-agent-x86-test), the
#     DEVELOPMENT-ONLY keyring (image/rauc/devkey.sh), the rehearsal's checker and its
#     agent config (Mews simulator, encoder and printer on the host, journal upload to a
#     systemd-journal-remote on the host over mutual TLS from a test CA);
#  2. three root slot images from that tree: A (the agent's own version), "good" (1.1.0),
#     "crash" (1.2.0, whose `kiosk-agent run` exits at once: a crash loop); signed bundles
#     of good and crash (bundle.sh, development key) and "evil" (good, signed by another key);
#  3. disk.raw: vda1 FAT bootfs (GRUB's grub.cfg and grubenv, kiosk-agent.toml), vda2 root A,
#     vda3 root B (empty); GRUB i386-pc in the MBR gap; data.raw (vdb, firstboot's data
#     partition); bundles.img (vdc, read-only);
#  4. image/test/update.py runs the scenarios and writes image/work/update-test/results.json.
#
# Needs root. UPDATE_TEST_REBUILD=1 rebuilds; UPDATE_TEST_BASE names a debootstrapped base to copy.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export IMAGE_TEST_WORK=${UPDATE_TEST_WORK:-$(cd "$HERE/../.." && pwd)/image/work/update-test}
# shellcheck source-path=SCRIPTDIR source=run.sh
source "$HERE/run.sh"
UF=$HERE/update-files
PORTS=${UPDATE_TEST_PORTS:-"18090 18091 18092 18093 19532"} # checker, Mews, encoder, printer, journal-remote
read -r CHECK_PORT MEWS_PORT ENC_PORT PRN_PORT JR_PORT <<<"$PORTS"
BOOTFS_MB=64
GOOD_VERSION=1.1.0
CRASH_VERSION=1.2.0

ensure_update_tools() {
	local missing=() pair
	for pair in rauc:rauc mksquashfs:squashfs-tools grub-mkimage:grub-pc-bin grub-editenv:grub2-common \
		nbdkit:nbdkit openssl:openssl mcopy:mtools; do
		command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
	done
	[ -x /lib/systemd/systemd-journal-remote ] || missing+=(systemd-journal-remote)
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

# A test CA, the journal-remote server's certificate (10.0.2.2 is the host as the guest
# sees it) and the unit's client certificate: mutual TLS as in the field.
make_pki() {
	local d=$WORK/pki
	[ -s "$d/unit.crt" ] && return 0
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 30 \
		-subj "/CN=kiosk update-test CA" 2>/dev/null
	local name san
	for name in server unit; do
		san="subjectAltName=DNS:kiosk-unit"
		[ "$name" = server ] && san="subjectAltName=IP:10.0.2.2,IP:127.0.0.1,DNS:localhost"
		openssl req -newkey rsa:2048 -nodes -keyout "$d/$name.key" -out "$d/$name.csr" \
			-subj "/CN=kiosk-$name" 2>/dev/null
		openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
			-out "$d/$name.crt" -days 30 -extfile <(echo "$san") 2>/dev/null
	done
}

mount_root() {
	mount -t proc proc "$ROOT/proc"
	mount -t sysfs sys "$ROOT/sys"
	mount --bind /dev "$ROOT/dev"
	mount --bind /dev/pts "$ROOT/dev/pts"
}

ab_additions() {
	log "A/B additions: rauc, grub-editenv, journal upload, RAUC config and keyring, checker, lab networking"
	mount_root
	in_root apt-get update -qq >"$WORK/apt.log" 2>&1 || true
	in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		rauc rauc-service grub2-common systemd-journal-remote >>"$WORK/apt.log" 2>&1 \
		|| { tail -n 20 "$WORK/apt.log"; die "apt-get install in the root failed (log: $WORK/apt.log)"; }
	in_root apt-get clean
	in_root systemctl disable kiosk-sim.service kiosk-imagetest.service >/dev/null 2>&1
	install -D -m 0644 "$UF/system.conf" "$ROOT/etc/rauc/system.conf"
	install -m 0644 "$WORK/devkey/DEVELOPMENT-ONLY-keyring.pem" "$ROOT/etc/rauc/keyring.pem"
	install -m 0755 "$UF/kiosk-update-check" "$ROOT/usr/local/sbin/kiosk-update-check"
	install -m 0644 "$UF/kiosk-update-check.service" "$ROOT/etc/systemd/system/"
	echo "UT_PORT=$CHECK_PORT" >"$ROOT/etc/default/kiosk-update-check"
	printf '[Match]\nName=e*\n[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\n' >"$ROOT/etc/systemd/network/10-lab.network"
	in_root systemctl enable kiosk-update-check.service systemd-networkd.service systemd-journal-upload.service \
		>/dev/null 2>&1
	# GRUB names the root on the kernel command line (vda2 or vda3): fstab has no root line.
	printf 'LABEL=bootfs /boot/firmware vfat defaults 0 2\n' >"$ROOT/etc/fstab"
	# The grub command line carries no overlay tokens: the rehearsal runs with a writable root.
	sed -i 's|^READONLY_ROOT=.*|READONLY_ROOT=no|' "$ROOT/etc/default/kiosk-firstboot"
	rm -f "$ROOT/etc/systemd/system/kiosk-agent.service.d/test.conf" # the field's WatchdogSec=30
	install -d -m 0755 "$ROOT/etc/kiosk-fleet"
	# mode 0644: systemd-journal-upload runs as a dynamic user (a test key, not a fleet's)
	install -m 0644 "$WORK/pki/unit.crt" "$WORK/pki/unit.key" "$WORK/pki/ca.crt" "$ROOT/etc/kiosk-fleet/"
	cat >"$ROOT/boot/firmware/kiosk-agent.toml" <<-TOML
		# update rehearsal: every peer is on the host (QEMU user networking: 10.0.2.2 is the host's loopback)
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
		[fleet]
		journal_upload_url = "https://10.0.2.2:$JR_PORT"
		client_cert = "/etc/kiosk-fleet/unit.crt"
		client_key = "/etc/kiosk-fleet/unit.key"
		ca_file = "/etc/kiosk-fleet/ca.crt"
		update_health_timeout = ${UPDATE_TEST_GATE_TIMEOUT:-240}
	TOML
	# Smaller slots install faster: drop what a headless VM never loads or reads.
	local k
	for k in drivers/gpu drivers/net/wireless drivers/media drivers/infiniband drivers/staging sound \
		drivers/net/ethernet/mellanox drivers/scsi drivers/bluetooth net/wireless net/mac80211; do
		rm -rf "$ROOT"/lib/modules/*/kernel/$k
	done
	rm -rf "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/locale/* "$ROOT"/var/cache/apt/*.bin
	cleanup_mounts
}

agent_init() { ls "$ROOT"/opt/kiosk-agent/lib/python3*/site-packages/agent/__init__.py; }

set_version() {
	sed -i "s/^__version__ = .*/__version__ = \"$1\"/" "$(agent_init)"
}

slot_image() {
	log "slot image $1 ($(sed -n 's/^__version__ = //p' "$(agent_init)"), ${SLOT_MB} MiB)"
	rm -f "$1"
	mkfs.ext4 -q -L rootfs -d "$ROOT" "$1" "${SLOT_MB}M"
}

build_slots() {
	local bootfs=$WORK/bootfs
	rm -rf "$bootfs"
	mkdir -p "$bootfs/grub"
	cp -a "$ROOT"/boot/firmware/. "$bootfs/"
	find "$ROOT/boot/firmware" -mindepth 1 -delete # a mount point in the image
	cp "$UF/grub.cfg" "$bootfs/grub/grub.cfg"
	grub-editenv "$bootfs/grub/grubenv" create
	grub-editenv "$bootfs/grub/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=0 B_TRY=0
	SLOT_MB=$(($(du -sm "$ROOT" | cut -f1) * 5 / 4 + 64))
	A_VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$(agent_init)")
	slot_image "$WORK/rootfs-a.ext4"
	set_version "$GOOD_VERSION"
	slot_image "$WORK/rootfs-good.ext4"
	set_version "$CRASH_VERSION"
	# The crash-looping version: its agent exits at once, every time systemd starts it.
	printf '\n\ndef main(args):  # update rehearsal: a version whose agent crash-loops\n    raise SystemExit(1)\n' \
		>>"$(dirname "$(agent_init)")/commands/run.py"
	slot_image "$WORK/rootfs-crash.ext4"
	rm -rf "$ROOT" # the three images hold it now
}

build_bundles() {
	local dk=$WORK/devkey
	rm -rf "$WORK/bundles"
	mkdir -p "$WORK/bundles"
	"$REPO/image/rauc/devkey.sh" "$WORK/evilkey"
	local args=(--compatible kiosk-agent-x86-test --cert "$dk/DEVELOPMENT-ONLY-signing.cert.pem"
		--key "$dk/DEVELOPMENT-ONLY-signing.key.pem" --keyring "$dk/DEVELOPMENT-ONLY-keyring.pem")
	"$REPO/image/rauc/bundle.sh" --rootfs "$WORK/rootfs-good.ext4" --version "$GOOD_VERSION" "${args[@]}" \
		--out "$WORK/bundles/good.raucb"
	"$REPO/image/rauc/bundle.sh" --rootfs "$WORK/rootfs-crash.ext4" --version "$CRASH_VERSION" "${args[@]}" \
		--out "$WORK/bundles/crash.raucb"
	"$REPO/image/rauc/bundle.sh" --rootfs "$WORK/rootfs-good.ext4" --version "$GOOD_VERSION" \
		--compatible kiosk-agent-x86-test --cert "$WORK/evilkey/DEVELOPMENT-ONLY-signing.cert.pem" \
		--key "$WORK/evilkey/DEVELOPMENT-ONLY-signing.key.pem" --out "$WORK/bundles/evil.raucb"
	rm -f "$WORK/bundles.img"
	mkfs.ext4 -q -L bundles -d "$WORK/bundles" "$WORK/bundles.img" "$(($(du -sm "$WORK/bundles" | cut -f1) + 64))M"
}

build_disk() {
	local disk=$WORK/disk.raw boot_img=$WORK/bootfs.img start_a start_b
	log "disk: GRUB (i386-pc) + FAT bootfs + root A + root B (empty); data disk; bundle disk"
	start_a=$((2048 + BOOTFS_MB * 2048))
	start_b=$((start_a + SLOT_MB * 2048))
	rm -f "$disk" "$boot_img" "$WORK/data.raw"
	truncate -s $((1 + BOOTFS_MB + 2 * SLOT_MB + 1))M "$disk"
	printf 'label: dos\nstart=2048, size=%d, type=c, bootable\nstart=%d, size=%d, type=83\nstart=%d, size=%d, type=83\n' \
		$((BOOTFS_MB * 2048)) "$start_a" $((SLOT_MB * 2048)) "$start_b" $((SLOT_MB * 2048)) | sfdisk --quiet "$disk"
	truncate -s "${BOOTFS_MB}M" "$boot_img"
	mkfs.vfat -n bootfs "$boot_img" >/dev/null 2>&1
	mcopy -i "$boot_img" -s "$WORK"/bootfs/* ::/
	dd if="$boot_img" of="$disk" bs=512 seek=2048 conv=notrunc status=none
	dd if="$WORK/rootfs-a.ext4" of="$disk" bs=512 seek="$start_a" conv=notrunc,sparse status=none
	rm -f "$boot_img"
	# GRUB for BIOS: boot.img in the MBR's code area, core.img (with every module grub.cfg
	# uses, and the bootfs partition as its prefix) in the gap before the first partition;
	# grub-mkimage's blocklist already points at the sectors that follow it.
	grub-mkimage -O i386-pc -o "$WORK/core.img" -p '(hd0,msdos1)/grub' biosdisk part_msdos fat ext2 normal \
		linux loadenv test echo configfile boot serial terminal
	dd if=/usr/lib/grub/i386-pc/boot.img of="$disk" bs=440 count=1 conv=notrunc status=none
	dd if="$WORK/core.img" of="$disk" bs=512 seek=1 conv=notrunc status=none
	truncate -s 512M "$WORK/data.raw"
	echo "$A_VERSION" >"$WORK/a-version"
}

mkdir -p "$WORK"
if [ -z "${UPDATE_TEST_REBUILD:-}" ] && [ -f "$WORK/.built" ]; then
	log "reusing the built disks in $WORK (UPDATE_TEST_REBUILD=1 rebuilds)"
else
	rm -f "$WORK/.built"
	shared=${UPDATE_TEST_BASE:-$(dirname "$WORK")/image-test/base}
	if [ ! -f "$WORK/base/.complete" ] && [ -f "$shared/.complete" ]; then
		log "copying the debootstrapped base from $shared"
		rm -rf "$WORK/base"
		cp -a "$shared" "$WORK/base"
	fi
	ensure_tools
	ensure_update_tools
	"$REPO/image/rauc/devkey.sh" "$WORK/devkey"
	make_pki
	debootstrap_base
	build_wheelhouse
	prepare_root
	ab_additions
	build_slots
	build_bundles
	build_disk
	touch "$WORK/.built"
fi
trap - EXIT
[ -z "${UPDATE_TEST_BUILD_ONLY:-}" ] || exit 0
PY=python3
[ -x "$REPO/.venv/bin/python" ] && PY=$REPO/.venv/bin/python
exec env PYTHONPATH="$REPO:$HERE" UPDATE_TEST_KERNEL_DIR="$WORK/base/boot" "$PY" "$HERE/update.py" --work "$WORK" --ports "$CHECK_PORT" "$MEWS_PORT" "$ENC_PORT" "$PRN_PORT" "$JR_PORT" \
	--results "$WORK/results.json" --versions "$(cat "$WORK/a-version")" "$GOOD_VERSION" "$CRASH_VERSION"
