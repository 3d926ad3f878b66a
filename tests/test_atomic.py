import os
import stat

import common.atomic as atomic


def test_replace_keeps_old_or_new_and_sets_mode(tmp_path):
    target = tmp_path / "health.json"
    atomic.write_atomically(target, b"old", mode=0o644)
    atomic.write_atomically(target, b"new", mode=0o600)
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["health.json"]  # no temp file left behind


def test_durable_write_survives_a_folder_that_refuses_fsync(tmp_path, monkeypatch):
    """The first-boot error file goes to the FAT boot partition, whose folders may refuse fsync."""
    real_fsync = os.fsync

    def picky_fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(22, "Invalid argument")
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", picky_fsync)
    target = tmp_path / "kiosk-agent-error.txt"
    atomic.write_atomically(target, b"fix mews.mode", mode=0o644, durable=True)
    assert target.read_bytes() == b"fix mews.mode"
