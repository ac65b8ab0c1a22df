"""Keys made at home, CSRs, certificate facts and atomic file writes (blocking I/O)."""

from __future__ import annotations

from datetime import datetime
import os
from pathlib import Path
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

KEY_MODE = 0o600
CERT_MODE = 0o644


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key (AWS IoT accepts ECDSA P-256 CSRs); it never leaves the home."""
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The key as unencrypted PKCS#8 PEM (the file is 0600 in the data folder)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Read a PEM private key written by `key_pem`."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{path} is not an EC private key")
    return key


def make_csr(key: ec.EllipticCurvePrivateKey, common_name: str) -> str:
    """A PEM certificate signing request for `key`."""
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def certificate_not_after(pem: bytes | str) -> datetime:
    """When a PEM certificate expires (UTC); ValueError when it is not one."""
    data = pem.encode() if isinstance(pem, str) else pem
    return x509.load_pem_x509_certificate(data).not_valid_after_utc


def certificate_matches_key(pem: bytes | str, key: ec.EllipticCurvePrivateKey) -> bool:
    """True when the certificate was issued for this key."""
    data = pem.encode() if isinstance(pem, str) else pem
    cert_key = x509.load_pem_x509_certificate(data).public_key()
    return cert_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_atomic(path: Path, data: bytes, mode: int = CERT_MODE) -> None:
    """Write `data` to `path` so a crash leaves either the old file or the new one.

    The temporary file is created with `mode` (a key is never readable by others, not
    even for a moment), flushed to disk, renamed over `path`, and the folder synced.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
