"""Virtual document reader: MRZ text and booking QR codes on a pty, framed as real readers frame them."""

from sim.reader.device import VirtualReader

__all__ = ["VirtualReader"]
