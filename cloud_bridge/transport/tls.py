"""TLS settings shared by both cloud transports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import logging
from pathlib import Path
import ssl

from cloud_bridge.transport.base import TransportError
from cloud_bridge.transport.certs import certificate_problem

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TLSSettings:
    """A CA bundle to trust and, for mutual TLS, a client certificate and key.

    With `client_cert_optional` the certificate and key are presented only when both
    files exist (a broker that wants them gets them, one that does not still works).
    """

    ca_file: str | Path
    cert_file: str | Path | None = None
    key_file: str | Path | None = None
    client_cert_optional: bool = False

    def _client_files(self) -> tuple[str | Path | None, str | Path | None]:
        cert, key = self.cert_file, self.key_file
        if self.client_cert_optional and not (
            cert is not None and Path(cert).is_file() and key is not None and Path(key).is_file()
        ):
            return None, None
        return cert, key

    def check_files(self) -> None:
        """Raise TransportError(code="certificate_missing") naming the first missing file."""
        cert, key = self._client_files()
        missing_files(
            {"CA certificate": self.ca_file, "client certificate": cert, "private key": key}
        )

    def ssl_context(self) -> ssl.SSLContext:
        """Build a client context (blocking file I/O: call it from an executor)."""
        self.check_files()
        cert, key = self._client_files()
        if cert is not None and (problem := certificate_problem(cert, key, datetime.now(UTC))):
            raise TransportError(problem.reason, problem.code)
        if self.client_cert_optional:
            _LOGGER.info(
                "TLS to the broker %s",
                f"presents the client certificate {cert}" if cert else "with no client certificate",
            )
        try:
            context = ssl.create_default_context(cafile=str(self.ca_file))
            if cert is not None:
                context.load_cert_chain(str(cert), str(key) if key is not None else None)
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
