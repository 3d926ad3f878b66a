"""The money fault run on the Adyen simulator: 50 iterations here, 1,000 under `make soak`."""

import json
import os

import pytest

from tests.adyen_faults import fault_run
from tests.adyen_harness import started_sim

HOLD = 0.15


@pytest.fixture(scope="module")
def sim(adyen_pki):
    s = started_sim(adyen_pki, hold=HOLD)  # its own simulator: the fault run's short hold
    yield s
    s.stop()


def check(report):
    print(json.dumps(report))
    assert report["double_charges"] == 0, report
    assert report["approvals_not_recorded"] == 0, report
    assert report["recorded_amounts_differ"] == 0, report
    assert report["left_open"] == 0, report


def test_fault_run_50(sim, adyen_pki, tmp_path):
    check(fault_run(sim, adyen_pki, tmp_path, 50, seed=int(os.environ.get("ADYEN_FAULT_SEED", "27")), hold=HOLD))


@pytest.mark.soak
def test_fault_run_1000(sim, adyen_pki, tmp_path):
    check(fault_run(sim, adyen_pki, tmp_path, 1000, seed=int(os.environ.get("ADYEN_FAULT_SEED", "1027")), hold=HOLD))
