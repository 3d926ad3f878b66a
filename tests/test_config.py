import pytest

from agent import config

GOOD = """
[mews]
platform_address = "https://api.mews-demo.com"
generation = "seed"
connector_token = "TOKEN-SECRET-123"
client_token = "CLIENT-SECRET-456"
[agent]
state_dir = "state"
"""


def test_good_config_parses_with_defaults(tmp_path):
    p = tmp_path / "config.toml"
    p.write_text(GOOD)
    cfg = config.load(str(p))
    assert cfg.mews.mode == "websocket"
    assert cfg.mews.ws_base == "wss://api.mews-demo.com"
    assert cfg.agent.state_dir == str(tmp_path / "state")  # relative to the config's folder
    assert cfg.printer is None and cfg.display.driver == "none"


def test_secrets_redacted_in_repr():
    cfg = config.parse(GOOD)
    text = repr(cfg)
    assert "TOKEN-SECRET-123" not in text and "CLIENT-SECRET-456" not in text
    assert set(cfg.secrets()) == {"TOKEN-SECRET-123", "CLIENT-SECRET-456"}


@pytest.mark.parametrize("snippet, message", [
    ('mode = "socket"', 'config.toml: mews.mode: expected "websocket" or "poll", got "socket"'),
    ('poll_intervall = 3', "config.toml: mews.poll_intervall: unknown key"),
    ('timeout = "fast"', "config.toml: mews.timeout: expected a number"),
    ('sign_in = "yes"', "config.toml: mews.sign_in: expected true or false"),
])
def test_errors_name_file_and_key(snippet, message):
    with pytest.raises(config.ConfigError) as e:
        config.parse(GOOD.replace("[agent]", snippet + "\n[agent]"))
    assert str(e.value).startswith(message)


def test_missing_required_and_unknown_table():
    with pytest.raises(config.ConfigError, match="mews.connector_token: required"):
        config.parse('[mews]\nplatform_address = "https://x"\ngeneration = "seed"\n')
    with pytest.raises(config.ConfigError, match="printr: unknown table"):
        config.parse(GOOD + "\n[printr]\n")


def test_secret_value_never_in_error():
    with pytest.raises(config.ConfigError) as e:
        config.parse(GOOD.replace('connector_token = "TOKEN-SECRET-123"', "connector_token = 12345678"))
    assert "12345678" not in str(e.value)


def test_bad_timezone_and_address():
    with pytest.raises(config.ConfigError, match="agent.timezone"):
        config.parse(GOOD + 'timezone = "Mars/Olympus"\n')
    with pytest.raises(config.ConfigError, match="mews.platform_address"):
        config.parse(GOOD.replace("https://api.mews-demo.com", "ftp://x"))


def test_websocket_address_explicit():
    cfg = config.parse(GOOD.replace("[agent]", 'websocket_address = "wss://ws.mews-demo.com/"\n[agent]'))
    assert cfg.mews.ws_base == "wss://ws.mews-demo.com"


def test_config_precedence_flag_then_env_then_default(monkeypatch, tmp_path):
    monkeypatch.setenv("KIOSK_AGENT_CONFIG", str(tmp_path / "env.toml"))
    assert config.resolve_path("flag.toml") == "flag.toml"
    # the environment wins over the default, even when the default file exists
    monkeypatch.setattr(config.loader, "DEFAULT_CONFIG", str(tmp_path / "default.toml"))
    (tmp_path / "default.toml").write_text("")
    assert config.resolve_path(None) == str(tmp_path / "env.toml")
    monkeypatch.delenv("KIOSK_AGENT_CONFIG")
    assert config.resolve_path(None) == str(tmp_path / "default.toml")


def test_missing_files_named_by_key_and_path(tmp_path):
    p = tmp_path / "site.toml"
    p.write_text(GOOD.replace("[agent]", 'ca_file = "certs/ca.pem"\n[agent]')
                 + '[kiosk]\nlogo = "logo.png"\n')
    with pytest.raises(config.ConfigError) as e:
        config.load(str(p))
    lines = str(e.value).splitlines()
    assert f"site.toml: mews.ca_file: file not found: {tmp_path / 'certs/ca.pem'}" in lines
    assert f"site.toml: kiosk.logo: file not found: {tmp_path / 'logo.png'}" in lines
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs/ca.pem").write_text("pem")
    (tmp_path / "logo.png").write_bytes(b"png")
    cfg = config.load(str(p))
    assert cfg.mews.ca_file == str(tmp_path / "certs/ca.pem")


def test_several_mistakes_listed_one_per_line():
    text = GOOD.replace("[agent]", 'mode = "socket"\npoll_intervall = 3\n[agent]\nlog_level = "loud"')
    with pytest.raises(config.ConfigError) as e:
        config.parse(text)
    lines = str(e.value).splitlines()
    assert lines[0] == 'config.toml: mews.mode: expected "websocket" or "poll", got "socket"'
    assert lines[1].startswith("config.toml: mews.poll_intervall: unknown key")
    assert lines[2].startswith("config.toml: agent.log_level: expected one of")
    assert [err.key for err in e.value.errors] == ["mews.mode", "mews.poll_intervall", "agent.log_level"]
    # the first problem stays reachable the old way
    assert e.value.key == "mews.mode" and e.value.file == "config.toml"


def test_cross_checks_all_reported():
    text = GOOD.replace("https://api.mews-demo.com", "ftp://x").replace(
        'state_dir = "state"', 'timezone = "Mars/Olympus"')
    with pytest.raises(config.ConfigError) as e:
        config.parse(text)
    assert [err.key for err in e.value.errors] == ["mews.platform_address", "agent.timezone"]


def test_log_level_case_insensitive():
    assert config.parse(GOOD + 'log_level = "DEBUG"\n').agent.log_level == "debug"


def test_quoted_number_explained():
    with pytest.raises(config.ConfigError) as e:
        config.parse(GOOD + '[display]\naddress = "0x3C"\n')
    assert str(e.value) == ('config.toml: display.address: expected a number, got the string "0x3C": '
                            'write it without quotes (address = 0x3C)')
    assert config.parse(GOOD + "[display]\naddress = 0x3D\n").display.address == 0x3D


@pytest.mark.parametrize("table", ["printer", "encoder"])
@pytest.mark.parametrize("port, word", [
    ("ttyUSB0", "did you mean /dev/ttyUSB0?"), ("dev/ttyUSB0", "did you mean /dev/ttyUSB0?"),
    ("COM3", "neither an absolute device path nor a pyserial URL"), ("", "is empty"),
    ("sokcet://10.0.0.2:9100", 'unknown pyserial URL scheme "sokcet://"'),
    ("socket://10.0.0.2", "expected socket://HOST:PORT"), ("/dev/ttyUSB0 ", "spaces"),
])
def test_port_typos_are_config_errors(table, port, word):
    with pytest.raises(config.ConfigError) as e:
        config.parse(GOOD + f'[{table}]\nport = "{port}"\n')
    assert str(e.value).startswith(f"config.toml: {table}.port: ") and word in str(e.value)


@pytest.mark.parametrize("port", ["/dev/kiosk-unplugged-usb-printer", "/dev/serial/by-id/usb-X-if00", "/dev/pts/7",
                                  "socket://192.168.1.50:9100", "rfc2217://host:2217", "loop://", "spy://loop://",
                                  "hwgrep://0403:6001"])
def test_unplugged_devices_and_pyserial_urls_are_valid(port):
    cfg = config.parse(GOOD + f'[printer]\nport = "{port}"\n[encoder]\nport = "{port}"\n')
    assert cfg.printer.port == port and cfg.encoder.port == port


def test_todays_generation_names_each_missing_token_and_the_file():
    """Issue 22 item 3: today's platform hands out a ClientToken and an AccessToken, both required."""
    with pytest.raises(config.ConfigError) as e:
        config.parse('[mews]\nplatform_address = "https://x"\n', "/etc/kiosk-agent/site.toml")
    lines = str(e.value).splitlines()
    assert 'site.toml: mews.client_token: required with mews.generation = "current" (missing or empty)' in lines
    assert 'site.toml: mews.access_token: required with mews.generation = "current" (missing or empty)' in lines
    cfg = config.parse('[mews]\nplatform_address = "https://x"\nclient_token = "C"\naccess_token = "A"\n')
    assert cfg.mews.generation == "current" and cfg.mews.token == "A" and not cfg.mews.signs_in
    with pytest.raises(config.ConfigError, match='mews.reservations_version: "2017-04-12" was discontinued'):
        config.parse('[mews]\nplatform_address = "https://x"\nclient_token = "C"\naccess_token = "A"\n'
                     'reservations_version = "2017-04-12"\n')
