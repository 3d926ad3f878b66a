"""The unit's own config tables; each device kind declares its table in its package (agent/devices)."""

from __future__ import annotations

from dataclasses import dataclass

from agent.config.fields import Section, opt


@dataclass(frozen=True, repr=False)
class MewsConfig(Section):
    platform_address: str = opt("", required=True)
    websocket_address: str = opt("")
    generation: str = opt("current", choices=("current", "seed"),
                           doc="current: today's published Connector API; seed: the spec documents' forms")
    client_token: str = opt("", secret=True, doc="ClientToken (the integration's); required with generation current")
    access_token: str = opt("", secret=True, doc="AccessToken (the property's); required with generation current")
    connector_token: str = opt("", secret=True, doc="seed generation: signIn ConnectorToken (or the AccessToken "
                                                     "when sign_in = false)")
    client_name: str = opt("kiosk-agent")
    sign_in: bool = opt(True, doc="seed generation only: signIn session management")
    mode: str = opt("websocket", choices=("websocket", "poll"))
    poll_interval: float = opt(5.0, minimum=0.05)
    timeout: float = opt(15.0, minimum=0.1)
    websocket_auth: str = opt("both", choices=("query", "cookie", "both"))
    tls_verify: bool = opt(True, doc="false disables TLS certificate checks (never in production)")
    ca_file: str = opt("", file=True, doc="extra CA bundle (PEM) for a private platform")
    reservations_version: str = opt("2023-06-06", choices=("2023-06-06", "2017-04-12"),
                                     doc="reservations/getAll form: 2023-06-06 (current) or 2017-04-12 (older)")
    external_payment_type: str = opt("", doc='current generation: Type of payments/addExternal for card '
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
class AgentConfig(Section):
    state_dir: str = opt("/var/lib/kiosk-agent", path=True)
    timezone: str = opt("Europe/London")
    log_level: str = opt("info", choices=("debug", "info", "warning", "error"), fold_case=True)
    device_timeout: float = opt(600.0, minimum=0.0,
                                 doc="seconds a retryable device error may last before the command ends in Error")
    log_device_types: list = opt([], doc="device types served by the built-in log handler (demo, tests)")
    log_step_delay: float = opt(0.0, minimum=0.0, doc="seconds the log handler spends per copy/key (demo, tests)")

@dataclass(frozen=True, repr=False)
class DisplayConfig(Section):
    driver: str = opt("none", choices=("ssd1306", "sh1106", "png", "none"))
    i2c_port: int = opt(1, minimum=0)
    address: int = opt(0x3C, minimum=0)
    dim_after: float = opt(300.0, minimum=0.0, doc="seconds idle before the display dims")
    rotate: int = opt(0, choices=(0, 1, 2, 3))
    frames_dir: str = opt("", path=True, doc="png driver: also keep every distinct frame here (demo)")

@dataclass(frozen=True, repr=False)
class GpioConfig(Section):
    board: str = opt("auto", doc='a boards/*.toml name, or "auto" (from /proc/device-tree/model)')
    pin_factory: str = opt("", choices=("", "mock", "lgpio", "rpigpio", "pigpio", "native"),
                            doc='gpiozero pin factory override; "" = the board\'s')
    green_led: int = opt(-1, minimum=-1, doc="-1 = the board profile's pin")
    red_led: int = opt(-1, minimum=-1)
    buzzer: int = opt(-1, minimum=-1)
    button_a: int = opt(-1, minimum=-1)
    button_b: int = opt(-1, minimum=-1)

@dataclass(frozen=True, repr=False)
class PosConfig(Section):
    instance: str = opt("", required=True)
    api_key: str = opt("", required=True, secret=True)
    shards: list = opt(["exon", "cyton", "zeus"])
    url_template: str = opt("wss://shard-{shard}.ws.concertpos.com/{instance}")
    pos_id: int = opt(1, minimum=0)
    timeout: float = opt(10.0, minimum=0.1)
    pos_password: str = opt("", secret=True, doc="posPassword of a password-protected point of sale")
    heartbeat_interval: float = opt(60.0, minimum=3.0, doc="seconds between registerdevice pings (+10/100 per 30 s)")

@dataclass(frozen=True, repr=False)
class EventsConfig(Section):
    forward_url: str = opt("")
    log_max_bytes: int = opt(5_000_000, minimum=1024)

@dataclass(frozen=True, repr=False)
class KioskConfig(Section):
    """The guest self-service kiosk (check-in/check-out flows, their JSON API and UI)."""

    enabled: bool = opt(False)
    listen: str = opt("127.0.0.1:8765", doc="host:port of the kiosk API and UI; loopback unless set explicitly")
    screen_token: str = opt("", secret=True, doc="secret the kiosk screen presents on every API call; "
                                                  "required when listen is not a loopback address")
    checkin_from: str = opt("14:00", doc="hotel-local time from which today's arrivals may check in")
    max_keys: int = opt(2, minimum=1, doc="keys a guest may take (at most the adult count)")
    common_areas: list = opt([], doc="lock ids granted besides the room (gym, parking)")
    logo: str = opt("", file=True, doc="PNG printed at the top of the welcome slip")
    brand_colours: list = opt([], doc='two "#rrggbb": the buttons\' colour (white text on it) and the header\'s '
                                       "(dark text on it); each must reach WCAG AA contrast (4.5:1)")
    hotel_name: str = opt("", doc="name on slips and the screen; empty = the enterprise's name")
    floors: list = opt([], doc='room prefix = floor text, e.g. ["2=2nd floor"]; empty = the room\'s name')
    slip_lines: list = opt([], doc="lines printed on the welcome slip (Wi-Fi, breakfast)")
    slip_qr_url: str = opt("", doc="optional URL printed as a QR code on the welcome slip")
    void_key_on_checkout: bool = opt(False, doc="check-out voids the key card (CO) when the guest inserts it")
    checkout_by_room: bool = opt(False, doc="check-out by room number + last name (weaker: anyone who knows "
                                             "a guest's room and surname can check them out); default: the key "
                                             "card or the confirmation number + last name")
    idle_timeout: float = opt(60.0, minimum=5.0, doc="seconds without input before the countdown to reset")
    task_deadline: float = opt(15.0, minimum=1.0, doc="minutes: DeadlineUtc of staff tasks the kiosk raises")
    ask_passport: bool = opt(False, doc="ask for passport number and expiry on check-in")
    preauthorization: str = opt("off", choices=("off", "per_night", "per_stay"),
                                 doc="hold an amount for incidentals on the guest's card at check-in (adyen)")
    preauthorization_amount: float = opt(0.0, minimum=0.0, doc="the amount held per night or per stay")
    languages: list = opt(["en", "de", "fr", "es", "it", "cs", "nl"])
    default_language: str = opt("en")
    documents: str = opt("none", choices=("none", "foreign", "all"),
                          doc='ask for an identity document after the booking is found: "foreign" = guests whose '
                              'nationality differs from hotel_country')
    hotel_country: str = opt("", doc="ISO 3166-1 alpha-2 code of the hotel's country (for documents = foreign)")

@dataclass(frozen=True, repr=False)
class FleetConfig(Section):
    """Fleet monitoring and updates (issue 29): metrics, journal upload, the update server."""

    metrics: bool = opt(False, doc="write Prometheus metrics for node_exporter's textfile collector")
    metrics_textfile: str = opt("/var/lib/prometheus/node-exporter/kiosk_agent.prom", path=True,
                                 doc="the .prom file node_exporter's --collector.textfile.directory reads")
    metrics_interval: float = opt(15.0, minimum=1.0, doc="seconds between two writes of the metrics file")
    journal_upload_url: str = opt("", doc="systemd-journal-remote to upload the journal to (https://host:19532)")
    client_cert: str = opt("", file=True, doc="PEM certificate this unit presents (journal upload, mutual TLS)")
    client_key: str = opt("", file=True, doc="PEM private key of client_cert")
    ca_file: str = opt("", file=True, doc="PEM CA the journal-remote server's certificate must chain to")
    update_url: str = opt("", doc="where the unit fetches RAUC bundles (https://...); empty = no automatic updates")
    update_health_timeout: float = opt(300.0, minimum=1.0, doc="seconds a new slot's agent has to reach READY "
                                       "and online before the health gate rolls it back")
