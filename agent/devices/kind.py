"""A device kind's declaration, and the registry that finds every kind's package.

Every list that names device kinds is derived from these declarations: the config's
tables and secrets, the handlers the composition root builds, the Mews device type ->
job kind map, the card jobs (journalled, refused after a lost state), doctor's lines,
the OLED's screens per device and ``kiosk-agent sim``'s subcommands.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.runtime.jobs import JobKind


@dataclass(frozen=True)
class Simulator:
    """``kiosk-agent sim NAME``: ``module.run(args)`` (in the sim extra) with these arguments."""

    name: str
    module: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


@dataclass(frozen=True)
class DeviceKind:
    table: str  # its config table: [printer]
    config: type  # that table's Section dataclass (its fields say which values are secret)
    label: str  # its name on the OLED, in health, doctor and metrics
    device_types: tuple[str, ...]  # the Mews Device.Type values whose commands it serves
    mews_job: JobKind  # the job a Mews command for these device types is
    job_kinds: frozenset[JobKind]  # every job kind its handler takes
    handler: str  # "module:function": from_config(cfg) -> Handler | None
    config_check: str = ""  # "module:function"(section, fname) raising ConfigError: rules across its keys
    doctor: str = ""  # module with check(cfg, options) -> Iterator[Result] (and add_arguments(parser))
    simulators: str = ""  # module with SIMULATORS: tuple[Simulator, ...]
    card_jobs: frozenset[JobKind] = field(default_factory=frozenset)  # jobs that write or void a card
    # "module:function"(cfg, handler, health, client) -> a part with start()/stop() that runs beside the
    # handler in the agent (the printer's paper watch); "" = none
    companion: str = ""
    waiting_screen: str = "busy"  # agent.panel.screens function while the device waits for the guest
    working_screen: str = "busy"  # ... and while it works

    @property
    def touches_cards(self) -> bool:
        return bool(self.card_jobs)

    def handler_factory(self) -> Callable[[Any], Any]:
        return _load(self.handler)

    def config_check_function(self) -> Callable[..., Any] | None:
        return _load(self.config_check) if self.config_check else None

    def companion_factory(self) -> Callable[..., Any] | None:
        return _load(self.companion) if self.companion else None


def _load(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


@functools.cache
def kinds() -> tuple[DeviceKind, ...]:
    """Every device kind: each sub-package of agent/devices with a ``KIND``, by table name."""
    import agent.devices as package

    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        kind = getattr(module, "KIND", None)
        if isinstance(kind, DeviceKind):
            found.append(kind)
    return tuple(found)


def kind_of_device_type(device_type: str) -> DeviceKind | None:
    """The kind serving Mews commands of this ``Device.Type`` (None: no kind of its own)."""
    return next((k for k in kinds() if device_type in k.device_types), None)


def kind_of_label(label: str) -> DeviceKind | None:
    return next((k for k in kinds() if k.label == label), None)


def job_of_device_type(device_type: str) -> JobKind:
    """The job a Mews command for this device type is (DEVICE_COMMAND when no kind claims the type)."""
    kind = kind_of_device_type(device_type)
    return kind.mews_job if kind is not None else JobKind.DEVICE_COMMAND


def card_jobs() -> frozenset[JobKind]:
    """Job kinds that write to or void a card: journalled at most once, refused after a lost state."""
    return frozenset().union(*(k.card_jobs for k in kinds()))


def card_device_types() -> tuple[str, ...]:
    """Mews device types whose commands write cards (refused while the unit's state is lost)."""
    return tuple(t for k in kinds() if k.touches_cards for t in k.device_types)


def simulators() -> tuple[Simulator, ...]:
    """Every device kind's simulators, for ``kiosk-agent sim``."""
    out: list[Simulator] = []
    for kind in kinds():
        if kind.simulators:
            out.extend(importlib.import_module(kind.simulators).SIMULATORS)
    return tuple(out)
