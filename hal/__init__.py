"""The hands: serial ports, ESC/POS printer, key encoder, OLED, GPIO.

Nothing here imports ``agent``; every device takes its transport from outside
(serial URL, pin factory, luma device) so the same code runs on a Pi, in the
demo and in tests.
"""
