"""Message ids the kiosk flow answers with, and their English templates.

The flow never builds guest-facing sentences itself: it answers a message id and
parameters; the UI translates the id (``agent/kiosk/static/i18n/<lang>.json``) and
the CLI prints the English template, read from the same ``en.json`` (one source: add a
new id there). Ids are an interface: keep them stable.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["MESSAGES", "render"]


def _english() -> dict[str, str]:
    """The flow's ids (every id but the UI's own ``ui.*``) and their English templates, from en.json."""
    path = Path(__file__).resolve().parent / "static" / "i18n" / "en.json"
    catalog = json.loads(path.read_text(encoding="utf-8"))  # ours, shipped with the package: a broken one is a build fault
    return {k: v for k, v in catalog.items() if not k.startswith("ui.")}


MESSAGES: dict[str, str] = _english()


def render(message_id: str, params: dict | None = None) -> str:
    """The English text of a message; an unknown id or a missing parameter never raises."""
    template = MESSAGES.get(message_id, message_id)
    values = {k: f"{v['Value']:.2f} {v['Currency']}" if isinstance(v, dict) and {"Value", "Currency"} <= set(v)
              else v for k, v in (params or {}).items()}  # amounts are {"Currency", "Value"} objects
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template
