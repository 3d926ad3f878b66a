"""The composition root builds the front panel (the OLED, LEDs and buttons observe the agent's state)."""

from __future__ import annotations

from agent.config import parse
from agent.panel.frontpanel import FrontPanel
from agent.runtime.app import build_agent


def test_build_agent_gives_the_agent_its_front_panel(tmp_path):
    text = ('[mews]\nplatform_address = "http://127.0.0.1:9"\nclient_token = "c"\naccess_token = "a"\n'
            f'[agent]\nstate_dir = "{tmp_path / "state"}"\n')
    agent = build_agent(parse(text, str(tmp_path / "config.toml")))
    try:
        assert isinstance(agent.frontpanel, FrontPanel)
    finally:
        agent.store.close()
        agent.client.close()
