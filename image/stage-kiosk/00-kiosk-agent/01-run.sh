#!/bin/bash -e
# pi-gen sub-stage: run image/install.sh inside the image. files/ holds the
# units and scripts from the repository plus, added by image/build.sh,
# install.sh and wheels/ (the agent and the dependencies requirements/runtime.lock
# pins, for the target; installed with --require-hashes).
if [ ! -f files/install.sh ] || [ ! -d files/wheels ] || [ ! -x files/ab/root-setup.sh ]; then
	echo "stage-kiosk: files/install.sh, files/wheels or files/ab missing: build with image/build.sh" >&2
	exit 1
fi
rm -rf "${ROOTFS_DIR}/tmp/kiosk-install"
install -d "${ROOTFS_DIR}/tmp/kiosk-install"
cp -a files/. "${ROOTFS_DIR}/tmp/kiosk-install/"
on_chroot << EOF2
KIOSK_NO_APT=1 bash /tmp/kiosk-install/install.sh --image --wheelhouse /tmp/kiosk-install/wheels --lock /tmp/kiosk-install/wheels/runtime.lock
EOF2
rm -rf "${ROOTFS_DIR}/tmp/kiosk-install"
# A/B (issue 29): RAUC's config, backend and keyring, fstab for the slots (the same
# script the arm64 build runs; image/build.sh put files/ab, files/rauc, files/rauc-keyring)
files/ab/root-setup.sh "${ROOTFS_DIR}" files/rauc-keyring
