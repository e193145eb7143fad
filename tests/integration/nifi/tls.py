"""Throw-away certificates for the TLS tests: a CA, a server keystore, client certificates.

Built with ``openssl`` (keys, certificates, the server's PKCS12 keystore, the PEM files
Python's ``ssl`` client needs) and the JDK's ``keytool`` for the truststore (Java trusts a
PKCS12 certificate entry only with the attribute keytool writes). Passwords reach both tools
through the environment (``-passout env:``, ``-storepass:env``), never their command lines.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

_PW_VAR = "LAKEHOUSE_TEST_STORE_PASSWORD"
_VALIDITY_DAYS = "2"


@dataclass(frozen=True)
class PkiFiles:
    """Where the files are; every store shares one random password."""

    directory: Path
    password: str = field(repr=False)

    @property
    def ca_pem(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def server_keystore(self) -> Path:
        return self.directory / "server.p12"

    @property
    def truststore(self) -> Path:
        return self.directory / "clients-ca.p12"

    def client_pem(self, name: str) -> Path:
        """Key and certificate of a client made by :func:`make_pki`, PEM, for ``ssl``."""
        return self.directory / f"{name}.pem"


def tools_missing() -> str | None:
    """Why the PKI cannot be built here, or None."""
    missing = [tool for tool in ("keytool", "openssl") if shutil.which(tool) is None]
    return f"{', '.join(missing)} not installed (JDK / openssl package)" if missing else None


def make_pki(directory: Path, clients: dict[str, str]) -> PkiFiles:
    """A CA, a server certificate for 127.0.0.1/localhost, and one certificate per client.

    ``clients`` maps a file name to the certificate's subject (openssl ``/O=.../CN=...``).
    openssl does the keys and certificates (one JVM start per keytool call costs seconds on
    a busy machine); keytool only writes the truststore.
    """
    directory.mkdir(parents=True, exist_ok=True)
    pki = PkiFiles(directory, secrets.token_urlsafe(18))
    env = {**os.environ, _PW_VAR: pki.password}
    ca_key = directory / "ca.key"
    _openssl(env, "req", "-x509", *_EC_KEY, "-keyout", str(ca_key), "-out", str(pki.ca_pem),
             "-subj", "/CN=Lakehouse Test CA", "-days", _VALIDITY_DAYS,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    server_key, server_crt = _issue(pki, ca_key, "server", "/CN=localhost", env,
                                    "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                    "extendedKeyUsage=serverAuth\n")  # fmt: skip
    _openssl(env, "pkcs12", "-export", "-inkey", str(server_key), "-in", str(server_crt),
             "-certfile", str(pki.ca_pem), "-name", "server", "-passout", f"env:{_PW_VAR}",
             "-out", str(pki.server_keystore))  # fmt: skip
    for name, subject in clients.items():
        key, crt = _issue(pki, ca_key, name, subject, env, "extendedKeyUsage=clientAuth\n")
        pki.client_pem(name).write_text(crt.read_text() + key.read_text())
    _keytool(env, "-importcert", "-noprompt", "-keystore", str(pki.truststore),
             "-storetype", "PKCS12", "-storepass:env", _PW_VAR, "-alias", "ca",
             "-file", str(pki.ca_pem))  # fmt: skip
    for path in directory.iterdir():
        path.chmod(0o600)
    return pki


_EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")


def _issue(
    pki: PkiFiles, ca_key: Path, name: str, subject: str, env: dict[str, str], extensions: str
) -> tuple[Path, Path]:
    """(key, certificate) of ``name``, signed by the CA with the given extensions."""
    key, csr, crt = (pki.directory / f"{name}.{ext}" for ext in ("key", "csr", "crt"))
    ext_file = pki.directory / f"{name}.ext"
    ext_file.write_text(extensions)
    _openssl(env, "req", *_EC_KEY, "-keyout", str(key), "-out", str(csr), "-subj", subject)
    _openssl(env, "x509", "-req", "-in", str(csr), "-CA", str(pki.ca_pem), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", _VALIDITY_DAYS, "-extfile", str(ext_file),
             "-out", str(crt))  # fmt: skip
    return key, crt


def _run(tool: str, env: dict[str, str], args: tuple[str, ...]) -> None:
    done = subprocess.run([tool, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{tool} {args[0]} failed: {done.stdout}{done.stderr}")


def _openssl(env: dict[str, str], *args: str) -> None:
    _run("openssl", env, args)


def _keytool(env: dict[str, str], *args: str) -> None:
    _run("keytool", env, args)
