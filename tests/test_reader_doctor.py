"""`kiosk-agent doctor` checks the document reader: a pty reader opens, an absent one fails naming reader.port."""

from agent import config
from agent.doctor import FAIL, OK, SKIP
from agent.devices.reader.doctor import check_reader
from sim.reader import VirtualReader


def cfg_with(tmp_path, table):
    p = tmp_path / "c.toml"
    p.write_text('[mews]\nplatform_address = "http://127.0.0.1:9"\ngeneration = "seed"\nconnector_token = "t"\n'
                 + table)
    return config.load(str(p))


def test_doctor_reader(tmp_path):
    assert check_reader(cfg_with(tmp_path, "")).status == SKIP
    with VirtualReader() as sim:
        result = check_reader(cfg_with(tmp_path, f'[reader]\nport = "{sim.path}"\n'))
        assert result.status == OK, result
    result = check_reader(cfg_with(tmp_path, f'[reader]\nport = "{tmp_path}/ttyACM7"\n'))
    assert result.status == FAIL and "reader.port" in result.detail + result.fix


def test_reader_port_typos_are_config_errors(tmp_path):
    import pytest

    for port, words in (("ttyACM0", "absolute"), ("evdev:input/event3", "evdev:/dev/input"),
                        ("sokcet://x:1", "scheme")):
        with pytest.raises(config.ConfigError, match=words):
            cfg_with(tmp_path, f'[reader]\nport = "{port}"\n')
    with pytest.raises(config.ConfigError, match="kiosk.hotel_country"):
        cfg_with(tmp_path, '[kiosk]\ndocuments = "foreign"\n')
    with pytest.raises(config.ConfigError, match="kiosk.hotel_country"):
        cfg_with(tmp_path, '[kiosk]\ndocuments = "foreign"\nhotel_country = "DEU"\n')
    assert cfg_with(tmp_path, '[reader]\nport = "evdev:/dev/input/by-id/usb-reader-event-kbd"\n').reader.port
