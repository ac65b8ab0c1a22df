"""Packing sync batches: every packet fits in 128 KB and unpacks to the same records."""

from __future__ import annotations

import base64
import json
import os

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from cloud_bridge.protocol.packets import (
    MAX_PUBLISH_BYTES,
    PacketError,
    decode,
    parse_sync_packet,
)
from cloud_bridge.protocol.packing import (
    TRUNCATED_MARKER,
    PackContext,
    merge_structure_chunks,
    pack,
    unpack,
    zip_records,
)
from cloud_bridge.protocol.records import Lane, RecordError, state_record, structure_record

CTX = PackContext("C-1", "I-1", "secret-pass")

json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.text(max_size=40)
)
attributes = st.dictionaries(st.text(min_size=1, max_size=12), json_scalar, max_size=8)


def _state(lane: Lane, seq: int, attrs: dict[str, object], entity: str = "light.a") -> dict:
    return state_record(
        lane, seq=seq, ts=1000.0 + seq, entity_id=entity, state="on", attributes=attrs
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    attrs=st.lists(attributes, min_size=1, max_size=60),
    lane=st.sampled_from([Lane.HIGH, Lane.LOW]),
    limit=st.integers(2_000, MAX_PUBLISH_BYTES),
)
def test_pack_round_trip_and_bound(attrs: list[dict[str, object]], lane: Lane, limit: int) -> None:
    records = [_state(lane, i + 1, a, f"sensor.s{i}") for i, a in enumerate(attrs)]
    ctx = PackContext("C-1", "I-1", "pw", max_bytes=limit)
    packets = pack(ctx, lane, records, ts=1700000000.0)
    assert all(len(p) <= limit for p in packets)
    out = [r for p in packets for r in unpack(p)]
    assert out == records
    headers = [parse_sync_packet(decode(p)) for p in packets]
    assert [h.part for h in headers] == list(range(1, len(packets) + 1))
    assert {h.parts for h in headers} == {len(packets)}


def test_large_low_batch_is_split_and_every_packet_fits() -> None:
    # random (incompressible) attribute values force several parts
    records = [
        _state(Lane.LOW, i + 1, {"blob": base64.b64encode(os.urandom(3000)).decode()}, "sensor.x")
        for i in range(200)
    ]
    packets = pack(CTX, Lane.LOW, records, ts=1700000000.0)
    assert len(packets) > 3
    assert all(len(p) <= MAX_PUBLISH_BYTES for p in packets)
    header = json.loads(packets[0])
    assert header["ta"] == "send_sync_query_low"
    assert header["fn"] == "1700000000_D_L_C-1.zip"
    assert [r["seq"] for p in packets for r in unpack(p)] == list(range(1, 201))


def test_single_oversized_state_record_is_truncated_with_marker() -> None:
    big = {"blob": base64.b64encode(os.urandom(200_000)).decode()}
    packets = pack(CTX, Lane.HIGH, [_state(Lane.HIGH, 7, big)], ts=1.0)
    assert len(packets) == 1
    assert len(packets[0]) <= MAX_PUBLISH_BYTES
    (record,) = unpack(packets[0])
    assert record["seq"] == 7
    assert record["attributes"][TRUNCATED_MARKER] is True
    assert record["attributes"]["original_bytes"] > 200_000


def test_oversized_structure_snapshot_is_chunked_and_merges_back() -> None:
    entities = [
        {"entity_id": f"light.l{i}", "noise": base64.b64encode(os.urandom(400)).decode()}
        for i in range(600)
    ]
    snap = structure_record(5, 10.0, [{"area_id": "kitchen"}], [{"id": "d1"}], entities)
    packets = pack(CTX, Lane.STRUCTURE, [snap], ts=10.0)
    assert len(packets) > 1
    assert all(len(p) <= MAX_PUBLISH_BYTES for p in packets)
    assert json.loads(packets[0])["fn"] == "10_S_H_C-1.zip"
    chunks = [r for p in packets for r in unpack(p)]
    assert merge_structure_chunks(chunks[:-1]) is None
    merged = merge_structure_chunks(list(reversed(chunks)))
    assert merged == snap


def test_unchunked_snapshot_merges_to_itself() -> None:
    snap = structure_record(1, 1.0, [], [], [])
    assert merge_structure_chunks([snap]) == snap
    assert merge_structure_chunks([]) is None


def test_pack_refuses_a_record_of_another_lane() -> None:
    with pytest.raises(RecordError):
        pack(CTX, Lane.LOW, [_state(Lane.HIGH, 1, {})], ts=1.0)
    assert pack(CTX, Lane.LOW, [], ts=1.0) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("!!!", "base64"),
        (base64.b64encode(b"not a zip").decode(), "zip"),
    ],
)
def test_unpack_rejects_bad_content(content: str, message: str) -> None:
    packet = json.loads(pack(CTX, Lane.HIGH, [_state(Lane.HIGH, 1, {})], ts=1.0)[0])
    packet["content"] = content
    with pytest.raises(PacketError, match=message):
        unpack(packet)


def test_unpack_rejects_wrong_records() -> None:
    packet = json.loads(pack(CTX, Lane.HIGH, [_state(Lane.HIGH, 1, {})], ts=1.0)[0])
    packet["content"] = base64.b64encode(zip_records([{"lane": "high"}])).decode()
    with pytest.raises(PacketError, match="seq"):
        unpack(packet)
    packet["content"] = base64.b64encode(zip_records([_state(Lane.LOW, 1, {})])).decode()
    with pytest.raises(PacketError, match="lane differs"):
        unpack(packet)


def test_huge_state_string_and_huge_registry_item_are_cut() -> None:
    record = state_record(
        Lane.HIGH, seq=1, ts=1.0, entity_id="light.a", state="x" * 1000, attributes={}
    )
    record["attributes"] = {"blob": base64.b64encode(os.urandom(200_000)).decode()}
    (packet,) = pack(CTX, Lane.HIGH, [record], ts=1.0)
    (out,) = unpack(packet)
    assert len(out["state"]) == 255
    huge = {"id": "dev1", "blob": base64.b64encode(os.urandom(200_000)).decode()}
    snap = structure_record(2, 1.0, [], [huge, {"id": "dev2"}], [])
    packets = pack(CTX, Lane.STRUCTURE, [snap], ts=1.0)
    assert all(len(p) <= MAX_PUBLISH_BYTES for p in packets)
    merged = merge_structure_chunks([r for p in packets for r in unpack(p)])
    assert merged is not None
    assert merged["devices"][0] == {"id": "dev1", TRUNCATED_MARKER: True}


def test_record_that_cannot_fit_at_all_raises() -> None:
    ctx = PackContext("C" * 400, "I", "P", max_bytes=600)
    with pytest.raises(PacketError, match="does not fit"):
        pack(ctx, Lane.LOW, [_state(Lane.LOW, 1, {"a": "b" * 1000})], ts=1.0)


def _zip_raw(name: str, data: bytes) -> str:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_zip_raw("other.json", b"[]"), "no records.json"),
        (_zip_raw("records.json", b"{"), "not valid JSON"),
        (_zip_raw("records.json", b"{}"), "JSON array"),
        (_zip_raw("records.json", b" " * (33 * 1024 * 1024)), "too large"),
    ],
)
def test_unpack_rejects_bad_archives(content: str, message: str) -> None:
    packet = json.loads(pack(CTX, Lane.HIGH, [_state(Lane.HIGH, 1, {})], ts=1.0)[0])
    packet["content"] = content
    with pytest.raises(PacketError, match=message):
        unpack(packet)
