"""`kiosk-agent doctor` against the Mews simulator, the virtual printer and the virtual encoder."""

from __future__ import annotations

import errno
import socket

import pytest

from agent.cli import main as cli_main

import sim.mews as sim_mews
from sim.encoder import VirtualEncoder
from sim.printer.virtual import VirtualPrinter

TOKEN = sim_mews.DEMO_CONNECTOR_TOKEN


@pytest.fixture(scope="module")
def platform():
    with sim_mews.MewsSimulator(rate_limit=False, generation="seed") as sim:
        yield sim


@pytest.fixture
def printer():
    p = VirtualPrinter().start()
    yield p
    p.stop()


@pytest.fixture
def encoder():
    with VirtualEncoder() as e:
        yield e


def write_config(tmp_path, url, *, token=TOKEN, printer=None, encoder=None, extra=""):
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    text = f'[mews]\nplatform_address = "{url}"\ngeneration = "seed"\nconnector_token = "{token}"\ntimeout = 5.0\n' \
           f'[agent]\nstate_dir = "{state}"\n'
    if printer is not None:
        text += f'[printer]\nport = "{printer.url}"\nrow_time_ms = 0.0\n'
    if encoder is not None:
        text += f'[encoder]\nport = "{encoder.url}"\nreply_timeout = 5.0\n'
    text += extra
    path = tmp_path / "config.toml"
    path.write_text(text)
    return str(path)


def doctor(capsys, path, *flags):
    code = cli_main(["doctor", "--config", path, *flags])
    out = capsys.readouterr().out
    status = {}
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] in ("OK", "FAIL", "SKIP"):
            status[parts[1]] = parts[0]
    return code, out, status


def test_all_ok_and_touches_nothing(tmp_path, capsys, platform, printer, encoder):
    path = write_config(tmp_path, platform.url, printer=printer, encoder=encoder,
                        extra='[gpio]\nboard = "sim"\npin_factory = "mock"\n')
    code, out, status = doctor(capsys, path)
    assert code == 0, out
    assert status == {"config": "OK", "state": "OK", "clock": "OK", "platform": "OK", "sign-in": "OK",
                      "websocket": "OK", "printer": "OK", "encoder": "OK", "display": "SKIP", "gpio": "OK",
                      "software": "OK"}
    assert TOKEN not in out
    # status queries only: no paper, no key
    assert printer.receipts == [] and printer.wait_receipts(1, timeout=0.3) is False
    assert encoder.keys == [] and encoder.checkouts == []
    assert platform.request_count("app/signIn") >= 1


def test_print_test_prints_one_receipt(tmp_path, capsys, platform, printer):
    path = write_config(tmp_path, platform.url, printer=printer)
    code, out, status = doctor(capsys, path, "--print-test")
    assert code == 0 and status["print-test"] == "OK", out
    assert printer.wait_receipts(1, timeout=10)
    assert len(printer.receipts) == 1


def test_read_card_reads_without_encoding(tmp_path, capsys, platform, encoder):
    path = write_config(tmp_path, platform.url, encoder=encoder)
    code, out, status = doctor(capsys, path, "--read-card")
    assert code == 0 and status["read-card"] == "OK", out
    assert "blank (no key on it)" in out
    assert encoder.keys == [] and encoder.stats  # it talked to the encoder, issued nothing


def test_read_card_shows_the_rooms_and_validity_of_a_programmed_card(tmp_path, capsys, platform, encoder):
    from hal.encoder.protocol import F_UNTIL, KEY_FIELDS

    fields = [""] * KEY_FIELDS
    fields[3], fields[4], fields[F_UNTIL] = "201", "202", "1100241126"  # hhmmDDMMYY
    encoder.keys.append({"fields": fields})  # as if a key had been cut on this card
    path = write_config(tmp_path, platform.url, encoder=encoder)
    code, out, status = doctor(capsys, path, "--read-card")
    assert code == 0 and "card for room(s) 201, 202, valid until 2026-11-24 11:00" in out, out


def test_printer_paper_out_fails_with_a_fix(tmp_path, capsys, platform, printer):
    printer.set_state(paper_out=True)
    path = write_config(tmp_path, platform.url, printer=printer)
    code, out, status = doctor(capsys, path, "--print-test")
    assert code == 1 and status["printer"] == "FAIL"
    assert "load a new roll" in out
    assert status["print-test"] == "SKIP" and printer.receipts == []


def test_printer_unplugged(tmp_path, capsys, platform):
    path = write_config(tmp_path, platform.url, extra='[printer]\nport = "/dev/kiosk-no-such-tty"\n')
    code, out, status = doctor(capsys, path)
    assert code == 1 and status["printer"] == "FAIL" and "printer.port (/dev/kiosk-no-such-tty)" in out


def test_encoder_silent_or_refusing(tmp_path, capsys, platform, encoder):
    path = write_config(tmp_path, platform.url, encoder=encoder)
    encoder.nak_next_enq(5)
    code, out, status = doctor(capsys, path)
    assert code == 1 and status["encoder"] == "FAIL" and "NAK" in out
    encoder.mute()
    code, out, status = doctor(capsys, path, "--read-card")
    assert status["encoder"] == "FAIL" and "no answer to ENQ" in out
    assert status["read-card"] == "SKIP"


def test_wrong_token_fails_sign_in_without_printing_it(tmp_path, capsys, platform):
    wrong = "0000AAAA1111BBBB2222CCCC3333DDDD-EEEE4444FFFF5555"
    code, out, status = doctor(capsys, write_config(tmp_path, platform.url, token=wrong))
    assert code == 1 and status["platform"] == "OK" and status["sign-in"] == "FAIL"
    assert "mews.connector_token" in out and wrong not in out
    assert status["websocket"] == "SKIP"
    assert "FAIL sign-in    Mews refused the connector token: check mews.connector_token" in out


def test_wrong_token_without_sign_in_is_token_rejected(tmp_path, capsys, platform):
    wrong = "0000AAAA1111BBBB2222CCCC3333DDDD-EEEE4444FFFF5555"
    code, out, status = doctor(capsys, _no_sign_in(write_config(tmp_path, platform.url, token=wrong)))
    assert code == 1 and status["sign-in"] == "FAIL"
    assert "Mews refused the connector token: check mews.connector_token" in out and wrong not in out


def _no_sign_in(path):
    from pathlib import Path

    p = Path(path)
    p.write_text(p.read_text().replace("timeout = 5.0\n", "timeout = 5.0\nsign_in = false\n"))
    return path


def test_platform_unreachable(tmp_path, capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, status = doctor(capsys, write_config(tmp_path, f"http://127.0.0.1:{port}"))
    assert code == 1 and status["platform"] == "FAIL" and status["sign-in"] == "SKIP"
    assert "not reachable" in out and "mews.platform_address" in out


def test_websocket_refused_and_poll_mode(tmp_path, capsys, platform):
    ws = platform.url.replace("http://", "ws://") + "/elsewhere"
    path = write_config(tmp_path, platform.url)
    text = open(path).read().replace("timeout = 5.0", f'timeout = 5.0\nwebsocket_address = "{ws}"')
    open(path, "w").write(text)
    code, out, status = doctor(capsys, path)
    assert code == 1 and status["websocket"] == "FAIL" and "handshake refused" in out
    open(path, "w").write(text.replace(f'websocket_address = "{ws}"', 'mode = "poll"'))
    code, out, status = doctor(capsys, path)
    assert code == 0 and status["websocket"] == "SKIP"


def test_bad_config_is_one_fail_line(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text('[mews]\nplatform_address = "https://x"\ngeneration = "seed"\nconnector_token = "t"\nmode = "socket"\n')
    code, out, status = doctor(capsys, str(path))
    assert code == 1 and status == {"config": "FAIL"}
    assert 'mews.mode: expected "websocket" or "poll"' in out


def test_state_and_clock_checks(tmp_path):
    from agent import config as config_mod
    from agent.doctor import host

    cfg = config_mod.parse(f'[mews]\nplatform_address = "https://x"\ngeneration = "seed"\nconnector_token = "t"\n'
                           f'[agent]\nstate_dir = "{tmp_path / "missing"}"\n', str(tmp_path / "c.toml"))
    assert "run will create it" in host.check_state_dir(cfg).detail  # issue 13: not a FAIL
    (tmp_path / "missing").mkdir()
    assert host.check_state_dir(cfg).status == "OK"
    assert host.check_clock(now=0).status == "FAIL"  # 1970: clock not set
    assert "clock not set" in host.check_clock(now=0).detail
    assert host.check_clock(now=1_750_000_000).status == "OK"


class FakeBus:
    """Stands in for smbus2.SMBus: nothing real can here (no I2C on the test machine)."""

    def __init__(self, present: set[int]):
        self.present, self.reads = present, []

    def read_byte(self, address):
        self.reads.append(address)
        if address not in self.present:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        return 0x43

    def close(self):
        pass


def test_display_address_probe():
    from agent import config as config_mod
    from agent.doctor import panel as devices

    cfg = config_mod.parse('[mews]\nplatform_address = "https://x"\ngeneration = "seed"\nconnector_token = "t"\n'
                           '[display]\ndriver = "ssd1306"\naddress = 0x3D\n')
    bus = FakeBus({0x3D})
    assert devices.check_display(cfg, open_bus=lambda port: bus).status == "OK"
    assert bus.reads == [0x3D]
    missing = devices.check_display(cfg, open_bus=lambda port: FakeBus({0x3C}))
    assert missing.status == "FAIL" and "0x3D" in missing.detail and "i2cdetect" in missing.fix

    def no_bus(port):
        raise FileNotFoundError(f"/dev/i2c-{port}")

    assert "dtparam=i2c_arm=on" in devices.check_display(cfg, open_bus=no_bus).fix
    png = config_mod.parse('[mews]\nplatform_address = "https://x"\ngeneration = "seed"\nconnector_token = "t"\n'
                           '[display]\ndriver = "png"\n')
    assert devices.check_display(png).status == "SKIP"


def test_gpio_pins(tmp_path):
    from agent import config as config_mod
    from agent.doctor import panel as devices

    base = '[mews]\nplatform_address = "https://x"\ngeneration = "seed"\nconnector_token = "t"\n[gpio]\nboard = "pi-4b"\n' \
           'pin_factory = "mock"\n'
    ok = devices.check_gpio(config_mod.parse(base))
    assert ok.status == "OK" and "pi-4b" in ok.detail
    clash = devices.check_gpio(config_mod.parse(base + "red_led = 17\n"))  # green_led is 17 too
    assert clash.status == "FAIL"
    assert devices.check_gpio(config_mod.parse(base.split("[gpio]")[0])).status == "SKIP"


def test_gpio_held_by_the_running_agent_is_a_skip(tmp_path):
    from gpiozero import LED
    from gpiozero.pins.mock import MockFactory

    from agent import config as config_mod
    from agent.doctor import host
    from agent.doctor import panel as devices
    from agent.runtime.health import Health

    cfg = config_mod.parse(f'[mews]\nplatform_address = "https://x"\ngeneration = "seed"\nconnector_token = "t"\n'
                           f'[agent]\nstate_dir = "{tmp_path}"\n[gpio]\nboard = "pi-4b"\npin_factory = "mock"\n',
                           str(tmp_path / "c.toml"))
    factory = MockFactory()
    held = LED(17, pin_factory=factory)  # the agent's green LED
    try:
        busy = devices.check_gpio(cfg, pin_factory=factory)
        assert busy.status == "FAIL" and "holds these pins" in busy.fix
        assert not host.agent_running(cfg)
        Health(updated_at=1000.0).write(tmp_path / "health.json")
        assert host.agent_running(cfg, now=1010.0) and not host.agent_running(cfg, now=1100.0)
        assert devices.check_gpio(cfg, pin_factory=factory, agent_running=True).status == "SKIP"
    finally:
        held.close()
