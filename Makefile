# The README's two commands: `make demo` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench soak image-test powercut-test clean

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

clean:
	rm -rf $(VENV) demo-output build *.egg-info
