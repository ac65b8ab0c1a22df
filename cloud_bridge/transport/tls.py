"""TLS settings shared by both cloud transports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import ssl

from cloud_bridge.transport.base import TransportError


@dataclass(frozen=True, slots=True)
class TLSSettings:
    """A CA bundle to trust and, for mutual TLS, a client certificate and key."""

    ca_file: str | Path
    cert_file: str | Path | None = None
    key_file: str | Path | None = None

    def check_files(self) -> None:
        """Raise TransportError(code="certificate_missing") naming the first missing file."""
        missing_files(
            {
                "CA certificate": self.ca_file,
                "client certificate": self.cert_file,
                "private key": self.key_file,
            }
        )

    def ssl_context(self) -> ssl.SSLContext:
        """Build a client context (blocking file I/O: call it from an executor)."""
        self.check_files()
        try:
            context = ssl.create_default_context(cafile=str(self.ca_file))
            if self.cert_file is not None:
                key = str(self.key_file) if self.key_file is not None else None
                context.load_cert_chain(str(self.cert_file), key)
        except (ssl.SSLError, ValueError) as err:
            raise TransportError(
                f"could not load the TLS certificates: {err}", "certificate_invalid"
            ) from err
        return context


def missing_files(files: dict[str, str | Path | None]) -> None:
    """Raise TransportError(code="certificate_missing") for the first file that is absent."""
    for label, path in files.items():
        if path is not None and not Path(path).is_file():
            raise TransportError(f"{label} file not found: {path}", "certificate_missing")
