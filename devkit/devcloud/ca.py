"""The dev cloud's certificate authority: it signs the claim certificate and every CSR.

It plays the Amazon CA for the dev cloud's Mosquitto (`require_certificate true`): the
broker trusts it, and its certificate revocation list is how a certificate the dev cloud
marks inactive gets refused (Mosquitto 2 rereads `crlfile` on SIGHUP).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cloud_bridge.identity.keys import key_pem, new_key, write_atomic

type Key = ec.EllipticCurvePrivateKey
_CA_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class DevCA:
    """A CA key and certificate, and the serials it has revoked."""

    cert: x509.Certificate
    key: Key
    revoked: set[int] = field(default_factory=set)

    @classmethod
    def create(cls, common_name: str = "InspeXtor dev CA") -> DevCA:
        """A new self-signed CA valid for a year."""
        key = new_key()
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_CA_USAGE, critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    @property
    def cert_pem(self) -> bytes:
        """The CA certificate (what clients and the broker trust)."""
        return _pem(self.cert)

    def sign(
        self,
        public_key: ec.EllipticCurvePublicKey,
        common_name: str,
        *,
        days: float = 365,
        server: bool = False,
    ) -> x509.Certificate:
        """Sign a leaf certificate for `public_key`."""
        now = datetime.now(UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        return builder.sign(self.key, hashes.SHA256())

    def sign_csr(self, csr_pem: str, common_name: str, *, days: float = 365) -> x509.Certificate:
        """Sign a CSR (ValueError when it is not a valid, self-signed EC CSR)."""
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        public_key = csr.public_key()
        if not csr.is_signature_valid or not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise ValueError("the CSR's signature is invalid or its key is not EC")
        return self.sign(public_key, common_name, days=days)

    def write_pair(
        self, directory: Path, name: str, *, server: bool = False, days: float = 365
    ) -> tuple[Path, Path]:
        """Make a key and a certificate for `name`; write `<name>.pem` and `<name>.key`."""
        key = new_key()
        cert = self.sign(key.public_key(), name, server=server, days=days)
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
        write_atomic(cert_path, _pem(cert))
        write_atomic(key_path, key_pem(key), 0o600)
        return cert_path, key_path

    def write_crl(self, path: Path) -> None:
        """Write the CRL naming every revoked serial (atomically)."""
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - timedelta(minutes=1))
            .next_update(now + timedelta(days=30))
        )
        for serial in sorted(self.revoked):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(now - timedelta(minutes=1))
                .build()
            )
        crl = builder.sign(self.key, hashes.SHA256())
        write_atomic(path, crl.public_bytes(serialization.Encoding.PEM))
