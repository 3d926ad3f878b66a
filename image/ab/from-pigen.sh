#!/bin/bash
# from-pigen.sh: pi-gen's exported image (MBR: p1 FAT boot, p2 ext4 root, as its
# export-image stage makes it) into the A/B image, through the same layout.sh the
# Debian arm64 build uses. image/build.sh calls it after pi-gen.
#
#   image/ab/from-pigen.sh PIGEN.img DEPLOY_DIR IMG_NAME
#
# The boot partition becomes boot.vfat (slot A's boot, cmdline.txt rewritten by
# layout.sh), the root partition rootfs.ext4, byte for byte.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { echo "ab-from-pigen: $*" >&2; }
[ $# -eq 3 ] || {
	log "usage: $0 PIGEN.img DEPLOY_DIR IMG_NAME"
	exit 2
}
SRC=$1 DEPLOY=$2 NAME=$3
[ -f "$SRC" ] || {
	log "no image $SRC"
	exit 1
}

# "start size" in sectors of partition $2
partition() {
	sfdisk -d "$1" | grep 'start=' | sed -n "${2}p" | sed -E 's/.*start= *([0-9]+), size= *([0-9]+).*/\1 \2/'
}
extract() { # $1 partition number, $2 output file
	local start size
	read -r start size <<<"$(partition "$SRC" "$1")"
	[ -n "$size" ] || {
		log "$SRC has no partition $1"
		exit 1
	}
	dd if="$SRC" of="$2" bs=1M iflag=skip_bytes,count_bytes skip=$((start * 512)) count=$((size * 512)) \
		conv=sparse status=none
}

mkdir -p "$DEPLOY"
log "boot and root partitions of $(basename "$SRC")"
extract 1 "$DEPLOY/boot.vfat"
extract 2 "$DEPLOY/rootfs.ext4"
exec "$HERE/layout.sh" "$DEPLOY/boot.vfat" "$DEPLOY/rootfs.ext4" "$DEPLOY" "$NAME"
