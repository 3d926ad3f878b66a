"""Soak tests (marked ``soak``) run only with ``--run-soak`` (``make soak``), never in CI."""

import pytest


def pytest_addoption(parser):
    parser.addoption("--run-soak", action="store_true", help="run the slow soak tests")


def pytest_configure(config):
    config.addinivalue_line("markers", "soak: slow soak test, run by `make soak` only")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-soak"):
        return
    skip = pytest.mark.skip(reason="soak test: run with `make soak`")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


from tests.adyen_harness import adyen_pki, adyen_sim  # noqa: E402,F401 - the Adyen simulator, once per session
