#!/bin/bash
# root-setup.sh ROOT KEYDIR: a root file system tree for the A/B image (issue 29). Both
# image builds run it on their tree (image/arm64/build.sh; pi-gen's stage-kiosk
# 01-run.sh), after install.sh --image. Idempotent.
#   /etc/rauc/system.conf, tryboot-backend.conf (image/rauc/), keyring.pem (KEYDIR, from
#   image/ab/keyring.sh); /usr/lib/kiosk/tryboot-backend; ab.conf; BUILD-INFO
#   fstab: the selector on /mnt/boot-select, the data partition (as kiosk-firstboot
#     writes it), no /boot/firmware line: which boot partition is the booted slot's
#     only the kernel command line knows (kiosk-boot-slot generator, rauc.slot=A|B)
#   rauc.service waits for the data partition (its status file lives there)
#   kiosk-firstboot grows the data partition to the end of the card (DATA_GROW=yes)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RAUC_DIR=${RAUC_DIR:-$(cd "$HERE/../rauc" && pwd)}
# shellcheck source-path=SCRIPTDIR source=ab.conf
. "$HERE/ab.conf"
ROOT=${1:?usage: $0 ROOT KEYDIR}
KEYS=${2:?usage: $0 ROOT KEYDIR}
log() { echo "ab-root: $*" >&2; }
if ! [ -s "$KEYS/keyring.pem" ] || ! [ -s "$KEYS/keyring.kind" ]; then
	log "no keyring in $KEYS (image/ab/keyring.sh makes it)"
	exit 1
fi
KIND=$(cat "$KEYS/keyring.kind")

install -d "$ROOT/etc/rauc" "$ROOT/usr/lib/kiosk" "$ROOT/usr/lib/systemd/system-generators" \
	"$ROOT/etc/systemd/system/rauc.service.d" "$ROOT/mnt/boot-select" "$ROOT/mnt/kiosk-data"
install -m 0644 "$RAUC_DIR/system.conf" "$RAUC_DIR/tryboot-backend.conf" "$ROOT/etc/rauc/"
install -m 0644 "$KEYS/keyring.pem" "$ROOT/etc/rauc/keyring.pem"
install -m 0755 "$RAUC_DIR/tryboot-backend" "$ROOT/usr/lib/kiosk/tryboot-backend"
install -m 0644 "$HERE/ab.conf" "$ROOT/usr/lib/kiosk/ab.conf"
install -m 0755 "$HERE/kiosk-boot-slot-generator" "$ROOT/usr/lib/systemd/system-generators/kiosk-boot-slot"
cat >"$ROOT/etc/systemd/system/rauc.service.d/kiosk-data.conf" <<-EOF
	# RAUC's status file and the tryboot backend's state are on the data partition;
	# the backend reads autoboot.txt on the selector partition.
	[Unit]
	RequiresMountsFor=/mnt/kiosk-data /mnt/boot-select
	[Service]
	ExecStartPre=/bin/mkdir -p /mnt/kiosk-data/rauc
EOF

# fstab: what the builds wrote for / and /boot/firmware (pi-gen's BOOTDEV/ROOTDEV
# placeholders, Debian's labels) out; ours in, once.
fstab=$ROOT/etc/fstab
touch "$fstab"
awk '$1 ~ /^#/ && /kiosk A\/B/ {next}
	$2 == "/" || $2 == "/boot/firmware" || $2 == "/boot" || $2 == "/mnt/boot-select" {next}
	$2 == "/mnt/kiosk-data" || $2 == "/var/lib/kiosk-agent" || $2 == "/etc/kiosk-agent" {next}
	{print}' "$fstab" >"$fstab.new"
cat >>"$fstab.new" <<-EOF
	# kiosk A/B (image/ab): / is slot A or B (root=PARTUUID on the kernel command line);
	# kiosk A/B: /boot/firmware is that slot's boot partition (kiosk-boot-slot generator)
	/dev/root / ext4 defaults,noatime 0 1
	PARTUUID=$(ab_partuuid "$AB_P_SELECT") /mnt/boot-select vfat defaults,noatime,nofail 0 2
	# kiosk A/B: the data partition, as kiosk-firstboot writes it
	LABEL=$AB_DATA_LABEL /mnt/kiosk-data ext4 defaults,noatime,nofail,x-systemd.device-timeout=60s 0 2
	/mnt/kiosk-data/state /var/lib/kiosk-agent none bind,nofail,x-systemd.requires-mounts-for=/mnt/kiosk-data 0 0
	/mnt/kiosk-data/config /etc/kiosk-agent none bind,nofail,x-systemd.requires-mounts-for=/mnt/kiosk-data 0 0
EOF
mv "$fstab.new" "$fstab"

fb=$ROOT/etc/default/kiosk-firstboot
if [ -f "$fb" ] && grep -q '^DATA_GROW=' "$fb"; then
	sed -i 's/^DATA_GROW=.*/DATA_GROW=yes/' "$fb"
elif [ -f "$fb" ]; then
	printf '# A/B image: the build made the data partition (p%s); grow it to the end of the card.\nDATA_GROW=yes\n' \
		"$AB_P_DATA" >>"$fb"
fi

{
	echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "layout=ab disk_id=$AB_DISK_ID"
	echo "rauc_keyring=$KIND"
	echo "rauc_keyring_subject=$(openssl x509 -noout -subject -in "$KEYS/keyring.pem" 2>/dev/null | sed 's/^subject=//')"
	echo "rauc_keyring_sha256=$(sha256sum "$KEYS/keyring.pem" | cut -d' ' -f1)"
	if [ "$KIND" = development ]; then
		echo "WARNING=DEVELOPMENT-ONLY keyring: this image installs bundles signed with the development key (image/rauc/devkey.sh); not for a fleet"
	fi
} >"$ROOT/usr/lib/kiosk/BUILD-INFO"
if [ "$KIND" = development ]; then
	log "WARNING: RAUC keyring is the DEVELOPMENT-ONLY one (see /usr/lib/kiosk/BUILD-INFO)"
else
	log "RAUC keyring: the chain's ($(sed -n 's/^rauc_keyring_subject=//p' "$ROOT/usr/lib/kiosk/BUILD-INFO"))"
fi
