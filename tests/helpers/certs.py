"""Throw-away certificates for TLS tests: a CA, a server cert and a client cert.

The server certificate carries SANs for `localhost` and 127.0.0.1 (awscrt checks the
host name), so Mosquitto configured with them can play AWS IoT Core's mutual TLS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cloud_bridge.identity.keys import key_pem, new_key
from devkit.devcloud.ca import DevCA
from tests.helpers.mosquitto import TLSFiles


@dataclass(frozen=True)
class PKI:
    """Paths of everything a mutual-TLS test needs."""

    directory: Path
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that signed nothing here: trusting it must fail

    @property
    def broker_files(self) -> TLSFiles:
        """What tests.helpers.mosquitto.start_broker(tls=...) needs."""
        return TLSFiles(ca=self.ca, cert=self.server_cert, key=self.server_key)


def _key() -> ec.EllipticCurvePrivateKey:
    return new_key()


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key_pem(key))


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _ca(common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca = DevCA.create(common_name)  # the dev cloud's CA: one way to make certificates
    return ca.cert, ca.key


def issue(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    common_name: str,
    *,
    server: bool,
    days: int = 30,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Issue a leaf certificate signed by the CA, valid for `days`."""
    key = _key()
    cert = DevCA(ca_cert, ca_key).sign(key.public_key(), common_name, days=days, server=server)
    return cert, key


def make_pki(directory: Path | None = None, client_cn: str = "bridge-test") -> PKI:
    """Create a CA, a localhost server cert and a client cert as PEM files."""
    directory = directory or Path(tempfile.mkdtemp(prefix="pki-"))
    ca_cert, ca_key = _ca("InspeXtor test CA")
    server_cert, server_key = issue(ca_cert, ca_key, "localhost", server=True)
    client_cert, client_key = issue(ca_cert, ca_key, client_cn, server=False)
    other_cert, _ = _ca("Unrelated CA")
    pki = PKI(
        directory=directory,
        ca=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
        other_ca=directory / "other-ca.pem",
    )
    _write_cert(pki.ca, ca_cert)
    _write_cert(pki.server_cert, server_cert)
    _write_key(pki.server_key, server_key)
    _write_cert(pki.client_cert, client_cert)
    _write_key(pki.client_key, client_key)
    _write_cert(pki.other_ca, other_cert)
    return pki


def foreign_client(directory: Path, name: str = "foreign") -> tuple[Path, Path]:
    """A client certificate and key signed by a CA no broker here trusts."""
    ca_cert, ca_key = _ca("Foreign CA")
    cert, key = issue(ca_cert, ca_key, name, server=False)
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    _write_cert(cert_path, cert)
    _write_key(key_path, key)
    return cert_path, key_path
