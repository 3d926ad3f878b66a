"""kiosk-agent: connects a hotel's kiosk devices to the Mews Connector API."""

__version__ = "0.1.0"
