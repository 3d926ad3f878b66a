# The README's two commands: `make demo` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench soak image-test powercut-test lock image-arm64 image-arm64-test image-arm64-pytest clean bundle update-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Exactly the dev/test lock (every runtime, sim, dev and bench dependency, hash-checked), then
# our own code without resolving anything again: CI runs what requirements/dev.lock says.
$(STAMP): $(BIN)/python setup.cfg pyproject.toml requirements/dev.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kiosk-agent demo --out demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench

soak: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m soak --run-soak tests

image-test:
	image/test/run.sh

# Not part of test or CI: POWERCUT_N cuts (default 100) under QEMU TCG, POWERCUT_SEED to replay.
powercut-test: $(STAMP)
	image/test/powercut.sh

# requirements/runtime.lock: install_requires pinned with the hashes of every file of each
# pin (aarch64 and x86_64 wheels, sdists), for every platform (markers kept): the images
# install from it with --require-hashes. requirements/dev.lock: the same plus the sim, dev
# and bench extras, for `make test`'s venv (above). uv comes from PyPI at a pinned version
# into a venv of its own, so refreshing never depends on the dev lock it rewrites.
UV_VERSION ?= 0.13.9
UV_VENV := .venv-uv
UV_COMPILE = $(UV_VENV)/bin/uv pip compile setup.cfg --universal --python-version 3.11 --generate-hashes --quiet
lock:
	test -x $(UV_VENV)/bin/uv || ($(PYTHON) -m venv $(UV_VENV) && $(UV_VENV)/bin/pip install --quiet 'uv==$(UV_VERSION)')
	mkdir -p requirements
	$(UV_COMPILE) --output-file requirements/runtime.lock
	$(UV_COMPILE) --extra sim --extra dev --extra bench --output-file requirements/dev.lock

# Not part of test or CI (root, QEMU, about an hour under qemu-user): the Debian arm64 image.
image-arm64:
	image/arm64/build.sh

image-arm64-test:
	image/arm64/test.sh

# The hardware-free test subset under the image's own arm64 Python (qemu-user).
image-arm64-pytest:
	image/arm64/pytest.sh

# A signed RAUC bundle of the arm64 build's slot images (README "Fleet"). The chain signs with
# KIOSK_RAUC_CERT/KIOSK_RAUC_KEY; without them bundle.sh uses the DEVELOPMENT-ONLY key, loudly.
BUNDLE_ROOTFS ?= image/work/arm64/deploy/rootfs.ext4
BUNDLE_BOOT ?= image/work/arm64/deploy/boot.vfat
BUNDLE_COMPATIBLE ?= kiosk-agent-pi
BUNDLE_VERSION ?= $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' agent/__init__.py)
BUNDLE_OUT ?= image/work/bundle/kiosk-agent-$(BUNDLE_VERSION).raucb
bundle:
	image/rauc/bundle.sh --rootfs $(BUNDLE_ROOTFS) $(if $(BUNDLE_BOOT),--boot $(BUNDLE_BOOT)) \
		--version $(BUNDLE_VERSION) --compatible $(BUNDLE_COMPATIBLE) --out $(BUNDLE_OUT) \
		$(if $(KIOSK_RAUC_CERT),--cert $(KIOSK_RAUC_CERT)) $(if $(KIOSK_RAUC_KEY),--key $(KIOSK_RAUC_KEY)) \
		$(if $(KIOSK_RAUC_KEYRING),--keyring $(KIOSK_RAUC_KEYRING))

# Not part of test or CI (root, QEMU/KVM, ~30 min): A/B updates with RAUC's grub backend, rollback,
# power cuts, journal upload; writes image/work/update-test/results.json.
update-test: $(STAMP)
	image/test/update.sh

clean:
	rm -rf $(VENV) $(UV_VENV) demo-output build *.egg-info
