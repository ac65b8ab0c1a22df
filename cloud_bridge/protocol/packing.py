"""Records -> zip(records.json) -> base64 -> sync packets, each at most 128 KB; and back.

Every part is self-contained (its own zip), so the cloud can apply parts in any order.
A single state record too large for one packet has its attributes replaced by a marker;
a structure snapshot too large for one packet is split into chunks that share its `seq`
(`chunk`/`chunks` fields, ours) and that the cloud merges with `merge_structure_chunks`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
import io
import json
import math
from typing import Any
import zipfile

from cloud_bridge.protocol import fastjson
from cloud_bridge.protocol.packets import (
    MAX_PUBLISH_BYTES,
    PacketError,
    decode,
    encode,
    parse_sync_packet,
    sync_packet,
)
from cloud_bridge.protocol.records import Lane, Record, RecordError, validate_record

RECORDS_FILE = "records.json"
TRUNCATED_MARKER = "_inspextor_truncated"
# An upper bound on part/parts while sizing: a final packet never has longer numbers.
_SIZING_PART = 10**9
# Refuse archives that would inflate beyond this (zip bombs).
MAX_UNZIPPED_BYTES = 32 * 1024 * 1024
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class PackContext:
    """What every sync packet of a home carries besides the records."""

    contract_id: str
    instance_id: str
    instance_password: str
    max_bytes: int = MAX_PUBLISH_BYTES


def zip_records(records: Sequence[Record]) -> bytes:
    """A deterministic zip archive holding `records.json`."""
    data = fastjson.dumps_bytes(list(records))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(RECORDS_FILE, date_time=_ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)
    return buf.getvalue()


def _packet(
    ctx: PackContext, *, lane: Lane, records: Sequence[Record], ts: float, part: int, parts: int
) -> bytes:
    content = base64.b64encode(zip_records(records)).decode("ascii")
    seqs = [int(r["seq"]) for r in records]
    return encode(
        sync_packet(
            contract_id=ctx.contract_id,
            instance_id=ctx.instance_id,
            instance_password=ctx.instance_password,
            lane=lane,
            content_b64=content,
            ts=ts,
            seq_first=min(seqs),
            seq_last=max(seqs),
            part=part,
            parts=parts,
        )
    )


def _fits(ctx: PackContext, lane: Lane, records: Sequence[Record], ts: float) -> int:
    """The size of the packet sized with the longest part numbers (an upper bound)."""
    return len(
        _packet(ctx, lane=lane, records=records, ts=ts, part=_SIZING_PART, parts=_SIZING_PART)
    )


def _shrink_state(record: Record) -> Record:
    attrs = record.get("attributes") or {}
    size = len(json.dumps(attrs, ensure_ascii=False).encode())
    shrunk = dict(record)
    shrunk["attributes"] = {TRUNCATED_MARKER: True, "original_bytes": size}
    state = shrunk.get("state")
    if isinstance(state, str) and len(state) > 255:
        shrunk["state"] = state[:255]
    return shrunk


def _split_structure(record: Record, pieces: int) -> list[Record]:
    """Split a snapshot's lists into `pieces` chunks sharing the record's seq."""
    keys = ("areas", "devices", "entities")
    items = [(key, item) for key in keys for item in record.get(key, [])]
    size = max(1, math.ceil(len(items) / pieces))
    groups = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
    chunks: list[Record] = []
    for index, group in enumerate(groups, start=1):
        chunk: dict[str, Any] = {k: v for k, v in record.items() if k not in keys}
        for key in keys:
            chunk[key] = [item for k, item in group if k == key]
        chunk["chunk"] = index
        chunk["chunks"] = len(groups)
        chunks.append(chunk)
    return chunks


def _fit_single(ctx: PackContext, lane: Lane, record: Record, ts: float) -> list[Record]:
    """Make one record fit: truncate a state record, chunk a structure snapshot."""
    if lane is not Lane.STRUCTURE:
        shrunk = _shrink_state(record)
        if _fits(ctx, lane, [shrunk], ts) > ctx.max_bytes:
            raise PacketError("a state record does not fit in one packet even when truncated")
        return [shrunk]
    pieces = 2
    while True:
        chunks = _split_structure(record, pieces)
        if all(_fits(ctx, lane, [c], ts) <= ctx.max_bytes for c in chunks):
            return chunks
        if all(len(c["areas"]) + len(c["devices"]) + len(c["entities"]) <= 1 for c in chunks):
            # one registry item alone is larger than a packet: drop its detail
            return [_truncate_items(c) for c in chunks]
        pieces *= 2


def _truncate_items(chunk: Record) -> Record:
    out = dict(chunk)
    for key in ("areas", "devices", "entities"):
        out[key] = [
            {"id": str(item.get("id", item.get("entity_id", "")))[:255], TRUNCATED_MARKER: True}
            if isinstance(item, dict)
            else {TRUNCATED_MARKER: True}
            for item in chunk[key]
        ]
    return out


def _groups(
    ctx: PackContext, lane: Lane, records: Sequence[Record], ts: float
) -> list[list[Record]]:
    size = _fits(ctx, lane, records, ts)
    if size <= ctx.max_bytes:
        return [list(records)]
    if len(records) == 1:
        return [[r] for r in _fit_single(ctx, lane, records[0], ts)]
    pieces = min(len(records), max(2, math.ceil(size / (ctx.max_bytes * 0.9))))
    step = math.ceil(len(records) / pieces)
    out: list[list[Record]] = []
    for start in range(0, len(records), step):
        out.extend(_groups(ctx, lane, records[start : start + step], ts))
    return out


def pack(ctx: PackContext, lane: Lane, records: Sequence[Record], ts: float) -> list[bytes]:
    """Encode a batch of one lane as sync packets, each at most `ctx.max_bytes` bytes."""
    if not records:
        return []
    for record in records:
        if record.get("lane") != lane.value:
            raise RecordError(f"a {record.get('lane')} record in a {lane.value} batch")
    whole = _packet(ctx, lane=lane, records=records, ts=ts, part=1, parts=1)
    if len(whole) <= ctx.max_bytes:  # the usual case: one packet, zipped once
        return [whole]
    groups = _groups(ctx, lane, records, ts)
    return [
        _packet(ctx, lane=lane, records=g, ts=ts, part=i, parts=len(groups))
        for i, g in enumerate(groups, start=1)
    ]


def unzip_records(content_b64: str) -> list[Record]:
    """Decode base64 -> zip -> records.json -> validated records."""
    try:
        raw = base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError):
        raise PacketError("content is not valid base64") from None
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            info = archive.getinfo(RECORDS_FILE)
            if info.file_size > MAX_UNZIPPED_BYTES:
                raise PacketError("records.json is too large")
            data = archive.read(info)
    except KeyError:
        raise PacketError("the zip holds no records.json") from None
    except (zipfile.BadZipFile, OSError, EOFError):
        raise PacketError("content is not a valid zip archive") from None
    try:
        items = json.loads(data)
    except RecursionError:
        raise PacketError("records.json is nested too deeply") from None
    except ValueError:
        raise PacketError("records.json is not valid JSON") from None
    if not isinstance(items, list):
        raise PacketError("records.json must hold a JSON array")
    try:
        return [validate_record(item) for item in items]
    except RecordError as err:
        raise PacketError(f"bad record: {err}") from None


def unpack(packet: bytes | str | dict[str, Any]) -> list[Record]:
    """The records of one sync packet (cloud side); raises PacketError when invalid."""
    obj = packet if isinstance(packet, dict) else decode(packet)
    header = parse_sync_packet(obj)
    records = unzip_records(header.content_b64)
    for record in records:
        if record["lane"] != header.lane.value:
            raise PacketError("a record's lane differs from the packet's lane")
    return records


def merge_structure_chunks(chunks: Sequence[Record]) -> Record | None:
    """Merge the chunks of one structure snapshot; None until every chunk is present.

    A snapshot that was not chunked is returned as it is.
    """
    if not chunks:
        return None
    first = chunks[0]
    if "chunks" not in first:
        return dict(first)
    total = int(first["chunks"])
    by_index = {int(c["chunk"]): c for c in chunks if c.get("seq") == first.get("seq")}
    if set(by_index) != set(range(1, total + 1)):
        return None
    merged: dict[str, Any] = {
        k: v for k, v in first.items() if k not in ("chunk", "chunks", "areas", "devices")
    }
    for key in ("areas", "devices", "entities"):
        merged[key] = [item for i in range(1, total + 1) for item in by_index[i][key]]
    return merged
