# The README's two commands: `make demo` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench soak image-test powercut-test lock image-arm64 image-arm64-test image-arm64-pytest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[sim,dev,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kiosk-agent demo --out demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

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
# install from it with --require-hashes.
UV_VERSION ?= 0.13.9
lock: $(STAMP)
	$(BIN)/pip install --quiet 'uv==$(UV_VERSION)'
	mkdir -p requirements
	$(BIN)/uv pip compile setup.cfg --universal --python-version 3.11 --generate-hashes --quiet \
		--output-file requirements/runtime.lock

# Not part of test or CI (root, QEMU, about an hour under qemu-user): the Debian arm64 image.
image-arm64:
	image/arm64/build.sh

image-arm64-test:
	image/arm64/test.sh

# The hardware-free test subset under the image's own arm64 Python (qemu-user).
image-arm64-pytest:
	image/arm64/pytest.sh

clean:
	rm -rf $(VENV) demo-output build *.egg-info
