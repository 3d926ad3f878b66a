"""Virtual ESC/POS printer (pty or TCP) writing each receipt as PNG, and a sample registration card."""


def __getattr__(name):
    # Lazy, so `import sim.printer.sample` does not pull in the simulator.
    if name == "VirtualPrinter":
        from sim.printer.virtual import VirtualPrinter
        return VirtualPrinter
    raise AttributeError(name)
