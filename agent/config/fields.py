"""The config's building blocks: a field with validation metadata, and a section whose secrets never show."""

from __future__ import annotations

from dataclasses import field, fields
from typing import TYPE_CHECKING, Any, ClassVar

REDACTED = "***"


def opt(default, *, choices=None, secret=False, path=False, file=False, minimum=None, required=False,
         fold_case=False, port=False, doc=""):
    """A config field with validation metadata.

    ``path``: resolved relative to the config's folder; ``file``: a path that must name an
    existing file at load; ``fold_case``: the value is compared and kept in lower case;
    ``port``: a serial device path or pyserial URL (see agent.config.ports for what a typo is); ``port="tcp"``
    also takes tcp://HOST:PORT (network printers).
    """
    meta = {"choices": choices, "secret": secret, "path": path or file, "file": file, "minimum": minimum,
            "required": required, "fold_case": fold_case, "port": port, "doc": doc}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


class Section:
    """Base of every config table's dataclass: secrets never appear in repr."""

    if TYPE_CHECKING:  # every section is a dataclass: ``fields()`` takes it
        __dataclass_fields__: ClassVar[dict[str, Any]]

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("secret") and value:
                value = REDACTED
            parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    __str__ = __repr__
