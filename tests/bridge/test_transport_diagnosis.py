"""The pure diagnosis helpers: kick-loop detection, error wording, certificate expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
import socket
import ssl

from cloud_bridge.transport.certs import certificate_expiry
from cloud_bridge.transport.diagnosis import (
    KickLoopDetector,
    explain_aws_error,
    explain_connack,
    explain_os_error,
)
from tests.helpers.certs import make_pki


def kicked(detector: KickLoopDetector, start: float, up_for: float) -> float:
    detector.connected(start)
    detector.interrupted(start + up_for)
    return start + up_for + 1


def test_three_short_connections_in_a_minute_mean_duplicate_client_id() -> None:
    detector = KickLoopDetector("thing-7")
    now = kicked(detector, 0, 2)
    now = kicked(detector, now, 2)
    assert detector.diagnosis is None
    detector.connected(now)
    diag = detector.interrupted(now + 2)
    assert diag is not None
    assert diag.code == "duplicate_client_id"
    assert diag.reason.startswith("another client is connected with client id thing-7")
    assert "one connection per client id" in diag.reason


def test_long_connections_or_spread_out_drops_are_not_a_kick_loop() -> None:
    detector = KickLoopDetector("c")
    now = 0.0
    for _ in range(5):
        now = kicked(detector, now, 30)  # connected 30 s each time: a flaky link
    assert detector.diagnosis is None
    for _ in range(5):
        now = kicked(detector, now + 60, 1)  # short, but one per minute+
    assert detector.diagnosis is None
    assert detector.interrupted(now) is None  # an interruption while not connected


def test_diagnosis_clears_after_a_stable_period() -> None:
    detector = KickLoopDetector("c", stable=60)
    now = 0.0
    for _ in range(3):
        now = kicked(detector, now, 1)
    assert detector.diagnosis is not None
    detector.connected(now)
    assert detector.stable_check(now + 30) is False
    assert detector.diagnosis is not None
    assert detector.stable_check(now + 61) is True
    assert detector.diagnosis is None
    # a stable connection that finally drops also clears it
    now += 100
    for _ in range(3):
        now = kicked(detector, now, 1)
    assert detector.diagnosis is not None
    now = kicked(detector, now, 120)
    assert detector.diagnosis is None


def test_aws_error_names_are_explained() -> None:
    hangup = explain_aws_error("AWS_ERROR_MQTT_UNEXPECTED_HANGUP")
    assert hangup.reason.startswith("the server hung up: usually a duplicate client id")
    assert "rate limit" in hangup.reason
    assert explain_aws_error("AWS_IO_DNS_INVALID_NAME").code == "bad_endpoint"
    assert explain_aws_error("AWS_IO_DNS_SOMETHING_NEW").code == "bad_endpoint"
    tls = explain_aws_error("AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE")
    assert tls.code == "tls_error"
    assert "certificate" in tls.reason
    other = explain_aws_error("AWS_ERROR_SOMETHING", "odd")
    assert other.code == "transport_error"
    assert "AWS_ERROR_SOMETHING: odd" in other.reason


def test_socket_errors_are_explained() -> None:
    assert explain_os_error(socket.gaierror(-2, "x"), "h", 1).code == "bad_endpoint"
    assert explain_os_error(ConnectionRefusedError(), "h", 1).code == "connection_refused"
    assert explain_os_error(TimeoutError(), "h", 1).code == "timeout"
    assert explain_os_error(ssl.SSLError(1, "bad"), "h", 1).code == "tls_error"
    other = explain_os_error(OSError(113, "No route to host"), "h", 8883)
    assert other.code == "network_error"
    assert "h:8883" in other.reason


def test_connack_refusals_are_explained() -> None:
    assert explain_connack("Bad user name or password").code == "bad_credentials"
    assert "not authorised" in explain_connack("Not authorized").reason
    assert explain_connack("Client identifier not valid").code == "client_id_rejected"
    assert explain_connack("Server unavailable").code == "server_unavailable"
    assert explain_connack("Unsupported protocol version").code == "protocol_error"
    assert explain_connack("Banned").reason == "connection refused: Banned"


def test_certificate_expiry(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    expiry = certificate_expiry(pki.client_cert)
    assert expiry is not None
    assert expiry.tzinfo is not None
    assert timedelta(days=29) < expiry - datetime.now(UTC) <= timedelta(days=30)
    assert certificate_expiry(tmp_path / "missing.pem") is None
    assert certificate_expiry(pki.client_key) is None  # not a certificate
