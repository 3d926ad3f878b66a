"""Kiosk UI in headless Chromium: first paint of the welcome screen and tap-to-next-screen.

Measured today against the static page over loopback (sim/kiosk_browser.serve_static):
first contentful paint of welcome (goal <= 1 s) and a tap that redraws a screen in the
page (the UI's own share of "tap to next screen"; goal <= 150 ms p95 including the
agent). The agent's share and its RSS with the UI server on (goal idle <= 40 MB) need
the kiosk web layer (kiosk branch) and are reported as not measured until it is merged.
"""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "ui.json"
TAPS = 40


def p95(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("bench_ui: skipped (needs chromium and chromium-driver)")
        return
    from sim.kiosk_browser import SCREENS, chromium, close, serve_static, wait_ready
    server, base = serve_static()
    driver = chromium()
    try:
        paints = []
        for _ in range(5):
            driver.get(base + "/")
            wait_ready(driver)
            paints.append(driver.execute_script(
                "const e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null;"))
        taps = []
        for i in range(TAPS):  # tap a button whose answer is the next screen, until the next screen is drawn
            driver.execute_script("window.kiosk.draw(arguments[0])", SCREENS["keys"])
            taps.append(driver.execute_async_script(
                "const done = arguments[arguments.length - 1]; const t0 = performance.now();"
                "const next = arguments[0];"
                "document.querySelector('#screen button').addEventListener('click', () => window.kiosk.draw(next), {once: true});"
                "document.querySelector('#screen button').click();"
                "requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));", SCREENS["done"]))
    finally:
        close(driver)
        server.shutdown()
    paints = [p for p in paints if p is not None]
    result = {
        "first_paint_welcome_ms": {"median": round(statistics.median(paints), 1), "max": round(max(paints), 1), "goal": 1000},
        "tap_to_next_screen_ui_ms": {"p50": round(statistics.median(taps), 1), "p95": round(p95(taps), 1), "n": TAPS, "goal_p95": 150},
        "tap_to_next_screen_with_agent_ms": "not measured: needs the kiosk JSON API (kiosk branch) merged",
        "agent_rss_ui_idle_mb": "not measured: needs the kiosk web layer (kiosk branch) merged",
    }
    print(f"{'measure':34} {'value':>10} {'goal':>8}")
    print(f"{'first paint welcome (median ms)':34} {result['first_paint_welcome_ms']['median']:>10} {1000:>8}")
    print(f"{'tap to next screen, UI (p95 ms)':34} {result['tap_to_next_screen_ui_ms']['p95']:>10} {150:>8}")
    print("tap incl. agent, agent RSS:        not measured (kiosk web layer not merged)")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
