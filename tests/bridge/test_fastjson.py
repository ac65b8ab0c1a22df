"""The hot-path JSON codec: orjson's speed, the standard library's reach."""

from __future__ import annotations

import json
import math

import pytest

from cloud_bridge.protocol import fastjson


def test_round_trip_is_compact_utf8() -> None:
    record = {"entity_id": "sensor.t", "state": "21.5", "attributes": {"unit": "°C"}}
    assert (
        fastjson.dumps(record)
        == '{"entity_id":"sensor.t","state":"21.5","attributes":{"unit":"°C"}}'
    )
    assert fastjson.loads(fastjson.dumps_bytes(record)) == record


def test_what_orjson_refuses_still_goes_through() -> None:
    # an HA attribute can hold an integer beyond 64 bits; Python's json writes it
    big = {"attributes": {"counter": 2**70}}
    assert fastjson.loads(fastjson.dumps(big)) == big
    # HA's JSON may say NaN (Python's json writes it); parsed as before, not refused
    assert math.isnan(fastjson.loads('{"v": NaN}')["v"])
    assert fastjson.dumps({1: "a"}) == json.dumps({1: "a"}, separators=(",", ":"))


@pytest.mark.parametrize("text", ["not json", "{", '{"a": 1,}', "[" * 100_000 + "]" * 100_000])
def test_bad_or_too_deep_input_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):  # never RecursionError: callers catch ValueError
        fastjson.loads(text)
