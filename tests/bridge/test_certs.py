"""Certificate checks the bridge makes before connecting (transport/certs.py, tls.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloud_bridge.transport.base import TransportError
from cloud_bridge.transport.certs import certificate_expiry, certificate_problem
from cloud_bridge.transport.tls import TLSSettings
from tests.helpers.certs import PKI, foreign_client


def test_dates_and_key_are_checked(pki: PKI, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    assert certificate_problem(pki.client_cert, pki.client_key, now) is None
    expires = certificate_expiry(pki.client_cert)
    assert expires is not None
    late = certificate_problem(pki.client_cert, None, expires + timedelta(seconds=1))
    assert late is not None
    assert late.code == "certificate_expired"
    assert f"expired on {expires:%Y-%m-%d %H:%M} UTC" in late.reason
    early = certificate_problem(pki.client_cert, None, now - timedelta(days=1))
    assert early is not None
    assert "is not yet valid until" in early.reason
    _, other_key = foreign_client(tmp_path)
    wrong = certificate_problem(pki.client_cert, other_key, now)
    assert wrong is not None
    assert wrong.code == "certificate_key_mismatch"


def test_unreadable_files_are_left_to_the_tls_library(pki: PKI, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    assert certificate_problem(junk, pki.client_key, now) is None
    assert certificate_problem(pki.client_cert, junk, now) is None
    assert certificate_expiry(junk) is None


def test_mqtt_tls_names_a_key_of_another_certificate(pki: PKI, tmp_path: Path) -> None:
    _, other_key = foreign_client(tmp_path)
    settings = TLSSettings(pki.ca, pki.client_cert, other_key)
    with pytest.raises(TransportError) as err:
        settings.ssl_context()
    assert err.value.code == "certificate_key_mismatch"
