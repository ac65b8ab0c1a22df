"""The durable identity document: which certificate is active, and the rotation record.

It lives in `<data>/identity/identity.json`, next to the certificate and key files it
names, and is always replaced atomically: at any instant it names one complete pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from pathlib import Path
from typing import Any

from cloud_bridge.identity.keys import CERT_MODE, KEY_MODE, write_atomic
from cloud_bridge.identity.rotation import Rotation

DOC_NAME = "identity.json"


@dataclass(frozen=True, slots=True)
class ActiveIdentity:
    """The certificate the bridge connects with."""

    thing_name: str
    cert_id: str
    cert_file: str
    key_file: str

    def as_dict(self) -> dict[str, str]:
        """JSON form."""
        return {
            "thing_name": self.thing_name,
            "cert_id": self.cert_id,
            "cert_file": self.cert_file,
            "key_file": self.key_file,
        }


@dataclass(frozen=True, slots=True)
class IdentityDoc:
    """Everything the identity folder's document holds."""

    active: ActiveIdentity | None = None
    rotation: Rotation = field(default_factory=Rotation)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "active": self.active.as_dict() if self.active else None,
            "rotation": self.rotation.as_dict(),
        }


class IdentityStore:
    """The identity folder: the document and the files it names (blocking I/O)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, name: str) -> Path:
        """The full path of a file named in the document."""
        return self.directory / name

    def load(self) -> IdentityDoc:
        """The document, or an empty one when there is none yet."""
        try:
            data = json.loads(self.path(DOC_NAME).read_text())
        except FileNotFoundError:
            return IdentityDoc()
        active = data.get("active")
        return IdentityDoc(
            active=ActiveIdentity(**active) if isinstance(active, dict) else None,
            rotation=Rotation.from_dict(data.get("rotation") or {}),
        )

    def save(self, doc: IdentityDoc) -> None:
        """Replace the document atomically."""
        payload = json.dumps(doc.as_dict(), indent=2, sort_keys=True).encode()
        write_atomic(self.path(DOC_NAME), payload, CERT_MODE)

    def write_key(self, name: str, pem: bytes) -> None:
        """Write a private key (0600, atomically)."""
        write_atomic(self.path(name), pem, KEY_MODE)

    def write_cert(self, name: str, pem: bytes) -> None:
        """Write a certificate (atomically)."""
        write_atomic(self.path(name), pem, CERT_MODE)

    def remove(self, *names: str) -> None:
        """Delete files the document no longer names."""
        for name in names:
            self.path(name).unlink(missing_ok=True)

    def complete(self, active: ActiveIdentity) -> bool:
        """True when both files of `active` are there."""
        return self.path(active.cert_file).is_file() and self.path(active.key_file).is_file()
