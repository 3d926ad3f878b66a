"""A simulated card payment terminal (`kiosk-agent sim terminal`)."""
