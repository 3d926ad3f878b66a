#!/bin/bash
# stage-files.sh FILES_DIR: what pi-gen's stage-kiosk needs for the A/B root (issue 29),
# into its files/ (image/build.sh calls it): image/ab and image/rauc, and the keyring
# (image/ab/keyring.sh: KIOSK_RAUC_KEYRING or the DEVELOPMENT-ONLY one). The sub-stage's
# 01-run.sh then runs files/ab/root-setup.sh on the root, as the arm64 build does.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FILES=${1:?usage: $0 FILES_DIR}
rm -rf "$FILES/ab" "$FILES/rauc" "$FILES/rauc-keyring"
mkdir -p "$FILES"
cp -a "$HERE" "$FILES/ab"
cp -a "$HERE/../rauc" "$FILES/rauc"
rm -f "$FILES"/rauc/*.key.pem # never a private key into the stage
"$HERE/keyring.sh" "$FILES/rauc-keyring"
