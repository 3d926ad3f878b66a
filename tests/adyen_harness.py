"""The simulated Adyen terminal for the tests (see sim/adyen/runner.py)."""

from sim.adyen.runner import KEY, POI_ID, AdyenSim, make_test_ca  # noqa: F401
from sim.adyen.runner import node_modules as _node_modules


def node_modules():
    """The library's folder, or why the simulator cannot run; as root, Node is installed from Debian first."""
    return _node_modules(install_node=True)
