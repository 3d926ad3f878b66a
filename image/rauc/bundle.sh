#!/bin/bash
# image/rauc/bundle.sh: a signed RAUC bundle from a root slot image (and a boot slot image).
#
#   bundle.sh --rootfs ROOT.ext4 [--boot BOOT.vfat] --version V --compatible C \
#             [--cert CERT.pem --key KEY.pem] [--keyring KEYRING.pem] --out FILE.raucb
#
# The manifest names compatible (a unit refuses a bundle for other hardware) and
# version; the bundle format is verity (the units' system.conf refuses plain ones).
# Without --cert/--key it signs with the development key of image/rauc/devkey.sh
# (image/work/rauc-devkey) and says so loudly: such a bundle is for tests only.
# --keyring checks the new bundle's signature against it (rauc info) before exit.
# `make bundle` calls this with the arm64 build's images (README "Fleet").
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
ROOTFS="" BOOT="" VERSION="" COMPATIBLE="" CERT="" KEY="" KEYRING="" OUT=""

die() { echo "bundle: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
	case "$1" in
	--rootfs) ROOTFS=$2 ;;
	--boot) BOOT=$2 ;;
	--version) VERSION=$2 ;;
	--compatible) COMPATIBLE=$2 ;;
	--cert) CERT=$2 ;;
	--key) KEY=$2 ;;
	--keyring) KEYRING=$2 ;;
	--out) OUT=$2 ;;
	*) die "unknown argument $1 (see the head of $0)" ;;
	esac
	shift 2 || die "$1 needs a value"
done
if [ -z "$ROOTFS" ] || [ -z "$VERSION" ] || [ -z "$COMPATIBLE" ] || [ -z "$OUT" ]; then
	die "usage: $0 --rootfs ROOT.ext4 [--boot BOOT.vfat] --version V --compatible C [--cert C --key K] [--keyring R] --out F.raucb"
fi
[ -f "$ROOTFS" ] || die "no root slot image $ROOTFS (build the image first)"
[ -z "$BOOT" ] || [ -f "$BOOT" ] || die "no boot slot image $BOOT"
case "$OUT" in *.raucb) ;; *) die "--out must end in .raucb (RAUC's rule)" ;; esac
for value in "$VERSION" "$COMPATIBLE"; do
	case "$value" in *[$'\n\r']*) die "a line break in a manifest value" ;; esac
done
command -v rauc >/dev/null || die "rauc is missing (apt-get install rauc)"
command -v mksquashfs >/dev/null || die "mksquashfs is missing (apt-get install squashfs-tools)"
if [ -z "$CERT" ] && [ -z "$KEY" ]; then
	devdir=$REPO/image/work/rauc-devkey
	"$HERE/devkey.sh" "$devdir"
	CERT=$devdir/DEVELOPMENT-ONLY-signing.cert.pem
	KEY=$devdir/DEVELOPMENT-ONLY-signing.key.pem
	[ -n "$KEYRING" ] || KEYRING=$devdir/DEVELOPMENT-ONLY-keyring.pem
	{
		echo "bundle: ********************************************************************"
		echo "bundle: SIGNED WITH THE DEVELOPMENT KEY ($devdir): for tests only."
		echo "bundle: A fleet's units trust only the chain's keyring; sign with"
		echo "bundle: KIOSK_RAUC_CERT=... KIOSK_RAUC_KEY=... (make bundle) or --cert/--key."
		echo "bundle: ********************************************************************"
	} >&2
fi
if [ -z "$CERT" ] || [ -z "$KEY" ]; then die "--cert and --key go together"; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/content"
# Hard links when on the same file system (root images are large), copies otherwise.
ln "$ROOTFS" "$work/content/rootfs.ext4" 2>/dev/null || cp --sparse=always "$ROOTFS" "$work/content/rootfs.ext4"
{
	printf '[update]\ncompatible=%s\nversion=%s\n' "$COMPATIBLE" "$VERSION"
	printf 'build=%s\n' "$(date -u +%Y%m%dT%H%M%SZ)"
	printf '\n[bundle]\nformat=verity\n'
	printf '\n[image.rootfs]\nfilename=rootfs.ext4\n'
} >"$work/content/manifest.raucm"
if [ -n "$BOOT" ]; then
	ln "$BOOT" "$work/content/boot.vfat" 2>/dev/null || cp "$BOOT" "$work/content/boot.vfat"
	printf '\n[image.boot]\nfilename=boot.vfat\n' >>"$work/content/manifest.raucm"
fi
mkdir -p "$(dirname "$OUT")"
rm -f "$OUT"
rauc bundle --cert="$CERT" --key="$KEY" "$work/content" "$OUT" >"$work/bundle.log" 2>&1 \
	|| { cat "$work/bundle.log" >&2; die "rauc bundle failed"; }
if [ -n "$KEYRING" ]; then
	rauc info --keyring="$KEYRING" "$OUT" >"$work/info.log" 2>&1 \
		|| { cat "$work/info.log" >&2; die "the new bundle does not verify against $KEYRING"; }
fi
echo "bundle: $OUT ($COMPATIBLE $VERSION, $(du -h "$OUT" | cut -f1))" >&2
