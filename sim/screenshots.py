"""The README's example OLED frames, drawn by the real screens code (``python -m sim.screenshots docs/images``)."""

from __future__ import annotations


def readme_screenshots(folder: str, scale: int = 3) -> list[str]:
    """Write the README's three example screens (online, printing, present card), scaled up."""
    import os

    from PIL import Image

    from agent.runtime.health import BUSY, ONLINE, WAITING, DeviceHealth, Health
    from agent.panel.screens import HEIGHT, WIDTH, online, present_card, printing, render

    now = 1_700_000_000.0
    examples = {
        "oled-online": online(Health(connection=ONLINE, enterprise="Grand Hotel Demo", ip_address="192.168.1.42",
                                     outbox_depth=0)),
        "oled-printing": printing(DeviceHealth("printer", BUSY, done=1, total=3)),
        "oled-present-card": present_card(DeviceHealth("encoder", WAITING, done=0, total=2, deadline=now + 27), now),
    }
    os.makedirs(folder, exist_ok=True)
    paths = []
    for name, screen in examples.items():
        image = render(screen).convert("L")
        path = os.path.join(folder, name + ".png")
        image.resize((WIDTH * scale, HEIGHT * scale), Image.NEAREST).save(path, optimize=True)
        paths.append(path)
    return paths


if __name__ == "__main__":  # python -m sim.screenshots docs/images
    import sys

    print("\n".join(readme_screenshots(sys.argv[1] if len(sys.argv) > 1 else "docs/images")))
