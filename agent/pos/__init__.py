"""ConcertPOS gateway client."""
