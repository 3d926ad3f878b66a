"""TOML text -> a validated Config: every error names the file, the key and what is wrong.

``config.toml: mews.mode: expected "websocket" or "poll", got "socket"``. Unknown keys are
errors too: a typo must not silently disable a feature. Secret values never appear in a
message.
"""

from __future__ import annotations

import os
import tomllib
import typing
from dataclasses import fields
from pathlib import Path

from agent.config.checks import validate_cross
from agent.config.errors import ConfigError
from agent.config.fields import REDACTED
from agent.config.model import REQUIRED_SECTIONS, Config, sections
from agent.config.ports import port_problem

DEFAULT_CONFIG = "/etc/kiosk-agent/config.toml"


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
    if meta.get("port") and (problem := port_problem(value, tcp=meta["port"] == "tcp")):
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
    known = sections()
    for name in data:
        if name not in known:
            errors.append(ConfigError(fname, name, f"unknown table; known tables: {', '.join(known)}"))
    for name in REQUIRED_SECTIONS:
        if name not in data:
            errors.append(ConfigError(fname, name, f"required table [{name}] is missing"))
    built = {name: _build_section(known[name], data[name], name, fname, base, errors)
             for name in data if name in known}
    if errors:
        raise ConfigError.several(errors)
    cfg = Config.of_tables(str(Path(path).resolve()), built)
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
