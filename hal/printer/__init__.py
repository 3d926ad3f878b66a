"""Thermal printer: documents -> 1-bit raster (`raster`), ESC/POS bytes (`escpos`), serial link (`port`).

Submodules import Pillow, pypdfium2 and pyserial only where used.
"""
