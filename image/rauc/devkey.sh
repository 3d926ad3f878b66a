#!/bin/bash
# image/rauc/devkey.sh OUTDIR: a DEVELOPMENT-ONLY RAUC signing key, its certificate and
# the keyring trusting it (issue 29), for tests and rehearsals, never for a fleet.
# Idempotent: an OUTDIR holding all three keeps them (an image's keyring keeps trusting
# bundles signed later). Minimal version of image/ab's branch; the update branch has one
# with the same interface:
#   OUTDIR/DEVELOPMENT-ONLY-signing.key.pem  OUTDIR/DEVELOPMENT-ONLY-signing.cert.pem
#   OUTDIR/DEVELOPMENT-ONLY-keyring.pem
set -euo pipefail
OUT=${1:?usage: $0 OUTDIR}
KEY=$OUT/DEVELOPMENT-ONLY-signing.key.pem CERT=$OUT/DEVELOPMENT-ONLY-signing.cert.pem
KEYRING=$OUT/DEVELOPMENT-ONLY-keyring.pem
[ -s "$KEY" ] && [ -s "$CERT" ] && [ -s "$KEYRING" ] && exit 0
mkdir -p "$OUT"
tmp=$(mktemp -d "$OUT/.devkey.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$tmp/key.pem" 2>/dev/null)
# self-signed: the keyring is the signing certificate itself
openssl req -new -x509 -key "$tmp/key.pem" -out "$tmp/cert.pem" -days 3650 -sha256 \
	-subj "/O=kiosk-agent DEVELOPMENT ONLY/CN=kiosk-agent development bundle signing" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,digitalSignature,keyCertSign" 2>/dev/null
cp "$tmp/cert.pem" "$tmp/keyring.pem"
mv "$tmp/key.pem" "$KEY" && mv "$tmp/cert.pem" "$CERT" && mv "$tmp/keyring.pem" "$KEYRING"
echo "devkey: made a DEVELOPMENT-ONLY signing key in $OUT" >&2
