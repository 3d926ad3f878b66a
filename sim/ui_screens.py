"""Screenshots of every kiosk UI screen in every language (720x1280), in headless Chromium.

``python -m sim.ui_screens --out demo-output/ui`` (all screens, all languages) or
``--out docs/images --readme`` (the README's three). ``take_screenshots`` is what
``make demo`` calls; it returns None (and says why) when Chromium is not installed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

LANGUAGES = ("en", "de", "fr", "es", "it", "cs", "nl")
README_SHOTS = (("welcome", "en"), ("keys-busy", "en"), ("bill", "de"))


def take_screenshots(out: Path, shots=None) -> list[Path] | None:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("ui screens: skipped (needs chromium and chromium-driver)")
        return None
    from sim.kiosk_browser import SCREENS, chromium, close, serve_static, wait_ready
    out.mkdir(parents=True, exist_ok=True)
    names = ["welcome", *SCREENS]
    wanted = shots or [(name, code) for code in LANGUAGES for name in names]
    server, base = serve_static()
    driver = chromium(720, 1280)
    written = []
    try:
        driver.get(base + "/")
        wait_ready(driver)
        for name, code in wanted:
            driver.execute_script("return window.kiosk.switchLanguage(arguments[0])", code)
            if name != "welcome":
                screen = SCREENS[name]
                if screen.get("progress"):  # a live countdown: 25 s from now
                    screen = {**screen, "progress": {**screen["progress"], "deadline": time.time() + 25}}
                driver.execute_script("window.kiosk.draw(arguments[0])", screen)
            path = out / f"ui-{name}-{code}.png"
            driver.save_screenshot(str(path))
            written.append(path)
            if name != "welcome":
                driver.execute_script("return window.kiosk.finish()")
    finally:
        close(driver)
        server.shutdown()
    print(f"ui screens: {len(written)} screenshots in {out}")
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo-output/ui"))
    parser.add_argument("--readme", action="store_true", help="only the README's three screenshots")
    args = parser.parse_args(argv)
    return 0 if take_screenshots(args.out, README_SHOTS if args.readme else None) is not None else 1


if __name__ == "__main__":
    sys.exit(main())
