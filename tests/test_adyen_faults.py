"""The money fault run on the Adyen simulator: 50 iterations here, 1,000 under `make soak`."""

import json
import os

import pytest

from tests.adyen_faults import fault_run
from tests.adyen_harness import AdyenSim, make_test_ca, node_modules

HOLD = 0.15


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_test_ca(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def sim(pki):
    modules, why = node_modules()
    if modules is None:
        pytest.skip(f"Adyen terminal simulator unavailable: {why}")
    s = AdyenSim(modules, pki, hold=HOLD)
    yield s
    s.stop()


def check(report):
    print(json.dumps(report))
    assert report["double_charges"] == 0, report
    assert report["approvals_not_recorded"] == 0, report
    assert report["recorded_amounts_differ"] == 0, report
    assert report["left_open"] == 0, report


def test_fault_run_50(sim, pki, tmp_path):
    check(fault_run(sim, pki, tmp_path, 50, seed=int(os.environ.get("ADYEN_FAULT_SEED", "27")), hold=HOLD))


@pytest.mark.soak
def test_fault_run_1000(sim, pki, tmp_path):
    check(fault_run(sim, pki, tmp_path, 1000, seed=int(os.environ.get("ADYEN_FAULT_SEED", "1027")), hold=HOLD))
