#!/bin/bash
# wheelhouse.sh DEST PYTHON GLIBC: the agent and its runtime dependencies for an
# aarch64 image, hash-locked; both image builds use it (build.sh for pi-gen,
# arm64/build.sh for Debian).
#
#   image/wheelhouse.sh image/work/arm64/wheels 3.13 2.41
#
# DEST gets: runtime.lock (requirements/runtime.lock as it is: install.sh
# installs from it with --require-hashes, the target deciding its markers), the
# files that lock pins for CPython PYTHON on aarch64 with glibc GLIBC (a wheel
# where one fits, else the sdist), each checked against the lock's hashes, and
# the agent's own wheel built from this checkout.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
DEST=${1:?DEST}
TARGET_PYTHON=${2:?PYTHON (3.13)}
TARGET_GLIBC=${3:?GLIBC (2.41)}
LOCK=$REPO/requirements/runtime.lock
PYTHON=${PYTHON:-python3}

platform_args=()
for ((minor = ${TARGET_GLIBC#2.}; minor >= 17; minor--)); do
	platform_args+=(--platform "manylinux_2_${minor}_aarch64")
done
platform_args+=(--platform manylinux2014_aarch64)

rm -rf "$DEST"
mkdir -p "$DEST"
cp "$LOCK" "$DEST/runtime.lock"
"$PYTHON" "$HERE/lock_for_target.py" --machine aarch64 --python "$TARGET_PYTHON" "$LOCK" >"$DEST/aarch64.txt"
# --no-deps: the lock already lists every dependency. Without --only-binary a pin
# with no wheel for the target comes as its sdist, which the target builds.
"$PYTHON" -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
	--python-version "$TARGET_PYTHON" --implementation cp "${platform_args[@]}" \
	--dest "$DEST" -r "$DEST/aarch64.txt"
# From a copy without image/work: setuptools' package search would walk the image trees.
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
tar -C "$REPO" --exclude=./image/work --exclude=./.venv --exclude=./.git --exclude=./build -cf - . | tar -C "$src" -xf -
"$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$DEST" "$src"
rm "$DEST/aarch64.txt"
echo "wheelhouse: $(find "$DEST" -name '*.whl' | wc -l) wheels, $(find "$DEST" -name '*.tar.gz' | wc -l) sdists in $DEST"
