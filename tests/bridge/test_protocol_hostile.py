"""Regressions found by the reliability suite's fuzzing (tests/reliability)."""

from __future__ import annotations

import json

import pytest

from cloud_bridge.protocol.packets import PacketError, decode, encode


def test_deeply_nested_payload_is_refused_with_a_reason() -> None:
    with pytest.raises(PacketError, match="nested too deeply"):
        decode(b"[" * 100_000 + b"]" * 100_000)


def test_a_lone_surrogate_id_is_echoed_back_exactly() -> None:
    command_id = json.loads('"\\udcff\\ud800"')
    payload = encode({"id": command_id, "status": "rejected"})
    assert decode(payload)["id"] == command_id
    assert encode({"id": "café"}) == '{"id":"café"}'.encode()
