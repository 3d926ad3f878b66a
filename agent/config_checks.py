"""Config checks spanning keys (addresses, time zone, POS shards, event forwarding), every problem reported."""

from __future__ import annotations

from agent.config_errors import ConfigError


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


_CROSS_CHECKS = (_check_addresses, _check_tokens, _check_reservations_version, _check_timezone, _check_pos, _check_events)
