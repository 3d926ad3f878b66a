#!/bin/bash
# build.sh: build the kiosk SD image with pi-gen (Raspberry Pi OS Lite 64-bit + stage-kiosk).
#
#   KIOSK_TECH_PASSWORD=... [KIOSK_SSH_PUBKEY="ssh-ed25519 ..."] image/build.sh [PI_GEN_DIR]
#
# PI_GEN_DIR: a pi-gen checkout (default image/work/pi-gen, cloned on first use
# from $PI_GEN_URL at branch $PI_GEN_BRANCH). Needs what pi-gen needs: a Debian
# host (or KIOSK_DOCKER=1 for pi-gen's build-docker.sh), root, binfmt for arm64.
# The image lands in PI_GEN_DIR/deploy/: pi-gen's export (boot + root) laid out as
# the A/B image by image/ab/from-pigen.sh (image/ab/layout.sh, as the arm64 build),
# with the slot images boot.vfat and rootfs.ext4 beside it. KIOSK_RAUC_KEYRING=path
# is the chain's CA for /etc/rauc/keyring.pem (unset: the DEVELOPMENT-ONLY one).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$HERE/work
PI_GEN=${1:-$WORK/pi-gen}
PI_GEN_URL=${PI_GEN_URL:-https://github.com/RPi-Distro/pi-gen.git}
PI_GEN_BRANCH=${PI_GEN_BRANCH:-bookworm-arm64}
# The image's Python and glibc (Raspberry Pi OS bookworm: 3.11, 2.36), for the wheelhouse.
TARGET_PYTHON=${TARGET_PYTHON:-3.11}
TARGET_GLIBC=${TARGET_GLIBC:-2.36}

if [ -z "${KIOSK_TECH_PASSWORD:-}" ]; then
	echo "build.sh: set KIOSK_TECH_PASSWORD (console password of the technician account)" >&2
	exit 2
fi

echo "==> pi-gen in $PI_GEN"
if [ ! -x "$PI_GEN/build.sh" ]; then
	git clone --depth 1 --branch "$PI_GEN_BRANCH" "$PI_GEN_URL" "$PI_GEN"
fi

# Inside the pi-gen checkout, so build-docker.sh sees it too.
STAGE=$PI_GEN/stage-kiosk
echo "==> stage-kiosk bundle in $STAGE"
rm -rf "$STAGE"
cp -a "$HERE/stage-kiosk" "$STAGE"
FILES=$STAGE/00-kiosk-agent/files
install -m 0755 "$HERE/install.sh" "$FILES/install.sh"
echo "==> A/B: RAUC config, tryboot backend, keyring into the stage (image/ab/stage-files.sh)"
"$HERE/ab/stage-files.sh" "$FILES"

echo "==> agent wheel and its dependencies for aarch64 / CPython $TARGET_PYTHON (hash-locked)"
"$HERE/wheelhouse.sh" "$FILES/wheels" "$TARGET_PYTHON" "$TARGET_GLIBC"

echo "==> pi-gen config"
# Only stages 0-2 (Lite) and ours; ours exports the image, stage2 does not.
touch "$PI_GEN/stage2/SKIP_IMAGES"
# Resolved values: build-docker.sh does not pass our environment into its container.
(
	# shellcheck source=config
	. "$HERE/config"
	for v in IMG_NAME RELEASE TARGET_HOSTNAME LOCALE_DEFAULT KEYBOARD_KEYMAP KEYBOARD_LAYOUT \
		TIMEZONE_DEFAULT FIRST_USER_NAME FIRST_USER_PASS DISABLE_FIRST_BOOT_USER_RENAME ENABLE_SSH \
		PUBKEY_SSH_FIRST_USER PUBKEY_ONLY_SSH ENABLE_CLOUD_INIT DEPLOY_COMPRESSION; do
		[ -n "${!v:-}" ] && printf '%s=%q\n' "$v" "${!v}"
	done
	echo 'STAGE_LIST="stage0 stage1 stage2 stage-kiosk"'
	echo 'DEPLOY_COMPRESSION=none' # from-pigen.sh reads the image; the A/B image is the one to ship
) >"$PI_GEN/config.kiosk"
chmod 0600 "$PI_GEN/config.kiosk" # holds the technician password

echo "==> building (this takes a while)"
cd "$PI_GEN"
if [ "${KIOSK_DOCKER:-0}" = 1 ]; then
	./build-docker.sh -c config.kiosk
else
	./build.sh -c config.kiosk
fi

echo "==> A/B image from pi-gen's export (image/ab/from-pigen.sh)"
PIGEN_IMG=$(find "$PI_GEN/deploy" -maxdepth 1 -name '*-kiosk.img' -newer "$PI_GEN/config.kiosk" | head -n 1)
[ -n "$PIGEN_IMG" ] || { echo "build.sh: no *-kiosk.img from pi-gen in $PI_GEN/deploy" >&2; exit 1; }
# shellcheck source=config
AB_NAME=$(. "$HERE/config" && echo "$IMG_NAME")-ab
"$HERE/ab/from-pigen.sh" "$PIGEN_IMG" "$PI_GEN/deploy" "$AB_NAME"
rm -f "$PIGEN_IMG" # two partitions, no A/B: not for a unit
ls -l "$PI_GEN/deploy/"
