"""image/rauc/devkey.sh and bundle.sh: a development key, a signed bundle RAUC verifies, a foreign one refused."""

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RAUC_DIR = REPO / "image" / "rauc"
SCRIPTS = [RAUC_DIR / "devkey.sh", RAUC_DIR / "bundle.sh", REPO / "image" / "test" / "update.sh",
           REPO / "image" / "test" / "update-files" / "kiosk-update-check"]

needs_rauc = pytest.mark.skipif(shutil.which("rauc") is None or shutil.which("mksquashfs") is None
                                or shutil.which("mkfs.ext4") is None,
                                reason="rauc/squashfs-tools/e2fsprogs not installed (.ci/run installs them)")


def _run(*args, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def devkey(tmp_path_factory):
    out = tmp_path_factory.mktemp("devkey")
    assert _run(RAUC_DIR / "devkey.sh", out).returncode == 0
    return out


@pytest.fixture(scope="module")
def root_image(tmp_path_factory):
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("no mkfs.ext4")
    d = tmp_path_factory.mktemp("root")
    (d / "tree").mkdir()
    (d / "tree" / "payload").write_bytes(bytes(range(256)) * 4096)  # 1 MiB: squashfs must exceed one block
    assert _run("mkfs.ext4", "-q", "-d", d / "tree", d / "rootfs.ext4", "8M").returncode == 0
    return d / "rootfs.ext4"


def test_devkey_makes_three_named_files_and_is_idempotent(devkey):
    names = sorted(p.name for p in devkey.iterdir())
    assert names == ["DEVELOPMENT-ONLY-keyring.pem", "DEVELOPMENT-ONLY-signing.cert.pem",
                     "DEVELOPMENT-ONLY-signing.key.pem"]
    assert (devkey / "DEVELOPMENT-ONLY-signing.key.pem").stat().st_mode & 0o077 == 0  # private
    before = {p.name: p.read_bytes() for p in devkey.iterdir()}
    assert _run(RAUC_DIR / "devkey.sh", devkey).returncode == 0
    assert {p.name: p.read_bytes() for p in devkey.iterdir()} == before  # a second run keeps the key


@needs_rauc
def test_bundle_is_signed_verifies_and_a_foreign_key_is_refused(devkey, root_image, tmp_path):
    cert, key = devkey / "DEVELOPMENT-ONLY-signing.cert.pem", devkey / "DEVELOPMENT-ONLY-signing.key.pem"
    keyring = devkey / "DEVELOPMENT-ONLY-keyring.pem"
    out = tmp_path / "kiosk-1.2.3.raucb"
    done = _run(RAUC_DIR / "bundle.sh", "--rootfs", root_image, "--version", "1.2.3", "--compatible",
                "kiosk-agent-pi", "--cert", cert, "--key", key, "--keyring", keyring, "--out", out)
    assert done.returncode == 0, done.stderr
    info = _run("rauc", "info", f"--keyring={keyring}", "--output-format=shell", out)
    assert info.returncode == 0, info.stderr
    assert "RAUC_MF_COMPATIBLE='kiosk-agent-pi'" in info.stdout and "RAUC_MF_VERSION='1.2.3'" in info.stdout
    assert "Bundle Format: \tverity" in _run("rauc", "info", f"--keyring={keyring}", out).stdout
    # Another key: the bundle is made, but the development keyring does not trust it.
    other = tmp_path / "other"
    assert _run(RAUC_DIR / "devkey.sh", other).returncode == 0
    evil = tmp_path / "evil.raucb"
    done = _run(RAUC_DIR / "bundle.sh", "--rootfs", root_image, "--version", "6.6.6", "--compatible",
                "kiosk-agent-pi", "--cert", other / "DEVELOPMENT-ONLY-signing.cert.pem",
                "--key", other / "DEVELOPMENT-ONLY-signing.key.pem", "--out", evil)
    assert done.returncode == 0, done.stderr
    refused = _run("rauc", "info", f"--keyring={keyring}", evil)
    assert refused.returncode != 0 and "signature verification failed" in refused.stderr
    # bundle.sh's own check: a keyring that does not trust the signer fails the build.
    done = _run(RAUC_DIR / "bundle.sh", "--rootfs", root_image, "--version", "6.6.6", "--compatible",
                "kiosk-agent-pi", "--cert", other / "DEVELOPMENT-ONLY-signing.cert.pem",
                "--key", other / "DEVELOPMENT-ONLY-signing.key.pem", "--keyring", keyring, "--out", evil)
    assert done.returncode != 0 and "does not verify" in done.stderr


def test_bundle_refuses_bad_arguments(tmp_path, root_image):
    done = _run(RAUC_DIR / "bundle.sh", "--rootfs", root_image, "--version", "1", "--compatible", "x",
                "--out", tmp_path / "no-suffix.tar")
    assert done.returncode != 0 and ".raucb" in done.stderr
    done = _run(RAUC_DIR / "bundle.sh", "--rootfs", tmp_path / "missing.ext4", "--version", "1", "--compatible", "x",
                "--out", tmp_path / "b.raucb")
    assert done.returncode != 0 and "no root slot image" in done.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse_and_are_shellcheck_clean(script):
    if not script.exists():
        pytest.skip(f"{script.name} not written yet")
    assert script.stat().st_mode & 0o100, f"{script} is not executable"
    assert _run("bash", "-n", script).returncode == 0
    if shutil.which("shellcheck"):
        done = _run("shellcheck", "-x", script, cwd=script.parent)
        assert done.returncode == 0, done.stdout[-3000:]
