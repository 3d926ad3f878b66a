"""Every message id the flow, the API and the CLI use has an English template (the UI translates these ids)."""

import re
from pathlib import Path

from agent.kiosk.messages import MESSAGES, render

ROOT = Path(__file__).resolve().parents[1]
_ID = re.compile(r'"((?:checkin|checkout|payment|refused|failed|staff|session|field|error)\.[a-z_.]+)"')


def test_every_used_id_is_defined():
    used = set()
    for path in list((ROOT / "agent" / "kiosk").glob("*.py")) + [ROOT / "agent" / "commands" / "kiosk.py"]:
        used |= set(_ID.findall(path.read_text(encoding="utf-8")))
    used.discard("field.{name}")
    assert len(used) > 30
    assert sorted(used - set(MESSAGES)) == []


def test_render_fills_params_and_never_raises():
    assert render("refused.too_early", {"time": "14:00"}) == "Your room is ready from 14:00. Please come back then."
    assert render("refused.too_early", {}) == MESSAGES["refused.too_early"]
    assert render("no.such.id") == "no.such.id"
    assert render("refused.balance_due", {"amount": {"Currency": "GBP", "Value": 95.5}}) == (
        "Please settle 95.50 GBP at reception.")


def test_the_english_catalog_is_the_one_source_of_the_templates():
    import json

    catalog = json.loads((ROOT / "agent" / "kiosk" / "static" / "i18n" / "en.json").read_text(encoding="utf-8"))
    assert MESSAGES == {k: v for k, v in catalog.items() if not k.startswith("ui.")}
    source = (ROOT / "agent" / "kiosk" / "messages.py").read_text(encoding="utf-8")
    repeated = [k for k, v in MESSAGES.items() if len(v) > 12 and json.dumps(v) in source]
    assert repeated == []  # no template written twice: a fix in en.json reaches the CLI too
