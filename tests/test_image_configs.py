"""The configs the image rehearsals write into a booted image (image/arm64/test.sh, image/test/powercut.sh,
image/test/update.sh)
load with today's config rules: a key the agent no longer takes, or one it now requires, would make the
image's agent refuse to start and the rehearsal fail after an hour of building."""

import re
from pathlib import Path

import pytest

from agent.config import parse

ROOT = Path(__file__).resolve().parent.parent
HEREDOC = re.compile(r"<<-TOML\n(.*?)\n\s*TOML\n", re.S)


def configs():
    for script in ("image/arm64/test.sh", "image/test/powercut.sh", "image/test/update.sh"):
        for i, body in enumerate(HEREDOC.findall((ROOT / script).read_text())):
            yield pytest.param(body, id=f"{script}#{i}")


@pytest.mark.parametrize("body", list(configs()))
def test_a_rehearsal_config_loads(body, tmp_path):
    text = "\n".join(line.strip() for line in body.splitlines())
    text = re.sub(r"\$\{?([A-Z_]+)(:-[^}]*)?\}?", "1234", text)  # the scripts' ports and timeouts
    for path in set(re.findall(r'"(/etc/kiosk-fleet/[^"]+)"', text)):  # files the script installs in the image
        (tmp_path / Path(path).name).write_text("PEM\n")
        text = text.replace(path, str(tmp_path / Path(path).name))
    cfg = parse(text, "kiosk-agent.toml")
    assert cfg.mews.platform_address.startswith("http://10.0.2.2:")


def test_the_rehearsal_tokens_are_the_simulators():
    from sim.mews.server import MewsSimulator

    sim = MewsSimulator(rate_limit=False)
    for script in ("image/arm64/test.sh", "image/test/powercut.sh", "image/test/update.sh"):
        text = (ROOT / script).read_text()
        assert sim.access_token in text and sim.client_token in text, script
