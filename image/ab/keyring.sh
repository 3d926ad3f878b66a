#!/bin/bash
# keyring.sh OUTDIR: the RAUC keyring an image build puts at /etc/rauc/keyring.pem, into
# OUTDIR/keyring.pem, and its kind into OUTDIR/keyring.kind ("chain" or "development").
#   KIOSK_RAUC_KEYRING=path  the hotel chain's CA (PEM certificates): units install only
#                            bundles it signed;
#   unset                    the DEVELOPMENT-ONLY keyring of image/rauc/devkey.sh (in
#                            KIOSK_RAUC_DEVKEY_DIR, default image/work/rauc-devkey, where
#                            image/rauc/bundle.sh signs test bundles), said loudly here and
#                            in the image's /usr/lib/kiosk/BUILD-INFO.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:?usage: $0 OUTDIR}
log() { echo "rauc-keyring: $*" >&2; }
mkdir -p "$OUT"
if [ -n "${KIOSK_RAUC_KEYRING:-}" ]; then
	if ! [ -s "$KIOSK_RAUC_KEYRING" ] || ! openssl x509 -noout -in "$KIOSK_RAUC_KEYRING" 2>/dev/null; then
		log "KIOSK_RAUC_KEYRING=$KIOSK_RAUC_KEYRING is not a PEM certificate file"
		exit 1
	fi
	cp "$KIOSK_RAUC_KEYRING" "$OUT/keyring.pem"
	echo chain >"$OUT/keyring.kind"
	log "the chain's keyring from $KIOSK_RAUC_KEYRING ($(openssl x509 -noout -subject -in "$OUT/keyring.pem"))"
else
	dev=${KIOSK_RAUC_DEVKEY_DIR:-$(cd "$HERE/.." && pwd)/work/rauc-devkey}
	"$HERE/../rauc/devkey.sh" "$dev"
	cp "$dev/DEVELOPMENT-ONLY-keyring.pem" "$OUT/keyring.pem"
	echo development >"$OUT/keyring.kind"
	log "************************************************************************"
	log "WARNING: KIOSK_RAUC_KEYRING unset: this image trusts the DEVELOPMENT-ONLY"
	log "keyring ($dev): any holder of that key can update its units. Not for a"
	log "fleet: build with KIOSK_RAUC_KEYRING=<the chain's CA>."
	log "************************************************************************"
fi
