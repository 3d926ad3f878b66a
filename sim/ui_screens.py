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
# The two panels the README shows (the 7" Pi display, a 10" kiosk): every screen in English,
# and the find screen with the keyboard open, as ui-<screen>-<w>x<h>.png.
SIZES = ((800, 480), (1280, 800))
README_SIZE_SHOTS = ("find-keyboard",)


def _draw(driver, name):
    from sim.kiosk_browser import SCREENS
    if name == "welcome":
        return
    screen = SCREENS["find-checkin" if name == "find-keyboard" else name]
    if screen.get("progress"):  # a live countdown: 25 s from now
        screen = {**screen, "progress": {**screen["progress"], "deadline": time.time() + 25}}
    driver.execute_script("window.kiosk.draw(arguments[0])", screen)
    if name == "find-keyboard":
        driver.find_element("id", "f-number").click()


def take_sized_screenshots(out: Path, names=None) -> list[Path] | None:
    """The screens at 800x480 and 1280x800 (English), the find screen with its keyboard among them."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("ui screens: skipped (needs chromium and chromium-driver)")
        return None
    from sim.kiosk_browser import SCREENS, chromium, close, serve_static, set_viewport, wait_ready
    out.mkdir(parents=True, exist_ok=True)
    names = names or ["welcome", "find-keyboard", *SCREENS]
    server, base = serve_static()
    driver = chromium(*SIZES[0])
    written = []
    try:
        driver.get(base + "/")
        wait_ready(driver)
        for width, height in SIZES:
            set_viewport(driver, width, height)
            for name in names:
                driver.execute_script("return window.kiosk.finish()")
                _draw(driver, name)
                path = out / f"ui-{name}-{width}x{height}.png"
                driver.save_screenshot(str(path))
                written.append(path)
        driver.execute_script("return window.kiosk.finish()")
    finally:
        close(driver)
        server.shutdown()
    print(f"ui screens: {len(written)} screenshots at {', '.join(f'{w}x{h}' for w, h in SIZES)} in {out}")
    return written


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
    if shots is None:  # the demo: the small and the 10" panel as well
        written += take_sized_screenshots(out) or []
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo-output/ui"))
    parser.add_argument("--readme", action="store_true", help="only the README's three screenshots")
    args = parser.parse_args(argv)
    if args.readme:
        ok = take_screenshots(args.out, README_SHOTS) is not None
        return 0 if ok and take_sized_screenshots(args.out, list(README_SIZE_SHOTS)) is not None else 1
    return 0 if take_screenshots(args.out) is not None else 1


if __name__ == "__main__":
    sys.exit(main())
