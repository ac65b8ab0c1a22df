"""The simulator's own reading and writing of contract 3 datagrams."""

from __future__ import annotations

from collections import OrderedDict
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

LIMIT = 1400
SKEW_MS = 30_000


def _mac(key: str, ts: int, messages: list[Any]) -> str:
    body = json.dumps(messages, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key.encode(), f"{ts}|{body}".encode(), hashlib.sha256).hexdigest()


def encode(messages: list[dict[str, Any]], key: str | None) -> list[bytes]:
    """Messages in JSON lists of at most LIMIT bytes, signed when there is a key."""
    out: list[bytes] = []
    batch: list[dict[str, Any]] = []
    for message in messages:
        if batch and len(_seal([*batch, message], key)) > LIMIT:
            out.append(_seal(batch, key))
            batch = []
        batch.append(message)
    if batch:
        out.append(_seal(batch, key))
    return out


def _seal(batch: list[dict[str, Any]], key: str | None) -> bytes:
    items: list[Any] = list(batch)
    if key:
        ts = int(time.time() * 1000)
        items.append({"type": "sig", "ts": ts, "mac": _mac(key, ts, batch)})
    return json.dumps(items, separators=(",", ":")).encode()


def decode(data: bytes, key: str | None) -> list[Any] | None:
    """The messages of a datagram, or None when it is unreadable or badly signed."""
    try:
        value = json.loads(data)
    except ValueError:
        return None
    items = value if isinstance(value, list) else [value]
    if not key:
        return items
    if not items or not isinstance(items[-1], dict) or items[-1].get("type") != "sig":
        return None
    sig, messages = items[-1], items[:-1]
    ts = sig.get("ts")
    if not isinstance(ts, int) or abs(time.time() * 1000 - ts) > SKEW_MS:
        return None
    if not hmac.compare_digest(_mac(key, ts, messages), str(sig.get("mac"))):
        return None
    return messages


class Ids:
    """Message ids of one controller life: `<boot>:<seq>`."""

    def __init__(self) -> None:
        self.boot = secrets.token_hex(4)
        self.seq = 0

    def next(self) -> str:
        """A new id."""
        self.seq = (self.seq + 1) % 2**32
        return f"{self.boot}:{self.seq}"


class Seen:
    """The last `size` message ids received: a repeat is one of them."""

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, mid: Any) -> bool:
        """Remember mid; False when it was already there. No id: always new."""
        if not isinstance(mid, str):
            return True
        if mid in self._ids:
            return False
        self._ids[mid] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


def later(mid: Any, than: Any) -> bool:
    """Is mid after than, from the same sender life (wrap-aware)? Unknown: yes."""
    if not isinstance(mid, str) or not isinstance(than, str):
        return True
    boot, _, seq = mid.partition(":")
    old_boot, _, old_seq = than.partition(":")
    if boot != old_boot or not seq.isdigit() or not old_seq.isdigit():
        return True
    return 0 < (int(seq) - int(old_seq)) % 2**32 < 2**31
