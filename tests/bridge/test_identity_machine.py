"""The sans-IO rotation state machine, the identity document and the atomic writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
import stat

from cloud_bridge.identity import rotation as m
from cloud_bridge.identity.keys import (
    certificate_matches_key,
    key_pem,
    make_csr,
    new_key,
    write_atomic,
)
from cloud_bridge.identity.state import ActiveIdentity, IdentityDoc, IdentityStore
from cloud_bridge.identity.sweep import sweep
from devkit.devcloud.ca import DevCA

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_due_inside_the_margin_and_jitter_brings_it_forward() -> None:
    margin = timedelta(days=30)
    assert not m.rotation_due(NOW + timedelta(days=31), NOW, margin=margin)
    assert m.rotation_due(NOW + timedelta(days=29), NOW, margin=margin)
    assert m.rotation_due(NOW + timedelta(days=30, hours=12), NOW, margin=margin, jitter=86_400)


def test_a_full_rotation_walks_every_step_then_rests() -> None:
    r = m.Rotation()
    assert m.next_action(r, due=False, now=0) is m.Action.NOTHING
    assert m.next_action(r, due=True, now=0) is m.Action.MAKE_KEY
    r = m.key_made(r, "k")
    assert m.next_action(r, due=True, now=0) is m.Action.REQUEST_CERTIFICATE
    r = m.certificate_issued(r, "id2", "c")
    assert m.next_action(r, due=True, now=0) is m.Action.TRIAL
    r = m.switched(r, "id1", ("old.crt", "old.key"))
    assert m.next_action(r, due=False, now=0) is m.Action.REPORT_OLD
    assert m.reported(r) == m.Rotation()
    assert m.Rotation.from_dict(r.as_dict()) == r  # what is persisted reads back the same


def test_a_failure_before_the_switch_drops_the_pending_files_and_backs_off() -> None:
    r = m.certificate_issued(m.key_made(m.request(m.Rotation()), "k"), "id2", "c")
    assert m.discarded_files(r) == ("k", "c")
    failed = m.failed(r, m.Failure("trial", "trial_failed", "no ping", at=100.0))
    assert failed.step is m.Step.IDLE
    assert failed.requested  # an on-demand rotation is retried, not forgotten
    assert failed.retry_at == 100.0 + m.BACKOFF_MIN_S
    assert m.next_action(failed, due=True, now=101.0) is m.Action.WAIT
    assert m.next_action(failed, due=True, now=200.0) is m.Action.MAKE_KEY
    again = m.failed(failed, m.Failure("make_key", "x", "y", at=200.0))
    assert again.retry_at == 200.0 + 2 * m.BACKOFF_MIN_S
    assert m.backoff(30) == m.BACKOFF_MAX_S
    assert m.next_action(m.request(again), due=False, now=201.0) is m.Action.MAKE_KEY


def test_a_failed_report_after_the_switch_stays_switched() -> None:
    r = m.switched(m.Rotation(step=m.Step.CERT_ISSUED), "id1", ())
    failed = m.failed(r, m.Failure("report_old", "not_connected", "down", at=5.0))
    assert failed.step is m.Step.SWITCHED
    assert m.discarded_files(failed) == ()
    assert m.next_action(failed, due=False, now=5.0 + m.BACKOFF_MIN_S) is m.Action.REPORT_OLD


def test_keys_are_0600_and_the_document_survives_a_reload(tmp_path: Path) -> None:
    store = IdentityStore(tmp_path / "id")
    key = new_key()
    store.write_key("k.pem.key", key_pem(key))
    assert stat.S_IMODE(store.path("k.pem.key").stat().st_mode) == 0o600
    doc = IdentityDoc(ActiveIdentity("t", "cid", "c.pem.crt", "k.pem.key"), m.Rotation())
    store.save(doc)
    assert store.load() == doc
    assert not store.complete(doc.active)  # type: ignore[arg-type]
    (store.directory / ".identity.json.tmp123").write_text("half")  # a killed write
    (store.directory / "key-orphan.pem.key").write_text("x")
    assert sweep(store, doc) == [".identity.json.tmp123", "key-orphan.pem.key"]
    assert store.load() == doc


def test_the_dev_ca_signs_our_csr_for_our_key(tmp_path: Path) -> None:
    key = new_key()
    cert = DevCA.create().sign_csr(make_csr(key, "home-1"), "cert-1")
    from cryptography.hazmat.primitives import serialization

    pem = cert.public_bytes(serialization.Encoding.PEM)
    assert certificate_matches_key(pem, key)
    assert not certificate_matches_key(pem, new_key())
    write_atomic(tmp_path / "c.pem", pem)
    assert (tmp_path / "c.pem").read_bytes() == pem
