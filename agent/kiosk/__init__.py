"""Guest self check-in and check-out: the flow (no web in it), its JSON API and the CLI client."""
