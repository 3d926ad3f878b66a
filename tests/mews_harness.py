"""Shared test plumbing for the Mews client: a [mews] config for a simulator."""

from __future__ import annotations

from agent import config
from sim.mews import DEMO_CONNECTOR_TOKEN


CLIENT_TOKEN = "CLIENT-TOKEN-FOR-TESTS-0001"


def mews_config(sim, **over):
    values = {"platform_address": sim.url, "generation": "seed", "connector_token": DEMO_CONNECTOR_TOKEN, "client_token": CLIENT_TOKEN,
              "timeout": 5.0}
    values.update(over)
    lines = ["[mews]"]
    for key, value in values.items():
        lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else repr(value)}")
    return config.parse("\n".join(lines).replace("'", '"')).mews
