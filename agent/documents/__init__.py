"""Identity documents: machine-readable zones, booking QR codes, what goes to the platform."""
