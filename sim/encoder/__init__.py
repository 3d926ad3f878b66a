"""Virtual key-card encoder speaking the PMS "Industry Standard" protocol on a pty or TCP port."""

from sim.encoder.device import VirtualEncoder

__all__ = ["VirtualEncoder"]
