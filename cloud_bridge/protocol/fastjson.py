"""JSON on the hot paths through orjson, falling back to the standard library.

orjson parses and writes several times faster than `json` (benchmark 3: HA's event
messages, outbox rows, `records.json`). What orjson refuses and `json` takes (integers
beyond 64 bits, NaN) still goes through, exactly as before; input nested too deeply is a
ValueError either way. Parsers of hostile input (cloud packets) keep the standard library.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: str | bytes) -> Any:
    """Parse JSON text; ValueError when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def dumps_bytes(obj: Any) -> bytes:
    """Compact UTF-8 JSON (no spaces, non-ASCII kept)."""
    try:
        return orjson.dumps(obj)
    except TypeError:  # orjson.JSONEncodeError: a big integer, a non-str key, ...
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def dumps(obj: Any) -> str:
    """Compact JSON text."""
    return dumps_bytes(obj).decode()
