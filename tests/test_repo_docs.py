"""The repository stands on its own: a LICENSE matching setup.cfg, no README link outside the repo."""

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_license_matches_setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["metadata"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_readme_links_stay_inside_the_repo():
    text = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#\s]+)", text)
    assert not [t for t in text.split() if t.strip("`()[].,").startswith("../")]
    for target in targets:
        if "://" in target:
            continue
        assert (ROOT / target).exists(), target
