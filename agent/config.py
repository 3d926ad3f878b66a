"""TOML configuration -> typed, validated dataclasses.

Every error names the file, the key and what is wrong, e.g.
``config.toml: mews.mode: expected "websocket" or "poll", got "socket"``.
Unknown keys are errors too: a typo must not silently disable a feature.
Secret values are redacted from ``repr`` and from every message.
"""

from __future__ import annotations

import os
import tomllib
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

from agent.config_checks import validate_cross
from agent.config_errors import ConfigError
from agent.serial_port import port_problem

DEFAULT_CONFIG = "/etc/kiosk-agent/config.toml"
REDACTED = "***"


def _opt(default, *, choices=None, secret=False, path=False, file=False, minimum=None, required=False,
         fold_case=False, port=False, doc=""):
    """A config field with validation metadata.

    ``path``: resolved relative to the config's folder; ``file``: a path that must name an
    existing file at load; ``fold_case``: the value is compared and kept in lower case;
    ``port``: a serial device path or pyserial URL (see agent.serial_port for what a typo is).
    """
    meta = {"choices": choices, "secret": secret, "path": path or file, "file": file, "minimum": minimum,
            "required": required, "fold_case": fold_case, "port": port, "doc": doc}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


class _Section:
    """Mixin: secrets never appear in repr."""

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("secret") and value:
                value = REDACTED
            parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class MewsConfig(_Section):
    platform_address: str = _opt("", required=True)
    websocket_address: str = _opt("")
    generation: str = _opt("current", choices=("current", "seed"),
                           doc="current: today's published Connector API; seed: the spec documents' forms")
    client_token: str = _opt("", secret=True, doc="ClientToken (the integration's); required with generation current")
    access_token: str = _opt("", secret=True, doc="AccessToken (the property's); required with generation current")
    connector_token: str = _opt("", secret=True, doc="seed generation: signIn ConnectorToken (or the AccessToken "
                                                     "when sign_in = false)")
    client_name: str = _opt("kiosk-agent")
    sign_in: bool = _opt(True, doc="seed generation only: signIn session management")
    mode: str = _opt("websocket", choices=("websocket", "poll"))
    poll_interval: float = _opt(5.0, minimum=0.05)
    timeout: float = _opt(15.0, minimum=0.1)
    websocket_auth: str = _opt("both", choices=("query", "cookie", "both"))
    tls_verify: bool = _opt(True, doc="false disables TLS certificate checks (never in production)")
    ca_file: str = _opt("", file=True, doc="extra CA bundle (PEM) for a private platform")
    reservations_version: str = _opt("2023-06-06", choices=("2023-06-06", "2017-04-12"),
                                     doc="reservations/getAll form: 2023-06-06 (current) or 2017-04-12 (older)")
    external_payment_type: str = _opt("", doc='current generation: Type of payments/addExternal for card '
                                               'payments ("" = not sent: Unspecified)')

    @property
    def current(self) -> bool:
        """Today's published Connector API (ClientToken + AccessToken, no signIn)."""
        return self.generation == "current"

    @property
    def signs_in(self) -> bool:
        """``app/signIn`` session management: the seed generation's, when ``sign_in`` is on."""
        return self.generation == "seed" and self.sign_in

    @property
    def token(self) -> str:
        """The token a request starts with: the AccessToken today, the connector token in the seed generation."""
        return self.access_token if self.current else self.connector_token

    @property
    def ws_base(self) -> str:
        """Websocket base address: configured, or derived (http->ws, https->wss)."""
        if self.websocket_address:
            return self.websocket_address.rstrip("/")
        base = self.platform_address.rstrip("/")
        if base.startswith("https://"):
            return "wss://" + base[len("https://"):]
        if base.startswith("http://"):
            return "ws://" + base[len("http://"):]
        return base


@dataclass(frozen=True, repr=False)
class AgentConfig(_Section):
    state_dir: str = _opt("/var/lib/kiosk-agent", path=True)
    timezone: str = _opt("Europe/London")
    log_level: str = _opt("info", choices=("debug", "info", "warning", "error"), fold_case=True)
    device_timeout: float = _opt(600.0, minimum=0.0,
                                 doc="seconds a retryable device error may last before the command ends in Error")
    log_device_types: list = _opt([], doc="device types served by the built-in log handler (demo, tests)")
    log_step_delay: float = _opt(0.0, minimum=0.0, doc="seconds the log handler spends per copy/key (demo, tests)")


@dataclass(frozen=True, repr=False)
class PrinterConfig(_Section):
    port: str = _opt("/dev/serial0", port="printer",
                     doc="serial device, pty, pyserial URL, tcp://HOST:PORT or a USB printer path (/dev/usb/lp0)")
    baudrate: int = _opt(19200, minimum=1)
    flow_control: str = _opt("none", choices=("rtscts", "xonxoff", "none"))
    width_dots: int = _opt(384, choices=(384, 576))
    device: str = _opt("")
    cut: str = _opt("partial", choices=("partial", "full", "none"))
    max_pages: int = _opt(20, minimum=1)
    max_length_mm: float = _opt(2000.0, minimum=1.0)
    band_height: int = _opt(24, minimum=1)
    row_time_ms: float = _opt(2.5, minimum=0.0, doc="print time per dot row, for pacing without flow control")
    write_timeout: float = _opt(10.0, minimum=0.1)
    heat_dots: int = _opt(0, minimum=0, doc="ESC 7 n1 (0 = leave printer defaults)")
    heat_time: int = _opt(0, minimum=0)
    heat_interval: int = _opt(0, minimum=0)
    status_query: bool = _opt(True, doc="false for printers that ignore DLE EOT (paper out then goes unnoticed)")
    status_interval: float = _opt(60.0, minimum=1.0, doc="seconds between paper/status checks while idle")
    status_timeout: float = _opt(1.0, minimum=0.05, doc="seconds to wait for each DLE EOT answer")
    presenter: str = _opt("none", choices=("none", "wait", "retract"),
                          doc="printers with a presenter (Custom): a receipt not taken makes the next job wait or "
                              "retract it")


@dataclass(frozen=True, repr=False)
class EncoderConfig(_Section):
    port: str = _opt("/dev/ttyUSB0", port=True, doc="serial device, pty or socket://host:port (pyserial URL)")
    baudrate: int = _opt(9600, minimum=1)
    encoder_id: str = _opt("Encoder 1", doc="field 1 of CN/CC")
    eject: str = _opt("E", choices=("E", "R", "T"), doc="E eject, R retain, T rear")
    operator: str = _opt("Kiosk", doc="operator field (24 characters at most)")
    device: str = _opt("", doc='Mews Device Id or Name served; "" = every key-cutter command')
    reply_timeout: float = _opt(30.0, minimum=0.1, doc="seconds for the guest to present a card")


@dataclass(frozen=True, repr=False)
class DisplayConfig(_Section):
    driver: str = _opt("none", choices=("ssd1306", "sh1106", "png", "none"))
    i2c_port: int = _opt(1, minimum=0)
    address: int = _opt(0x3C, minimum=0)
    dim_after: float = _opt(300.0, minimum=0.0, doc="seconds idle before the display dims")
    rotate: int = _opt(0, choices=(0, 1, 2, 3))
    frames_dir: str = _opt("", path=True, doc="png driver: also keep every distinct frame here (demo)")


@dataclass(frozen=True, repr=False)
class GpioConfig(_Section):
    board: str = _opt("auto", doc='a boards/*.toml name, or "auto" (from /proc/device-tree/model)')
    pin_factory: str = _opt("", choices=("", "mock", "lgpio", "rpigpio", "pigpio", "native"),
                            doc='gpiozero pin factory override; "" = the board\'s')
    green_led: int = _opt(-1, minimum=-1, doc="-1 = the board profile's pin")
    red_led: int = _opt(-1, minimum=-1)
    buzzer: int = _opt(-1, minimum=-1)
    button_a: int = _opt(-1, minimum=-1)
    button_b: int = _opt(-1, minimum=-1)


@dataclass(frozen=True, repr=False)
class PosConfig(_Section):
    instance: str = _opt("", required=True)
    api_key: str = _opt("", required=True, secret=True)
    shards: list = _opt(["exon", "cyton", "zeus"])
    url_template: str = _opt("wss://shard-{shard}.ws.concertpos.com/{instance}")
    pos_id: int = _opt(1, minimum=0)
    timeout: float = _opt(10.0, minimum=0.1)
    pos_password: str = _opt("", secret=True, doc="posPassword of a password-protected point of sale")
    heartbeat_interval: float = _opt(60.0, minimum=3.0, doc="seconds between registerdevice pings (+10/100 per 30 s)")


@dataclass(frozen=True, repr=False)
class EventsConfig(_Section):
    forward_url: str = _opt("")
    log_max_bytes: int = _opt(5_000_000, minimum=1024)


@dataclass(frozen=True, repr=False)
class KioskConfig(_Section):
    """The guest self-service kiosk (check-in/check-out flows, their JSON API and UI)."""

    enabled: bool = _opt(False)
    listen: str = _opt("127.0.0.1:8765", doc="host:port of the kiosk API and UI; loopback unless set explicitly")
    screen_token: str = _opt("", secret=True, doc="secret the kiosk screen presents on every API call; "
                                                  "required when listen is not a loopback address")
    checkin_from: str = _opt("14:00", doc="hotel-local time from which today's arrivals may check in")
    max_keys: int = _opt(2, minimum=1, doc="keys a guest may take (at most the adult count)")
    common_areas: list = _opt([], doc="lock ids granted besides the room (gym, parking)")
    logo: str = _opt("", file=True, doc="PNG printed at the top of the welcome slip")
    brand_colours: list = _opt([], doc='two "#rrggbb": the buttons\' colour (white text on it) and the header\'s '
                                       "(dark text on it); each must reach WCAG AA contrast (4.5:1)")
    hotel_name: str = _opt("", doc="name on slips and the screen; empty = the enterprise's name")
    floors: list = _opt([], doc='room prefix = floor text, e.g. ["2=2nd floor"]; empty = the room\'s name')
    slip_lines: list = _opt([], doc="lines printed on the welcome slip (Wi-Fi, breakfast)")
    slip_qr_url: str = _opt("", doc="optional URL printed as a QR code on the welcome slip")
    void_key_on_checkout: bool = _opt(False, doc="check-out voids the key card (CO) when the guest inserts it")
    checkout_by_room: bool = _opt(False, doc="check-out by room number + last name (weaker: anyone who knows "
                                             "a guest's room and surname can check them out); default: the key "
                                             "card or the confirmation number + last name")
    idle_timeout: float = _opt(60.0, minimum=5.0, doc="seconds without input before the countdown to reset")
    task_deadline: float = _opt(15.0, minimum=1.0, doc="minutes: DeadlineUtc of staff tasks the kiosk raises")
    ask_passport: bool = _opt(False, doc="ask for passport number and expiry on check-in")
    preauthorization: str = _opt("off", choices=("off", "per_night", "per_stay"),
                                 doc="hold an amount for incidentals on the guest's card at check-in (adyen)")
    preauthorization_amount: float = _opt(0.0, minimum=0.0, doc="the amount held per night or per stay")
    languages: list = _opt(["en", "de", "fr", "es", "it", "cs", "nl"])
    default_language: str = _opt("en")
    documents: str = _opt("none", choices=("none", "foreign", "all"),
                          doc='ask for an identity document after the booking is found: "foreign" = guests whose '
                              'nationality differs from hotel_country')
    hotel_country: str = _opt("", doc="ISO 3166-1 alpha-2 code of the hotel's country (for documents = foreign)")


@dataclass(frozen=True, repr=False)
class PaymentConfig(_Section):
    """A payment terminal for balances due at the kiosk; absent = settled at reception."""

    driver: str = _opt("sim", choices=("sim", "adyen"), doc="sim: the simulated terminal; adyen: Adyen Terminal API")
    address: str = _opt("127.0.0.1:8790", doc="host:port of the terminal (adyen: host, port 8443 when not given)")
    timeout: float = _opt(90.0, minimum=1.0, doc="seconds a charge may take (the guest follows the terminal)")
    # adyen: the terminal's POIID ([model]-[serial]) and the shared key set on it in Adyen's customer area
    poi_id: str = _opt("", doc="adyen: the terminal's POIID, e.g. P400Plus-275000001 (its certificate's name)")
    key_identifier: str = _opt("", doc="adyen: the key identifier set on the terminal")
    key_version: int = _opt(1, minimum=0, doc="adyen: the key version set on the terminal")
    key_passphrase: str = _opt("", secret=True, doc="adyen: the key passphrase set on the terminal")
    ca_file: str = _opt("", file=True, doc="adyen: the terminal's certificate chain (Adyen's root, PEM)")
    mews_device: str = _opt("", doc='Mews PaymentTerminal Device Id or Name whose commands this terminal takes; '
                                     '"" = none')


@dataclass(frozen=True, repr=False)
class FleetConfig(_Section):
    """Fleet monitoring and updates (issue 29): metrics, journal upload, the update server."""

    metrics: bool = _opt(False, doc="write Prometheus metrics for node_exporter's textfile collector")
    metrics_textfile: str = _opt("/var/lib/prometheus/node-exporter/kiosk_agent.prom", path=True,
                                 doc="the .prom file node_exporter's --collector.textfile.directory reads")
    metrics_interval: float = _opt(15.0, minimum=1.0, doc="seconds between two writes of the metrics file")
    journal_upload_url: str = _opt("", doc="systemd-journal-remote to upload the journal to (https://host:19532)")
    client_cert: str = _opt("", file=True, doc="PEM certificate this unit presents (journal upload, mutual TLS)")
    client_key: str = _opt("", file=True, doc="PEM private key of client_cert")
    ca_file: str = _opt("", file=True, doc="PEM CA the journal-remote server's certificate must chain to")
    update_url: str = _opt("", doc="where the unit fetches RAUC bundles (https://...); empty = no automatic updates")
    update_health_timeout: float = _opt(300.0, minimum=1.0, doc="seconds a new slot's agent has to reach READY "
                                        "and online before the health gate rolls it back")


@dataclass(frozen=True, repr=False)
class ReaderConfig(_Section):
    """A document reader: MRZ text and booking QR codes over serial/USB-CDC, or a keyboard wedge via evdev."""

    port: str = _opt("/dev/ttyACM0", doc="tty, pyserial URL, or evdev:/dev/input/by-id/... (keyboard wedge)")
    baudrate: int = _opt(9600, minimum=1)
    framing: str = _opt("auto", choices=("auto", "cr", "stx"),
                        doc="cr: lines ended by CR; stx: STX ... ETX around CR-separated lines; auto: either")
    gap: float = _opt(0.25, minimum=0.01, doc="seconds of silence that end a CR-framed scan")
    timeout: float = _opt(60.0, minimum=1.0, doc="seconds the guest has to present a document")
    device: str = _opt("", doc='Mews Device Id or Name served; "" = every PassportScanner command')


@dataclass(frozen=True)
class Config:
    """The whole agent configuration; optional device tables are None when absent."""

    path: str
    mews: MewsConfig
    agent: AgentConfig
    printer: PrinterConfig | None = None
    encoder: EncoderConfig | None = None
    display: DisplayConfig = field(default_factory=DisplayConfig)
    gpio: GpioConfig | None = None
    pos: PosConfig | None = None
    events: EventsConfig = field(default_factory=EventsConfig)
    kiosk: KioskConfig = field(default_factory=KioskConfig)
    payment: PaymentConfig | None = None
    fleet: FleetConfig = field(default_factory=FleetConfig)
    reader: ReaderConfig | None = None

    @property
    def state_dir(self) -> Path:
        return Path(self.agent.state_dir)

    def secrets(self) -> list[str]:
        """Every secret value in this config, for log redaction."""
        out = []
        for section in (self.mews, self.agent, self.printer, self.encoder, self.display,
                        self.gpio, self.pos, self.events, self.kiosk, self.payment, self.reader):
            if section is None:
                continue
            for f in fields(section):
                value = getattr(section, f.name)
                if f.metadata.get("secret") and value:
                    out.append(value)
        return out


SECTIONS: dict[str, type] = {
    "mews": MewsConfig,
    "agent": AgentConfig,
    "printer": PrinterConfig,
    "encoder": EncoderConfig,
    "display": DisplayConfig,
    "gpio": GpioConfig,
    "pos": PosConfig,
    "events": EventsConfig,
    "kiosk": KioskConfig,
    "payment": PaymentConfig,
    "fleet": FleetConfig,
    "reader": ReaderConfig,
}
REQUIRED_SECTIONS = ("mews",)


def _describe(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _quoted_number(value) -> bool:
    """True for a string that TOML would take as a number without its quotes ("0x3C", "5")."""
    if not isinstance(value, str):
        return False
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return False
    return isinstance(parsed, (int, float)) and not isinstance(parsed, bool)


def _check_value(fname: str, key: str, f, expected, value, base: Path):
    meta = f.metadata
    shown = REDACTED if meta.get("secret") else None
    origin = typing.get_origin(expected) or expected
    if origin in (int, float) and _quoted_number(value) and not shown:
        raise ConfigError(fname, key, f"expected a number, got the string {_describe(value)}: "
                                      f"write it without quotes ({key.split('.')[-1]} = {value.strip()})")
    if origin is bool:
        if not isinstance(value, bool):
            raise ConfigError(fname, key, f"expected true or false, got {shown or _describe(value)}")
    elif origin is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(fname, key, f"expected an integer, got {shown or _describe(value)}")
    elif origin is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(fname, key, f"expected a number, got {shown or _describe(value)}")
        value = float(value)
    elif origin is str:
        if not isinstance(value, str):
            raise ConfigError(fname, key, f"expected a string, got {shown or _describe(value)}")
    elif origin is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(fname, key, f"expected a list of strings, got {shown or _describe(value)}")
    if meta.get("fold_case"):
        value = value.lower()
    choices = meta.get("choices")
    if choices and value not in choices:
        if len(choices) == 2:
            allowed = f"{_describe(choices[0])} or {_describe(choices[1])}"
        else:
            allowed = "one of " + ", ".join(_describe(c) for c in choices)
        raise ConfigError(fname, key, f"expected {allowed}, got {shown or _describe(value)}")
    if meta.get("port") and (problem := port_problem(value, tcp=meta["port"] == "printer")):
        raise ConfigError(fname, key, problem)
    minimum = meta.get("minimum")
    if minimum is not None and value < minimum:
        raise ConfigError(fname, key, f"must be at least {minimum}, got {_describe(value)}")
    if meta.get("path") and value:
        p = Path(value).expanduser()
        if not p.is_absolute():
            p = base / p
        if meta.get("file") and not p.is_file():
            problem = "is a folder, expected a file" if p.is_dir() else "file not found"
            raise ConfigError(fname, key, f"{problem}: {p}")
        value = str(p)
    return value


def _build_section(cls, table, section: str, fname: str, base: Path, errors: list[ConfigError]):
    """The section built from its table; problems are appended to ``errors`` (None if any)."""
    if not isinstance(table, dict):
        errors.append(ConfigError(fname, section, "expected a table ([" + section + "])"))
        return None
    known = {f.name: f for f in fields(cls)}
    hints = typing.get_type_hints(cls)
    values = {}
    before = len(errors)
    for key, value in table.items():
        if key not in known:
            hint = ""
            close = [k for k in known if k.replace("_", "") == key.replace("_", "").lower()
                     or k.startswith(key[:4])]
            if close:
                hint = f" (did you mean {close[0]}?)"
            errors.append(ConfigError(fname, f"{section}.{key}",
                                      f"unknown key{hint}; known keys: {', '.join(known)}"))
            continue
        try:
            values[key] = _check_value(fname, f"{section}.{key}", known[key], hints[key], value, base)
        except ConfigError as e:
            errors.append(e)
    for name, f in known.items():
        if f.metadata.get("required") and not table.get(name):
            errors.append(ConfigError(fname, f"{section}.{name}", "required key is missing or empty"))
    return cls(**values) if len(errors) == before else None


def parse(text: str, path: str = "config.toml") -> Config:
    """Parse TOML text into a validated Config; ``path`` names the file in errors."""
    fname = os.path.basename(path) or path
    base = Path(path).resolve().parent
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(fname, "", f"not valid TOML: {e}") from None
    errors: list[ConfigError] = []
    for name in data:
        if name not in SECTIONS:
            errors.append(ConfigError(fname, name, f"unknown table; known tables: {', '.join(SECTIONS)}"))
    for name in REQUIRED_SECTIONS:
        if name not in data:
            errors.append(ConfigError(fname, name, f"required table [{name}] is missing"))
    built = {name: _build_section(SECTIONS[name], data[name], name, fname, base, errors)
             for name in data if name in SECTIONS}
    if errors:
        raise ConfigError.several(errors)
    built.setdefault("agent", AgentConfig())
    cfg = Config(path=str(Path(path).resolve()), **built)
    errors = validate_cross(cfg, fname)
    if errors:
        raise ConfigError.several(errors)
    return cfg


def resolve_path(explicit: str | None) -> str:
    """--config, else $KIOSK_AGENT_CONFIG, else /etc/kiosk-agent/config.toml."""
    return explicit or os.environ.get("KIOSK_AGENT_CONFIG") or DEFAULT_CONFIG


def load(path: str | None = None) -> Config:
    """Read and validate the config file."""
    path = resolve_path(path)
    fname = os.path.basename(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(fname, "", f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(fname, "", f"cannot read {path}: {e}") from None
    return parse(text, path)
