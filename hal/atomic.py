"""Moved to ``common.atomic`` (both agent/ and hal/ use it); this name stays for callers not yet moved."""

from common.atomic import fsync_dir, write_atomically  # noqa: F401
