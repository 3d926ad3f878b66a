#!/bin/bash
# make image-arm64: the kiosk SD image from Debian's archive alone, for a
# Raspberry Pi 3, 4 or Zero 2 W (arm64; not Pi 5: Debian's kernel has no RP1).
#
#   [KIOSK_TECH_PASSWORD='console password'] image/arm64/build.sh
#
#  1. mmdebstrap a Debian trixie arm64 tree (qemu-user through binfmt): the
#     packages of image/arm64/packages (kernel, raspi-firmware, networking) and
#     the stage's own list image/stage-kiosk/00-kiosk-agent/00-packages, the
#     one pi-gen installs (cached in $WORK/base);
#  2. run image/install.sh --image in it, the same stage pi-gen's 01-run.sh
#     runs, with the hash-locked aarch64 wheelhouse (image/wheelhouse.sh);
#  3. the A/B root setup (image/ab/root-setup.sh, as pi-gen's stage runs it): RAUC's
#     system.conf, the tryboot backend, the keyring (KIOSK_RAUC_KEYRING=the chain's CA;
#     unset: the DEVELOPMENT-ONLY one of image/rauc/devkey.sh, said loudly here and in
#     /usr/lib/kiosk/BUILD-INFO), fstab for the slots and the data partition;
#  4. the Pi boot partition (FAT "RASPIFIRM": GPU firmware, kernel, initramfs, DTBs,
#     config.txt and cmdline.txt written by raspi-firmware) as boot.vfat and the root
#     (ext4 "KIOSKROOT", mke2fs -d: no loop devices) as rootfs.ext4, the slot images
#     a RAUC bundle takes, laid out by image/ab/layout.sh (the A/B image, pi-gen's too)
#     into one image file with its .bmap and .sha256, all in $WORK/deploy/.
# Without KIOSK_TECH_PASSWORD the technician account is locked (no console login).
# Needs root; installs mmdebstrap, qemu-user-static, dosfstools, mtools, bmap-tools,
# openssl with apt-get when missing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGE_DIR=$(cd "$HERE/.." && pwd)
REPO=$(cd "$IMAGE_DIR/.." && pwd)
WORK=${ARM64_WORK:-$REPO/image/work/arm64}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Debian 13: the stable release (Debian 12 is in LTS), kernel 6.12 with the Zero 2 W's
# device tree, Python 3.13. Its Python and glibc decide which wheels fit.
SUITE=trixie
TARGET_PYTHON=3.13
TARGET_GLIBC=2.41
# Build tools for a locked sdist (lgpio): in the tree while the stage runs, purged after.
BUILD_DEPS=(gcc libc6-dev python3-dev swig python3-setuptools)
IMG_NAME=${IMG_NAME:-kiosk-agent-debian-$SUITE-arm64}
BOOT_MB=256
ROOT_ROOM_MB=${ROOT_ROOM_MB:-256} # free room in rootfs.ext4 beyond its content and 15 %
ROOT=$WORK/rootfs
DEPLOY=$WORK/deploy

log() { echo "image-arm64: $*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (mmdebstrap, chroot)"

ensure_tools() {
	local missing=() pair
	for pair in mmdebstrap:mmdebstrap qemu-aarch64-static:qemu-user-static update-binfmts:binfmt-support \
		mkfs.vfat:dosfstools mcopy:mtools bmaptool:bmap-tools sfdisk:fdisk mkfs.ext4:e2fsprogs arch-test:arch-test openssl:openssl; do
		command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
	arch-test arm64 >/dev/null || die "this host cannot run arm64 programs (binfmt for qemu-aarch64 missing)"
}

# A pi-gen package list as pi-gen reads it: comments dropped.
package_list() { sed -e 's/#.*//' "$@" | tr -s ' \n\t' '   '; }
PACKAGES=$(package_list "$HERE/packages" "$IMAGE_DIR/stage-kiosk/00-kiosk-agent/00-packages")

cleanup_mounts() {
	local m
	for m in dev/pts dev sys proc; do
		mountpoint -q "$ROOT/$m" && umount -l "$ROOT/$m"
	done
	return 0
}
trap cleanup_mounts EXIT

base_tree() {
	if [ -f "$WORK/base/.complete" ]; then
		log "reusing the $SUITE arm64 base in $WORK/base (delete it to rebuild)"
		return
	fi
	log "mmdebstrap $SUITE arm64 from $MIRROR (half an hour under qemu-user)"
	rm -rf "$WORK/base"
	# shellcheck disable=SC2086 # the package list is words
	mmdebstrap --arch=arm64 --variant=minbase --include="$(echo $PACKAGES "${BUILD_DEPS[@]}" | tr ' ' ,)" \
		"$SUITE" "$WORK/base" "deb $MIRROR $SUITE main non-free-firmware" \
		"deb $MIRROR $SUITE-updates main non-free-firmware" \
		"deb $MIRROR-security $SUITE-security main non-free-firmware" >"$WORK/mmdebstrap.log" 2>&1 \
		|| { tail -n 30 "$WORK/mmdebstrap.log"; die "mmdebstrap failed (log: $WORK/mmdebstrap.log)"; }
	# mmdebstrap may leave its /sys mount behind; setuptools would walk it
	umount -l "$WORK/base/sys" 2>/dev/null || true
	touch "$WORK/base/.complete"
}

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

prepare_root() {
	log "root file system: copy of the base"
	cleanup_mounts
	rm -rf "$ROOT"
	cp -a "$WORK/base" "$ROOT"
	rm -f "$ROOT/.complete"
	mount -t proc proc "$ROOT/proc"
	mount -t sysfs sys "$ROOT/sys"
	mount --bind /dev "$ROOT/dev"
	mount --bind /dev/pts "$ROOT/dev/pts"
	rm -f "$ROOT/etc/resolv.conf"
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
	# packages added to the lists since the base was made
	# shellcheck disable=SC2086
	in_root apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES "${BUILD_DEPS[@]}" \
		>"$WORK/apt.log" 2>&1 || { tail -n 20 "$WORK/apt.log"; die "apt-get install in the tree failed"; }

	log "system: hostname, fstab by label, raspi-firmware (root by label, no console on the UART), networkd"
	echo kiosk >"$ROOT/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tkiosk\n' >"$ROOT/etc/hosts"
	cat >"$ROOT/etc/fstab" <<-EOF
		LABEL=RASPIROOT / ext4 defaults,noatime 0 1
		LABEL=RASPIFIRM /boot/firmware vfat defaults,noatime 0 2
	EOF
	# The UART belongs to the printer: consoles on the screen only.
	cat >>"$ROOT/etc/default/raspi-firmware" <<-EOF
		# kiosk image
		ROOTPART="LABEL=RASPIROOT"
		CONSOLES="tty0"
	EOF
	cat >"$ROOT/etc/systemd/network/80-kiosk-dhcp.network" <<-EOF
		[Match]
		Name=e* wl*
		[Network]
		DHCP=yes
	EOF
	in_root systemctl enable systemd-networkd.service systemd-resolved.service >/dev/null 2>&1

	log "technician account"
	in_root useradd --create-home --shell /bin/bash --groups sudo technician
	if [ -n "${KIOSK_TECH_PASSWORD:-}" ]; then
		echo "technician:$KIOSK_TECH_PASSWORD" | chroot "$ROOT" chpasswd
	else
		log "KIOSK_TECH_PASSWORD unset: the technician account stays locked"
	fi
}

run_stage() {
	log "the stage: install.sh --image with the hash-locked aarch64 wheelhouse (as pi-gen's 01-run.sh)"
	PYTHON=${PYTHON:-$([ -x "$REPO/.venv/bin/python" ] && echo "$REPO/.venv/bin/python" || echo python3)} \
		"$IMAGE_DIR/wheelhouse.sh" "$WORK/wheels" "$TARGET_PYTHON" "$TARGET_GLIBC"
	rm -rf "$ROOT/tmp/kiosk-install"
	mkdir -p "$ROOT/tmp/kiosk-install"
	cp -a "$IMAGE_DIR/stage-kiosk/00-kiosk-agent/files/." "$ROOT/tmp/kiosk-install/"
	cp "$IMAGE_DIR/install.sh" "$ROOT/tmp/kiosk-install/install.sh"
	cp -a "$WORK/wheels" "$ROOT/tmp/kiosk-install/wheels"
	# PYPI=1: lgpio's setup.py then links its C library in (Debian packages none).
	in_root env PYPI=1 KIOSK_NO_APT=1 bash /tmp/kiosk-install/install.sh --image \
		--wheelhouse /tmp/kiosk-install/wheels --lock /tmp/kiosk-install/wheels/runtime.lock \
		>"$WORK/install.log" 2>&1 || { tail -n 30 "$WORK/install.log"; die "install.sh failed (log: $WORK/install.log)"; }
	rm -rf "$ROOT/tmp/kiosk-install"
	log "build tools out; apt caches emptied"
	in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq --autoremove "${BUILD_DEPS[@]}" >>"$WORK/apt.log" 2>&1
	in_root apt-get clean
	rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/tmp/* "$ROOT"/root/.cache
	ln -sf ../run/systemd/resolve/stub-resolv.conf "$ROOT/etc/resolv.conf"
	: >"$ROOT/etc/machine-id" # each unit makes its own at first boot
	cleanup_mounts
}

# RAUC and the A/B slots in the tree: the same script pi-gen's stage runs.
ab_root() {
	log "A/B: RAUC system.conf, tryboot backend, keyring, fstab (image/ab/root-setup.sh)"
	rm -rf "$WORK/rauc-keyring"
	"$IMAGE_DIR/ab/keyring.sh" "$WORK/rauc-keyring"
	"$IMAGE_DIR/ab/root-setup.sh" "$ROOT" "$WORK/rauc-keyring"
}

# The A/B image (issue 29): the boot partition's files in a FAT image (boot.vfat), the
# root in an ext4 image (rootfs.ext4, mke2fs -d: no loop devices), both in deploy/ (the
# slot images a RAUC bundle takes), laid out by image/ab/layout.sh, which pi-gen's build
# calls too: select, boot A/B, root A/B, KIOSKDATA (README "Build an image").
make_image() {
	local boot_img=$DEPLOY/boot.vfat root_img=$DEPLOY/rootfs.ext4 root_mb
	log "slot images: FAT ${BOOT_MB} MiB boot.vfat + ext4 rootfs.ext4"
	mkdir -p "$DEPLOY"
	rm -f "$DEPLOY/$IMG_NAME".* "$boot_img" "$root_img"
	truncate -s "${BOOT_MB}M" "$boot_img"
	mkfs.vfat -F 32 -n RASPIFIRM "$boot_img" >/dev/null
	mcopy -i "$boot_img" -s "$ROOT"/boot/firmware/* ::/
	find "$ROOT/boot/firmware" -mindepth 1 -delete # a mount point in the image
	root_mb=$(($(du -sm "$ROOT" | cut -f1) * 115 / 100 + ROOT_ROOM_MB))
	root_mb=$(((root_mb + 3) / 4 * 4))
	mkfs.ext4 -q -L KIOSKROOT -d "$ROOT" "$root_img" "${root_mb}M"
	"$IMAGE_DIR/ab/layout.sh" "$boot_img" "$root_img" "$DEPLOY" "$IMG_NAME"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	start_s=$(date +%s)
	mkdir -p "$WORK"
	ensure_tools
	base_tree
	prepare_root
	run_stage
	ab_root
	make_image
	log "build time $(($(date +%s) - start_s)) s"
fi
