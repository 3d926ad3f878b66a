"""One home for error names (issue 12): no two exception classes of the same name in the project,
and one error root per package (agent.pos: PosError)."""

import importlib
import inspect
import pkgutil

import agent
import hal

SKIP_PREFIXES = ("agent.commands", "agent.doctor")  # entry points, no error classes of their own


def _exception_classes():
    seen = {}
    for root in (agent, hal):
        for info in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
            if info.name.startswith(SKIP_PREFIXES) or info.name.endswith("__main__"):
                continue
            try:
                module = importlib.import_module(info.name)
            except ImportError:
                continue  # a device library missing from this build
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, BaseException) and cls.__module__ == info.name:
                    seen.setdefault(cls.__name__, set()).add(f"{cls.__module__}.{cls.__qualname__}")
    return seen


def test_no_two_error_classes_share_a_name():
    clashes = {name: where for name, where in _exception_classes().items() if len(where) > 1}
    assert clashes == {}


def test_pos_errors_have_one_root():
    from agent.pos.errors import PosError

    for info in pkgutil.walk_packages(importlib.import_module("agent.pos").__path__, "agent.pos."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == info.name:
                assert issubclass(cls, PosError), cls
