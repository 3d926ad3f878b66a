"""Rules of the ``[fleet]`` table that span keys; every problem names its key."""

from __future__ import annotations

from agent.config.errors import ConfigError

SCHEMES = ("https://", "http://")


def problems(fleet, fname: str) -> list[ConfigError]:
    """Every problem with ``[fleet]`` (empty when it is usable)."""
    errors = []
    for key in ("journal_upload_url", "update_url"):
        url = getattr(fleet, key)
        if url and (not url.startswith(SCHEMES) or len(url.split("://", 1)[1].strip("/")) == 0):
            errors.append(ConfigError(fname, f"fleet.{key}", f'expected an https:// (or http://) address, got "{url}"'))
        elif url and any(c.isspace() for c in url):
            errors.append(ConfigError(fname, f"fleet.{key}", f'an address has no spaces, got "{url}"'))
    if bool(fleet.client_cert) != bool(fleet.client_key):
        missing = "client_key" if fleet.client_cert else "client_cert"
        other = "client_cert" if fleet.client_cert else "client_key"
        errors.append(ConfigError(fname, f"fleet.{missing}", f"required with fleet.{other} (a certificate and its key)"))
    url = fleet.journal_upload_url
    if url.startswith("https://"):
        # journal-remote trusts a unit by its client certificate: without one the upload is refused anyway.
        for key in ("client_cert", "client_key", "ca_file"):
            if not getattr(fleet, key) and not any(e.key == f"fleet.{key}" for e in errors):
                errors.append(ConfigError(fname, f"fleet.{key}", "required with an https:// fleet.journal_upload_url "
                                                                  "(mutual TLS with systemd-journal-remote)"))
    if fleet.metrics and not fleet.metrics_textfile.endswith(".prom"):
        errors.append(ConfigError(fname, "fleet.metrics_textfile",
                                  f'must end in .prom (node_exporter reads only those), got "{fleet.metrics_textfile}"'))
    return errors
