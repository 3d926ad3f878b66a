"""The simulated Adyen terminal for the tests (see sim/adyen/runner.py)."""

from sim.adyen.runner import KEY, POI_ID, AdyenSim, make_test_ca  # noqa: F401
from sim.adyen.runner import node_modules as _node_modules


def node_modules():
    """The library's folder, or why the simulator cannot run; as root, Node is installed from Debian first."""
    return _node_modules(install_node=True)


# Session fixtures (imported by tests/conftest.py): one CA and one simulator for every Adyen test module, so
# the suite pays Node's start once. Tests use their own references, so they do not see each other's payments.
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def adyen_pki(tmp_path_factory):
    return make_test_ca(tmp_path_factory.mktemp("adyen-pki"))


def started_sim(pki, hold: float) -> "AdyenSim":
    """The Node simulator on ``pki``'s certificate, or the test skipped with the reason it cannot run."""
    modules, why = node_modules()
    if modules is None:
        pytest.skip(f"Adyen terminal simulator unavailable: {why}")
    return AdyenSim(modules, pki, hold=hold)


@pytest.fixture(scope="session")
def adyen_sim(adyen_pki):
    sim = started_sim(adyen_pki, hold=1.0)
    yield sim
    sim.stop()
