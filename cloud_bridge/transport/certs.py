"""Certificate facts the bridge reports or checks before connecting, read with
`cryptography`: the expiry, the validity dates, whether the key belongs to the cert.

Blocking file I/O throughout: call these from an executor.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from cloud_bridge.transport.diagnosis import Diagnosis


def _load(path: str | Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(Path(path).read_bytes())
    except (OSError, ValueError):
        return None


def certificate_expiry(path: str | Path) -> datetime | None:
    """When the PEM certificate at `path` expires (UTC), or None if it cannot be read."""
    cert = _load(path)
    return cert.not_valid_after_utc if cert is not None else None


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def certificate_problem(
    cert_file: str | Path, key_file: str | Path | None, now: datetime
) -> Diagnosis | None:
    """What is wrong with a device certificate and its key that is knowable before
    connecting: not valid yet, expired, or a key that is not the certificate's.

    Files that cannot be read or parsed are left to the TLS library to report.
    """
    cert = _load(cert_file)
    if cert is None:
        return None
    if now < cert.not_valid_before_utc:
        return Diagnosis(
            "certificate_not_yet_valid",
            f"the device certificate {cert_file} is not yet valid until "
            f"{_when(cert.not_valid_before_utc)} (is this machine's clock right?)",
        )
    if now > cert.not_valid_after_utc:
        return Diagnosis(
            "certificate_expired",
            f"the device certificate {cert_file} expired on "
            f"{_when(cert.not_valid_after_utc)}: make a new one for this thing",
        )
    if key_file is not None and not _key_matches(cert, key_file):
        return Diagnosis(
            "certificate_key_mismatch",
            f"the private key {key_file} does not belong to the device certificate "
            f"{cert_file}: use the key that was made with this certificate",
        )
    return None


def _key_matches(cert: x509.Certificate, key_file: str | Path) -> bool:
    """False only when the key file is readable and holds a different key."""
    try:
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return True  # unreadable or encrypted: the TLS library says what is wrong
    spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    return bool(key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki))
