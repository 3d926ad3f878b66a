#!/bin/bash
# image/rauc/devkey.sh OUTDIR: a DEVELOPMENT-ONLY RAUC signing key, its certificate and
# a keyring that trusts it, for tests and rehearsals (issue 29). Never for a real fleet:
# a hotel chain signs with its own key (KIOSK_RAUC_CERT/KIOSK_RAUC_KEY, README "Fleet").
#
# Idempotent: an OUTDIR that already holds all three files is left as it is (so a
# keyring baked into an image keeps trusting bundles signed later). OUTDIR must not
# be committed (image/work/ is git-ignored): the private key is in it.
#
#   OUTDIR/DEVELOPMENT-ONLY-signing.key.pem   private key (RSA 3072), mode 0600
#   OUTDIR/DEVELOPMENT-ONLY-signing.cert.pem  self-signed certificate (10 years)
#   OUTDIR/DEVELOPMENT-ONLY-keyring.pem       the keyring a unit's system.conf names
set -euo pipefail

OUT=${1:?usage: $0 OUTDIR}
KEY=$OUT/DEVELOPMENT-ONLY-signing.key.pem
CERT=$OUT/DEVELOPMENT-ONLY-signing.cert.pem
KEYRING=$OUT/DEVELOPMENT-ONLY-keyring.pem

if [ -s "$KEY" ] && [ -s "$CERT" ] && [ -s "$KEYRING" ]; then
	echo "devkey: reusing the development key in $OUT" >&2
	exit 0
fi
command -v openssl >/dev/null || { echo "devkey: openssl is missing (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$OUT"
tmp=$(mktemp -d "$OUT/.devkey.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$tmp/key.pem" 2>/dev/null)
# A self-signed CA certificate signs the bundles directly: RAUC verifies the signer
# against the keyring, which is that same certificate.
openssl req -new -x509 -key "$tmp/key.pem" -out "$tmp/cert.pem" -days 3650 -sha256 \
	-subj "/O=kiosk-agent DEVELOPMENT ONLY/CN=kiosk-agent development bundle signing (not for a fleet)" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,digitalSignature,keyCertSign" \
	2>/dev/null
cp "$tmp/cert.pem" "$tmp/keyring.pem"
# Rename into place: an interrupted run leaves no half set behind.
mv "$tmp/key.pem" "$KEY"
mv "$tmp/cert.pem" "$CERT"
mv "$tmp/keyring.pem" "$KEYRING"
chmod 0600 "$KEY"
chmod 0644 "$CERT" "$KEYRING"
echo "devkey: made a DEVELOPMENT-ONLY signing key in $OUT (never ship it to a fleet)" >&2
