"""The optional per-site shared key: every datagram signed, with a timestamp window.

A signed datagram is the JSON list of messages followed by one last element
`{"type": "sig", "ts": <unix milliseconds, integer>, "mac": "<hex>"}`; `mac` is HMAC-SHA256 over
`"<ts>|" + canonical JSON of the other elements` (sorted keys, `,`/`:` separators, ASCII).
A receiver refuses a datagram whose signature is missing or wrong, or whose `ts` is more
than `window` seconds from its own clock (a replay of an old capture).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

SIG_TYPE = "sig"
DEFAULT_SKEW = 30.0


def canonical(messages: list[Any]) -> bytes:
    """The bytes the signature covers."""
    return json.dumps(messages, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def mac(key: str, ts: int, messages: list[Any]) -> str:
    """The hex HMAC of messages sent at ts (milliseconds)."""
    return hmac.new(key.encode(), f"{ts}|".encode() + canonical(messages), "sha256").hexdigest()


def signature(key: str, now: float, messages: list[Any]) -> dict[str, Any]:
    """The trailing element that signs messages sent at `now` (seconds)."""
    ts = int(now * 1000)
    return {"type": SIG_TYPE, "ts": ts, "mac": mac(key, ts, messages)}


def verify(key: str, items: list[Any], now: float, skew: float = DEFAULT_SKEW) -> list[Any] | None:
    """The messages of a correctly signed, fresh datagram, else None."""
    if not items:
        return None
    sig = items[-1]
    if not isinstance(sig, dict) or sig.get("type") != SIG_TYPE:
        return None
    ts, given = sig.get("ts"), sig.get("mac")
    if isinstance(ts, bool) or not isinstance(ts, int) or not isinstance(given, str):
        return None
    if abs(now * 1000 - ts) > skew * 1000:
        return None
    messages = items[:-1]
    if not hmac.compare_digest(mac(key, ts, messages), given):
        return None
    return messages
