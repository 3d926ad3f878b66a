"""A simulated Adyen payment terminal built on Adyen's own Node library (``server.js``), and its Python runner."""
