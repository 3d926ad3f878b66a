"""The simulated Adyen terminal (sim/adyen/server.js, on Adyen's own Node library) for tests, soak and demos.

``node_modules()`` installs ``@adyen/api-library`` (``npm ci``: the versions in
package-lock.json) once into a cache folder
(``$KIOSK_AGENT_NPM_CACHE`` or ``~/.cache/kiosk-agent/adyen-sim``) and answers
where, or a reason to skip: no Node/npm (the tests install Debian's when root),
no registry. ``make_test_ca()`` makes a throw-away CA and a terminal certificate whose
common name is the POIID, as Adyen's are.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import urllib.request
from pathlib import Path

SIM_DIR = Path(__file__).resolve().parent
POI_ID = "P400Plus-275000001"
KEY = {"identifier": "kioskKey", "version": 1, "passphrase": "kiosk-test-passphrase"}


def _have_node() -> bool:
    return bool(shutil.which("node") and shutil.which("npm"))


def node_modules(*, install_node: bool = False) -> tuple[Path | None, str]:
    """(the folder holding node_modules, "") or (None, why the simulator cannot run here).

    ``install_node``: when Node is missing and we are root, install Debian's (the CI's test setup)."""
    if not _have_node():
        if not install_node or os.geteuid() != 0 or not shutil.which("apt-get"):
            return None, "node and npm are not installed (apt-get install nodejs npm)"
        subprocess.run(["apt-get", "install", "-y", "-qq", "nodejs", "npm"], capture_output=True, timeout=600,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if not _have_node():
            return None, "node and npm could not be installed from Debian"
    manifest, lock = (SIM_DIR / "package.json").read_bytes(), (SIM_DIR / "package-lock.json").read_bytes()
    base = Path(os.environ.get("KIOSK_AGENT_NPM_CACHE") or Path.home() / ".cache" / "kiosk-agent" / "adyen-sim")
    folder = base / hashlib.sha256(manifest + lock).hexdigest()[:12]
    installed = folder / "node_modules" / "@adyen" / "api-library" / "package.json"
    if installed.exists():
        return folder, ""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder.with_suffix(".lock"), "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # two test runs at once: one installs, the other waits for it
        if installed.exists():
            return folder, ""
        (folder / "package.json").write_bytes(manifest)
        (folder / "package-lock.json").write_bytes(lock)
        # npm ci: exactly the locked versions, each checked against its integrity hash
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--omit=optional", "--loglevel=error"],
                              cwd=folder, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        return None, f"npm ci (@adyen/api-library) failed: {done.stderr.strip()[-300:]}"
    return folder, ""


def make_test_ca(folder: Path, common_name: str = POI_ID) -> dict:
    """A CA and a terminal certificate (CN = POIID, for 127.0.0.1) as PEM files: {"ca", "cert", "key"}."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Terminal CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"ca": folder / "ca.pem", "cert": folder / "terminal.pem", "key": folder / "terminal.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return {k: str(v) for k, v in paths.items()}


class AdyenSim:
    """One running simulated terminal; ``address`` is ``127.0.0.1:PORT``."""

    def __init__(self, modules: Path, pki: dict, *, hold: float = 1.0, key: dict = KEY, poi_id: str = POI_ID,
                 host: str = "127.0.0.1", port: int = 0):
        self.pki, self.poi_id = pki, poi_id
        env = {**os.environ, "NODE_PATH": str(modules / "node_modules")}
        self.proc = subprocess.Popen(
            ["node", str(SIM_DIR / "server.js"), "--cert", pki["cert"], "--key", pki["key"], "--poi-id", poi_id,
             "--key-identifier", key["identifier"], "--key-version", str(key["version"]),
             "--passphrase", key["passphrase"], "--timeout", str(hold), "--host", host, "--port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the Adyen simulator did not start: {self.proc.stderr.read()[-500:]}")
        self.port = json.loads(line)["port"]
        self.address = f"{host}:{self.port}"
        self._context = ssl.create_default_context(cafile=pki["ca"])
        self._context.check_hostname = False

    def _call(self, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"https://127.0.0.1:{self.port}{path}", data=data,
                                         method="POST" if data is not None else "GET")
        with urllib.request.urlopen(request, context=self._context, timeout=5) as r:
            return json.loads(r.read() or b"{}")

    def set_mode(self, mode: str, **extra) -> None:
        self._call("/sim/mode", {"next": mode, **extra})

    def state(self) -> dict:
        return self._call("/sim/state")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc.stdout.close()
        self.proc.stderr.close()
