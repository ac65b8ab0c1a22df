"""Certificate facts the bridge reports (expiry), read with `cryptography`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography import x509


def certificate_expiry(path: str | Path) -> datetime | None:
    """When the PEM certificate at `path` expires (UTC), or None if it cannot be read.

    Blocking file I/O: call it from an executor.
    """
    try:
        data = Path(path).read_bytes()
        cert = x509.load_pem_x509_certificate(data)
    except (OSError, ValueError):
        return None
    return cert.not_valid_after_utc
