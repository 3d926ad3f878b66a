"""A new device kind is one package: everything that used to be a hand-kept list finds it by its declaration.

The test writes a `thermometer` kind into a folder of its own (nothing in the repository
changes), adds that folder to ``agent.devices``' search path, and checks that the config,
secret redaction, its own config rules, the composition root's handlers, Mews dispatch,
doctor, ``kiosk-agent sim`` and the effective-config printout all take it.
"""

from __future__ import annotations

import argparse
import sys
import textwrap

import pytest

import agent.devices as devices_pkg
from agent import config
from agent.devices import kind_of_device_type, kinds

PACKAGE = {
    "__init__.py": '''
        from agent.devices.kind import DeviceKind
        from agent.runtime.jobs import JobKind
        from agent.devices.thermometer.config import ThermometerConfig

        KIND = DeviceKind(table="thermometer", config=ThermometerConfig, label="thermometer",
                          device_types=("Thermometer",), mews_job=JobKind.DEVICE_COMMAND,
                          job_kinds=frozenset({JobKind.DEVICE_COMMAND}),
                          handler="agent.devices.thermometer.handler:from_config",
                          config_check="agent.devices.thermometer.config:check",
                          doctor="agent.devices.thermometer.doctor",
                          simulators="agent.devices.thermometer.simulator")
    ''',
    "config.py": '''
        from dataclasses import dataclass

        from agent.config.errors import ConfigError
        from agent.config.fields import Section, opt


        @dataclass(frozen=True, repr=False)
        class ThermometerConfig(Section):
            port: str = opt("/dev/ttyUSB3", port=True)
            api_key: str = opt("", secret=True)
            limit: float = opt(30.0, minimum=0.0)


        def check(t, fname):
            if t.limit > 60:
                raise ConfigError(fname, "thermometer.limit", "above 60 degrees nobody is comfortable")
    ''',
    "handler.py": '''
        from agent.devices.thermometer import KIND
        from agent.runtime.handler import serves_job
        from agent.runtime.jobs import Outcome


        class ThermometerHandler:
            device_types, kinds, name, device, retry_after_crash = (KIND.device_types, KIND.job_kinds,
                                                                    KIND.label, "", True)

            def serves(self, job):
                return serves_job(self, job)

            def run(self, job, progress):
                return Outcome.done("21.5 degrees", {"celsius": 21.5})

            def close(self):
                pass


        def from_config(cfg):
            return ThermometerHandler()
    ''',
    "doctor.py": '''
        from agent.doctor import OK, Result


        def add_arguments(parser):
            parser.add_argument("--read-temperature", action="store_true")


        def check(cfg, options):
            if cfg.thermometer is not None:
                yield Result("thermometer", OK, f"{cfg.thermometer.port}: answers")
    ''',
    "simulator.py": '''
        from agent.devices.kind import Simulator


        def _arguments(p):
            p.add_argument("--degrees", type=float, default=21.5)


        SIMULATORS = (Simulator("thermometer", "sim.thermometer.cli", "a virtual thermometer", _arguments),)
    ''',
}

TOML = """
[mews]
platform_address = "http://127.0.0.1:9"
client_token = "c"
access_token = "a"
[thermometer]
port = "/dev/ttyUSB3"
api_key = "therm-secret-4711"
"""


@pytest.fixture
def thermometer(tmp_path, monkeypatch):
    folder = tmp_path / "extra-kinds"
    package = folder / "thermometer"
    package.mkdir(parents=True)
    for name, text in PACKAGE.items():
        (package / name).write_text(textwrap.dedent(text))
    monkeypatch.setattr(devices_pkg, "__path__", [*devices_pkg.__path__, str(folder)])
    kinds.cache_clear()
    yield
    kinds.cache_clear()
    for name in [m for m in sys.modules if m.startswith("agent.devices.thermometer")]:
        del sys.modules[name]


def test_a_new_kinds_table_is_known_checked_and_its_secrets_redacted(thermometer, tmp_path):
    cfg = config.parse(TOML, str(tmp_path / "c.toml"))
    assert cfg.thermometer.port == "/dev/ttyUSB3"
    assert "therm-secret-4711" in cfg.secrets()  # log redaction learns it without a list to edit
    assert "therm-secret-4711" not in repr(cfg.thermometer)
    from agent.commands.config import render

    assert "therm-secret-4711" not in render(cfg) and "[thermometer]" in render(cfg)
    with pytest.raises(config.ConfigError, match="thermometer.colour: unknown key"):
        config.parse(TOML + 'colour = "red"\n', str(tmp_path / "c.toml"))
    with pytest.raises(config.ConfigError, match="thermometer.limit: above 60"):
        config.parse(TOML + "limit = 90.0\n", str(tmp_path / "c.toml"))
    with pytest.raises(config.ConfigError, match="thermometer.port"):
        config.parse(TOML.replace("/dev/ttyUSB3", "ttyUSB3"), str(tmp_path / "c.toml"))


def test_a_new_kind_gets_its_handler_its_mews_commands_its_doctor_line_and_its_simulator(thermometer, tmp_path):
    from agent.commands import doctor, sim
    from agent.handlers import build_handlers
    from agent.mews.models import Command
    from agent.runtime.handler import NullProgress
    from agent.runtime.jobs import Job

    cfg = config.parse(TOML, str(tmp_path / "c.toml"))
    [handler] = [h for h in build_handlers(cfg) if h.name == "thermometer"]
    command = Command.from_json({"Id": "t1", "State": "Pending", "CreatedUtc": "2026-12-06T10:00:00Z",
                                 "Device": {"Id": "d", "Name": "Lobby", "Type": "Thermometer"}, "Data": {}})
    job = Job.of_command(command)
    assert kind_of_device_type("Thermometer").table == "thermometer" and handler.serves(job)
    assert handler.run(job, NullProgress()).result == {"celsius": 21.5}

    parser = argparse.ArgumentParser()
    doctor.register(parser)
    options = parser.parse_args(["--read-temperature"])
    lines = [r.line() for d in doctor._kind_doctors() for r in d.check(cfg, options)]
    assert any(line.startswith("OK   thermometer") for line in lines), lines

    parser = argparse.ArgumentParser()
    sim.register(parser)
    assert parser.parse_args(["thermometer", "--degrees", "19"]).degrees == 19.0


def test_the_kinds_in_this_repository_declare_what_they_serve():
    tables = {k.table: k for k in kinds()}
    assert set(tables) >= {"printer", "encoder", "payment", "reader"}
    assert kind_of_device_type("KeyCutter") is tables["encoder"] and tables["encoder"].touches_cards
    assert kind_of_device_type("PassportScanner") is tables["reader"] and not tables["reader"].touches_cards
    for kind in kinds():  # every declaration's references resolve
        assert callable(kind.handler_factory())
        __import__(kind.doctor)
        __import__(kind.simulators)
