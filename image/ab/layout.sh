#!/bin/bash
# layout.sh: the A/B SD image (issue 29) from one boot partition image and one root
# file system image. Both image builds call it (image/arm64/build.sh's make_image, and
# image/ab/from-pigen.sh for pi-gen's export), so their layouts cannot drift.
#
#   image/ab/layout.sh BOOT.vfat ROOT.ext4 DEPLOY_DIR IMG_NAME
#
# Partitions (image/ab/ab.conf; image/rauc/system.conf names the same):
#   p1 FAT  select  autoboot.txt: [all] boot_partition=2, [tryboot] boot_partition=3
#                   (as image/rauc/tryboot-backend writes it with nothing armed)
#   p2 FAT  boot A  BOOT.vfat, its cmdline.txt pointing at p5 with rauc.slot=A
#   p3 FAT  boot B  formatted, empty     } RAUC installs a bundle into the slot
#   p4 extended                          } that is not running: B first
#   p5 ext4 root A  ROOT.ext4 (slot size: AB_ROOT_SLOT_MB, room for later versions)
#   p6 ext4 root B  formatted, empty
#   p7 ext4 KIOSKDATA, AB_DATA_MB; first boot grows it to the end of the card
# cmdline.txt's root= and rauc.slot= are replaced; pi-gen's
# init=/usr/lib/raspberrypi-sys-mods/firstboot (it grows the root partition) dropped.
# BOOT.vfat also gets cmdline-A.txt and cmdline-B.txt: a bundle's boot image lands in
# either slot, and RAUC's post-install hook (image/ab/slot-hook) copies the
# right one to cmdline.txt.
# Writes DEPLOY_DIR/IMG_NAME.img, .img.bmap, .img.sha256, and the slot images a
# bundle is made of: DEPLOY_DIR/boot.vfat and DEPLOY_DIR/rootfs.ext4 (BOOT.vfat and
# ROOT.ext4 moved there when they are elsewhere). No root needed (no loop devices).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=ab.conf
. "$HERE/ab.conf"

log() { echo "ab-layout: $*" >&2; }
die() {
	log "$*"
	exit 1
}

[ $# -eq 4 ] || die "usage: $0 BOOT.vfat ROOT.ext4 DEPLOY_DIR IMG_NAME"
BOOT_IN=$1 ROOT_IN=$2 DEPLOY=$3 NAME=$4
for t in sfdisk mkfs.vfat mcopy mtype mkfs.ext4 bmaptool sha256sum; do
	command -v "$t" >/dev/null || die "$t missing (dosfstools, mtools, e2fsprogs, fdisk, bmap-tools)"
done
[ -f "$BOOT_IN" ] || die "no boot partition image $BOOT_IN"
[ -f "$ROOT_IN" ] || die "no root file system image $ROOT_IN"
mkdir -p "$DEPLOY"
BOOT=$DEPLOY/boot.vfat ROOTFS=$DEPLOY/rootfs.ext4 IMG=$DEPLOY/$NAME.img
[ "$(realpath "$BOOT_IN")" = "$(realpath -m "$BOOT")" ] || mv -f "$BOOT_IN" "$BOOT"
[ "$(realpath "$ROOT_IN")" = "$(realpath -m "$ROOTFS")" ] || mv -f "$ROOT_IN" "$ROOTFS"

MiB=$((1024 * 1024))
mib_up() { echo $((($1 + MiB - 1) / MiB)); }
# MiB to sectors, rounded up to the alignment
sectors_of_mb() { echo $((($1 * 2048 + AB_ALIGN - 1) / AB_ALIGN * AB_ALIGN)); }

# --- cmdline.txt for each slot -------------------------------------------------------
# One line; root= and rauc.slot= go where root= was (appended when there was none).
slot_cmdline() { # $1 cmdline, $2 slot, $3 root partition number
	local t out="" placed=no
	for t in $1; do
		case "$t" in
		root=*)
			out+=" root=PARTUUID=$(ab_partuuid "$3") rauc.slot=$2"
			placed=yes
			;;
		rauc.slot=* | init=/usr/lib/raspberrypi-sys-mods/*) ;;
		*) out+=" $t" ;;
		esac
	done
	[ "$placed" = yes ] || out+=" root=PARTUUID=$(ab_partuuid "$3") rauc.slot=$2"
	echo "${out# }"
}

ORIG=$(mtype -i "$BOOT" ::cmdline.txt 2>/dev/null | tr -d '\r' | head -n 1) || true
[ -n "$ORIG" ] || die "$BOOT has no cmdline.txt"
TMP=$(mktemp -d "$DEPLOY/.layout.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
slot_cmdline "$ORIG" A "$AB_P_ROOT_A" >"$TMP/cmdline-A.txt"
slot_cmdline "$ORIG" B "$AB_P_ROOT_B" >"$TMP/cmdline-B.txt"
cp "$TMP/cmdline-A.txt" "$TMP/cmdline.txt"
mcopy -o -i "$BOOT" "$TMP/cmdline.txt" "$TMP/cmdline-A.txt" "$TMP/cmdline-B.txt" ::/
log "boot A cmdline.txt: $(cat "$TMP/cmdline-A.txt")"

# --- geometry (sectors) --------------------------------------------------------------
boot_bytes=$(stat -c %s "$BOOT")
root_bytes=$(stat -c %s "$ROOTFS")
slot_mb=$AB_ROOT_SLOT_MB
if [ "$slot_mb" -eq 0 ]; then
	slot_mb=$(($(mib_up "$root_bytes") * 3 / 2))
	[ "$slot_mb" -ge 1024 ] || slot_mb=1024
	slot_mb=$(((slot_mb + 255) / 256 * 256))
fi
sel_start=$AB_ALIGN
sel_size=$(sectors_of_mb "$AB_SELECT_MB")
boot_size=$(sectors_of_mb "$(mib_up "$boot_bytes")")
slot_size=$(sectors_of_mb "$slot_mb")
data_size=$(sectors_of_mb "$AB_DATA_MB")
[ "$root_bytes" -le $((slot_size * 512)) ] || die "the root image ($(mib_up "$root_bytes") MiB) exceeds the root slot ($slot_mb MiB)"
boot_a=$((sel_start + sel_size))
boot_b=$((boot_a + boot_size))
ext_start=$((boot_b + boot_size))
root_a=$((ext_start + AB_ALIGN)) # each logical partition follows its EBR, 4 MiB aligned
root_b=$((root_a + slot_size + AB_ALIGN))
data=$((root_b + slot_size + AB_ALIGN))
end=$((data + data_size))

log "image: select $((sel_size / 2048)) MiB, boot A/B $((boot_size / 2048)) MiB, root A/B $((slot_size / 2048)) MiB, $AB_DATA_LABEL $((data_size / 2048)) MiB"
rm -f "$IMG" "$IMG.bmap" "$IMG.sha256"
truncate -s $((end * 512)) "$IMG"
printf '%s\n' "label: dos" "label-id: $AB_DISK_ID" \
	"start=$sel_start, size=$sel_size, type=c" \
	"start=$boot_a, size=$boot_size, type=c" \
	"start=$boot_b, size=$boot_size, type=c" \
	"start=$ext_start, size=$((end - ext_start)), type=5" \
	"start=$root_a, size=$slot_size, type=83" \
	"start=$root_b, size=$slot_size, type=83" \
	"start=$data, size=$data_size, type=83" | sfdisk --quiet "$IMG"

put() { dd if="$1" of="$IMG" bs=1M oflag=seek_bytes seek=$(($2 * 512)) conv=notrunc,sparse status=none; }
# FAT32 from 64 MiB (as the builds' boot partitions); smaller ones (tests) as mkfs picks
fat() { # $1 file, $2 sectors, $3 label
	truncate -s $(($2 * 512)) "$1"
	if [ "$2" -ge $((64 * 2048)) ]; then
		mkfs.vfat -F 32 -n "$3" "$1" >/dev/null
	else
		mkfs.vfat -n "$3" "$1" >/dev/null
	fi
}

# p1: the selector. The firmware reads autoboot.txt from the first FAT partition;
# the backend's own format, nothing armed ([tryboot] names the other slot).
fat "$TMP/select.vfat" "$sel_size" "$AB_SELECT_LABEL"
printf '[all]\ntryboot_a_b=1\nboot_partition=%d\n[tryboot]\nboot_partition=%d\n' "$AB_P_BOOT_A" "$AB_P_BOOT_B" >"$TMP/autoboot.txt"
mcopy -i "$TMP/select.vfat" "$TMP/autoboot.txt" ::autoboot.txt
put "$TMP/select.vfat" "$sel_start"
rm -f "$TMP/select.vfat"
# p2, p5: slot A as built
put "$BOOT" "$boot_a"
put "$ROOTFS" "$root_a"
# p3, p6: slot B formatted and empty; p7: the data partition
fat "$TMP/boot-b.vfat" "$boot_size" "$AB_BOOT_B_LABEL"
put "$TMP/boot-b.vfat" "$boot_b"
rm -f "$TMP/boot-b.vfat"
mkfs.ext4 -q -F "$TMP/root-b.ext4" $((slot_size / 2))k
put "$TMP/root-b.ext4" "$root_b"
rm -f "$TMP/root-b.ext4"
# state/ and config/ exist from the start: fstab binds them at the first boot already
# (kiosk-firstboot sets their owners); rauc/ holds RAUC's status file.
mkdir -p "$TMP/data/state" "$TMP/data/config" "$TMP/data/rauc"
mkfs.ext4 -q -F -L "$AB_DATA_LABEL" -m 1 -d "$TMP/data" "$TMP/data.ext4" $((data_size / 2))k
put "$TMP/data.ext4" "$data"
rm -f "$TMP/data.ext4"

bmaptool create -o "$IMG.bmap" "$IMG" 2>/dev/null
(cd "$DEPLOY" && sha256sum "$NAME.img" >"$NAME.img.sha256")
log "done: $IMG ($(du -h --apparent-size "$IMG" | cut -f1), $(du -h "$IMG" | cut -f1) mapped), .bmap, .sha256; slot images boot.vfat, rootfs.ext4"
