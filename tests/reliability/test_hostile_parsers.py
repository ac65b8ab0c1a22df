"""Property-based: every parser the bridge and the dev cloud run on untrusted bytes.

Each one either returns a valid object or raises its own documented error with a reason;
nothing else escapes (no RecursionError, UnicodeDecodeError, KeyError, TypeError...).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
import io
import json
from typing import Any
import zipfile

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from cloud_bridge.protocol.action_packets import CommandError, parse_command
from cloud_bridge.protocol.packets import (
    PacketError,
    decode,
    parse_activation_reply,
    parse_activation_request,
    parse_ping_reply,
    parse_sync_packet,
)
from cloud_bridge.protocol.packing import unpack, unzip_records
from cloud_bridge.protocol.records import RecordError, validate_record
from devkit.devcloud.service import parse_result
from tests.reliability import table

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)
FIELDS = [
    "c",
    "a",
    "id",
    "cid",
    "iat",
    "ttl",
    "origin",
    "service",
    "target",
    "data",
    "req",
    "status",
    "reason",
    "lane",
    "content",
    "seq",
    "ts",
    "iid",
    "ips",
    "part",
    "parts",
]


def deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nasty_payloads() -> st.SearchStrategy[bytes]:
    """Raw bytes, bad UTF-8, deep nesting, huge strings, and packets with wrong types."""
    packets = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=12)
    return st.one_of(
        st.binary(max_size=300),
        st.binary(max_size=50).map(lambda b: b'{"id": "' + b + b'\xff\xfe"}'),
        st.integers(min_value=500, max_value=200_000).map(deep),
        st.integers(min_value=500, max_value=200_000).map(
            lambda d: b'{"id":"x","data":' + b'{"a":' * d + b"1" + b"}" * d + b"}"
        ),
        st.integers(min_value=1, max_value=3).map(
            lambda n: json.dumps({"id": "x" * n * 400_000}).encode()
        ),
        packets.map(lambda p: json.dumps(p, allow_nan=True).encode()),
        json_values.map(lambda v: json.dumps(v).encode()),
    )


FOUND: dict[str, int] = {}
CRASHES: list[str] = []


def decode_or_none(payload: bytes) -> dict[str, Any]:
    """`decode` under the same rule; an undecodable payload becomes an empty packet."""
    try:
        return decode(payload)
    except PacketError as err:
        reason = str(err)
        assert reason
        return {}
    except Exception as err:
        CRASHES.append(f"decode: {type(err).__name__}")
        raise


def expect_only(errors: tuple[type[Exception], ...], func: Any, *args: Any) -> None:
    try:
        func(*args)
    except errors as err:
        reason = str(err)
        assert reason, f"{func.__name__} refused without a reason"
    except Exception as err:
        CRASHES.append(f"{func.__name__}: {type(err).__name__}")
        raise


@pytest.fixture(autouse=True, scope="module")
def _table_row() -> Iterator[None]:
    yield
    table.record(
        "hostile bytes into bridge and dev cloud parsers (hypothesis)",
        sum(FOUND.values()),
        0,
        0,
        len(CRASHES),
        "action, activation/ping reply, result, sync header, zip, records"
        + (f"; first crash {CRASHES[0]}" if CRASHES else ""),
    )


@SETTINGS
@given(nasty_payloads())
def test_action_packets(payload: bytes) -> None:
    FOUND["action"] = FOUND.get("action", 0) + 1
    expect_only((CommandError,), parse_command, payload)


@SETTINGS
@given(nasty_payloads())
def test_activation_and_ping_replies(payload: bytes) -> None:
    FOUND["reply"] = FOUND.get("reply", 0) + 1
    for parser in (parse_activation_reply, parse_ping_reply, parse_activation_request):
        expect_only((PacketError,), parser, decode_or_none(payload))


@SETTINGS
@given(nasty_payloads())
def test_dev_cloud_results_and_sync_headers(payload: bytes) -> None:
    FOUND["cloud"] = FOUND.get("cloud", 0) + 1
    expect_only((PacketError,), parse_result, payload)
    expect_only((PacketError,), parse_sync_packet, decode_or_none(payload))
    expect_only((PacketError,), unpack, payload)


def zipped(data: bytes, name: str = "records.json") -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return base64.b64encode(buffer.getvalue()).decode()


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=200),
        nasty_payloads().map(zipped),
        st.lists(
            st.dictionaries(
                st.sampled_from(
                    [
                        *FIELDS,
                        "entity_id",
                        "state",
                        "attributes",
                        "areas",
                        "devices",
                        "entities",
                        "chunk",
                        "chunks",
                        "kind",
                    ]
                ),
                json_values,
                max_size=10,
            ),
            max_size=5,
        ).map(lambda items: zipped(json.dumps(items).encode())),
        st.binary(max_size=100).map(lambda b: zipped(b, "other.json")),
    )
)
def test_sync_file_contents(content: str) -> None:
    FOUND["sync"] = FOUND.get("sync", 0) + 1
    expect_only((PacketError,), unzip_records, content)


@SETTINGS
@given(json_values)
def test_records(obj: Any) -> None:
    FOUND["record"] = FOUND.get("record", 0) + 1
    expect_only((RecordError,), validate_record, obj)


def test_zip_bomb_is_refused() -> None:
    bomb = zipped(b"[" + b" " * 60_000_000 + b"]")
    with pytest.raises(PacketError, match="too large"):
        unzip_records(bomb)
