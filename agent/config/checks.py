"""Config checks spanning keys (addresses, time zone, POS shards, events, kiosk exposure), every problem reported."""

from __future__ import annotations

from agent.config.errors import ConfigError


def validate_cross(cfg, fname: str) -> list[ConfigError]:
    """Problems spanning keys, every one of them."""
    errors = []
    for check in _CROSS_CHECKS:
        try:
            check(cfg, fname)
        except ConfigError as e:
            errors.extend(e.errors)
    return errors


def _check_addresses(cfg, fname: str) -> None:
    addr = cfg.mews.platform_address
    if not (addr.startswith("http://") or addr.startswith("https://")):
        raise ConfigError(fname, "mews.platform_address",
                          f'expected an http:// or https:// address, got "{addr}"')
    ws = cfg.mews.websocket_address
    if ws and not (ws.startswith("ws://") or ws.startswith("wss://")):
        raise ConfigError(fname, "mews.websocket_address",
                          f'expected a ws:// or wss:// address, got "{ws}"')


# Which tokens each platform generation needs (Mews hands out a ClientToken and an AccessToken today).
GENERATION_TOKENS = {"current": ("client_token", "access_token"), "seed": ("connector_token",)}


def _check_tokens(cfg, fname: str) -> None:
    missing = [k for k in GENERATION_TOKENS[cfg.mews.generation] if not getattr(cfg.mews, k)]
    if not missing:
        return
    errors = [ConfigError(fname, f"mews.{k}", f'required with mews.generation = "{cfg.mews.generation}" '
                          "(missing or empty)") for k in missing]
    raise ConfigError.several(errors)


def _check_reservations_version(cfg, fname: str) -> None:
    if cfg.mews.generation == "current" and cfg.mews.reservations_version == "2017-04-12":
        raise ConfigError(fname, "mews.reservations_version",
                          '"2017-04-12" was discontinued on the production platform (2025-05-10) and is in the seed '
                          'generation only: use "2023-06-06", or mews.generation = "seed"')


def _check_timezone(cfg, fname: str) -> None:
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(cfg.agent.timezone)
    except Exception:
        raise ConfigError(fname, "agent.timezone",
                          f'unknown IANA time zone "{cfg.agent.timezone}" (e.g. "Europe/London")') from None


def _check_pos(cfg, fname: str) -> None:
    if cfg.pos is not None:
        if not cfg.pos.shards:
            raise ConfigError(fname, "pos.shards", "needs at least one shard")
        if "{shard}" not in cfg.pos.url_template and len(cfg.pos.shards) > 1:
            raise ConfigError(fname, "pos.url_template", "must contain {shard} when several shards are listed")


def _check_events(cfg, fname: str) -> None:
    if cfg.events.forward_url and not cfg.events.forward_url.startswith(("http://", "https://")):
        raise ConfigError(fname, "events.forward_url", "expected an http:// or https:// address")


SCREEN_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-")


def _check_kiosk(cfg, fname: str) -> None:
    """A kiosk reachable from the network must be driven only by a screen that knows the secret."""
    from agent.kiosk.address import is_loopback, parse_listen

    kiosk = cfg.kiosk
    token = kiosk.screen_token
    # the token travels in a URL fragment and a header: URL-safe characters only, and long enough
    # that guessing it over the network is hopeless (never echo it: it is a secret)
    if token and not (16 <= len(token) <= 128 and set(token) <= SCREEN_TOKEN_CHARS):
        raise ConfigError(fname, "kiosk.screen_token", "must be 16 to 128 characters from A-Z a-z 0-9 . _ ~ - "
                                                       "(e.g. the output of: openssl rand -hex 16)")
    try:
        host, _ = parse_listen(kiosk.listen)
    except ValueError as e:
        raise ConfigError(fname, "kiosk.listen", str(e)) from None
    if kiosk.enabled and not is_loopback(host) and not token:
        raise ConfigError(fname, "kiosk.screen_token",
                          f'required when kiosk.listen ("{kiosk.listen}") is not a loopback address: any host '
                          "on the network could drive the kiosk; set a secret (e.g. openssl rand -hex 16) or "
                          'listen on "127.0.0.1:PORT"')


def _check_fleet(cfg, fname: str) -> None:
    from agent.fleet.settings import problems  # the [fleet] table's rules live with the fleet code

    errors = problems(cfg.fleet, fname)
    if errors:
        raise ConfigError.several(errors)


def _check_preauthorization(cfg, fname: str) -> None:
    """Holding an amount at check-in needs a terminal that can, and an amount."""
    if cfg.kiosk.preauthorization != "off" and cfg.payment is None:
        raise ConfigError(fname, "kiosk.preauthorization", 'needs a [payment] terminal that pre-authorises '
                                                           '(driver = "adyen")')
    if cfg.kiosk.preauthorization != "off" and cfg.kiosk.preauthorization_amount <= 0:
        raise ConfigError(fname, "kiosk.preauthorization_amount", "must be more than 0 when preauthorization is on")


def _check_device_kinds(cfg, fname: str) -> None:
    """Each device kind's own rules for its table (declared in its package), when the table is there."""
    from agent.devices import kinds

    errors: list[ConfigError] = []
    for kind in kinds():
        check = kind.config_check_function()
        if check is None or getattr(cfg, kind.table) is None:
            continue
        try:
            check(getattr(cfg, kind.table), fname)
        except ConfigError as e:
            errors.extend(e.errors)
    if errors:
        raise ConfigError.several(errors)


def _check_documents(cfg, fname: str) -> None:
    """The document reader's port, and a hotel country when only foreign guests show a document."""
    from agent.documents.config import check_documents

    check_documents(cfg, fname)


def _check_kiosk_brand(cfg, fname: str) -> None:
    from agent.kiosk.brand import check_brand

    check_brand(cfg.kiosk, fname)


_CROSS_CHECKS = (_check_addresses, _check_tokens, _check_reservations_version, _check_timezone, _check_pos,
                 _check_events, _check_kiosk, _check_fleet, _check_preauthorization, _check_device_kinds,
                 _check_documents, _check_kiosk_brand)
