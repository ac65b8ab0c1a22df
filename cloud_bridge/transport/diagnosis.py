"""Why a cloud connection fails, in words a user can act on (pure, no I/O)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
import socket
import ssl

DUPLICATE_CLIENT_ID = "duplicate_client_id"


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A machine-readable code and a sentence for people."""

    code: str
    reason: str


@dataclass(slots=True)
class KickLoopDetector:
    """Spot the "interrupted/resumed" loop two clients with one client id cause.

    AWS IoT Core (and Mosquitto) disconnect the older connection when a second one uses the
    same client id. Each client then reconnects and kicks the other: `threshold`
    interruptions within `window` seconds, each after less than `short` seconds connected,
    mean a duplicate client id. The diagnosis clears once a connection stays up `stable`
    seconds. Times are monotonic seconds passed in by the caller.
    """

    client_id: str
    threshold: int = 3
    window: float = 60.0
    short: float = 10.0
    stable: float = 60.0
    _connected_at: float | None = None
    _kicks: deque[float] = field(default_factory=deque)
    _active: bool = False

    @property
    def diagnosis(self) -> Diagnosis | None:
        """The current diagnosis, or None when nothing points at a duplicate client id."""
        if not self._active:
            return None
        return Diagnosis(
            DUPLICATE_CLIENT_ID,
            f"another client is connected with client id {self.client_id}: AWS IoT Core "
            "allows one connection per client id and disconnects the older one",
        )

    def connected(self, now: float) -> None:
        """Record that the connection came up."""
        self._connected_at = now

    def interrupted(self, now: float) -> Diagnosis | None:
        """Record an interruption; returns the diagnosis when a kick loop is under way."""
        started, self._connected_at = self._connected_at, None
        if started is None:
            return self.diagnosis
        if now - started >= self.stable:
            self._clear()
        elif now - started < self.short:
            self._kicks.append(now)
        while self._kicks and now - self._kicks[0] > self.window:
            self._kicks.popleft()
        if len(self._kicks) >= self.threshold:
            self._active = True
        return self.diagnosis

    def stable_check(self, now: float) -> bool:
        """Clear the diagnosis once connected for `stable` seconds; True if it cleared."""
        started = self._connected_at
        if self._active and started is not None and now - started >= self.stable:
            self._clear()
            return True
        return False

    @property
    def connected_for_short_time(self) -> bool:
        """True when recent interruptions came after short connections (back off longer)."""
        return bool(self._kicks)

    def _clear(self) -> None:
        self._kicks.clear()
        self._active = False


_AWS_ERRORS: dict[str, Diagnosis] = {
    "AWS_ERROR_MQTT_UNEXPECTED_HANGUP": Diagnosis(
        "server_hangup",
        "the server hung up: usually a duplicate client id, a policy that does not allow "
        "this client id/topic, or a rate limit",
    ),
    "AWS_IO_DNS_INVALID_NAME": Diagnosis(
        "bad_endpoint", "bad endpoint: the host name does not resolve (check the endpoint)"
    ),
    "AWS_IO_DNS_QUERY_FAILED": Diagnosis(
        "bad_endpoint", "bad endpoint: the host name does not resolve (check the endpoint)"
    ),
    "AWS_IO_DNS_NO_ADDRESS_FOR_HOST": Diagnosis(
        "bad_endpoint", "bad endpoint: the host name does not resolve (check the endpoint)"
    ),
    "AWS_IO_SOCKET_CONNECTION_REFUSED": Diagnosis(
        "connection_refused", "connection refused: nothing listens at the endpoint and port"
    ),
    "AWS_IO_SOCKET_TIMEOUT": Diagnosis(
        "timeout", "the endpoint did not answer in time (network or firewall problem)"
    ),
    "AWS_ERROR_MQTT_TIMEOUT": Diagnosis(
        "timeout", "the server did not answer in time (network problem or rate limit)"
    ),
    "AWS_ERROR_MQTT_PROTOCOL_ERROR": Diagnosis(
        "protocol_error",
        "the server closed the connection (protocol error: often a payload over 128 KB)",
    ),
    "AWS_ERROR_MQTT_NOT_CONNECTED": Diagnosis("not_connected", "not connected to the server"),
}

_CERT_HINT = (
    "TLS failure: certificate problem (check the CA file, the device certificate and key, "
    "that the certificate is active and not expired, and the endpoint name)"
)


def refused_certificate(alert: str) -> Diagnosis:
    """The server ended the handshake with an alert about our certificate."""
    return Diagnosis(
        "certificate_rejected",
        f"TLS failure: the server rejected our certificate ({alert.lower().replace('_', ' ')}). "
        "Check that "
        "the device certificate is registered and active at the endpoint and signed by a "
        "CA it trusts, and that it is the certificate of this thing",
    )


def explain_aws_error(name: str, message: str = "") -> Diagnosis:
    """Map an awscrt error name (e.g. AWS_ERROR_MQTT_UNEXPECTED_HANGUP) to a diagnosis."""
    if known := _AWS_ERRORS.get(name):
        return known
    if "TLS" in name or "CERT" in name or "PEM" in name or "X509" in name:
        return Diagnosis("tls_error", f"{_CERT_HINT} [{name}]")
    if "DNS" in name:
        return _AWS_ERRORS["AWS_IO_DNS_INVALID_NAME"]
    detail = f": {message}" if message else ""
    return Diagnosis("transport_error", f"connection failed ({name}{detail})")


def explain_os_error(err: BaseException, host: str, port: int) -> Diagnosis:
    """Map a socket/TLS exception raised while connecting to a diagnosis."""
    if isinstance(err, socket.gaierror):
        return Diagnosis(
            "bad_endpoint", f"bad endpoint: {host} does not resolve (check the host name)"
        )
    if isinstance(err, ssl.SSLCertVerificationError):
        return Diagnosis(
            "tls_error",
            f"TLS failure: the server certificate of {host} is not trusted "
            f"({err.verify_message}); check the CA file and the endpoint name",
        )
    if isinstance(err, ssl.SSLError):
        return Diagnosis("tls_error", f"{_CERT_HINT} ({getattr(err, 'reason', None) or err})")
    if isinstance(err, ConnectionRefusedError):
        return Diagnosis(
            "connection_refused",
            f"connection refused by {host}:{port}: nothing listens there (check host and port)",
        )
    if isinstance(err, TimeoutError):
        return Diagnosis("timeout", f"{host}:{port} did not answer in time")
    return Diagnosis("network_error", f"cannot reach {host}:{port}: {err}")


_CONNACK_REASONS = {
    "Bad user name or password": Diagnosis(
        "bad_credentials", "connection refused: bad credentials (user name or password)"
    ),
    "Not authorized": Diagnosis(
        "not_authorised", "connection refused: not authorised (check the client's policy)"
    ),
    "Client identifier not valid": Diagnosis(
        "client_id_rejected", "connection refused: the client id was rejected"
    ),
    "Server unavailable": Diagnosis(
        "server_unavailable", "connection refused: the server is unavailable"
    ),
    "Unsupported protocol version": Diagnosis(
        "protocol_error", "connection refused: the server does not speak MQTT 3.1.1"
    ),
}


def explain_connack(reason_name: str) -> Diagnosis:
    """Map a refused CONNACK's reason name (paho ReasonCode.getName()) to a diagnosis."""
    return _CONNACK_REASONS.get(
        reason_name, Diagnosis("connection_refused", f"connection refused: {reason_name}")
    )
