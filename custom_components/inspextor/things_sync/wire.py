"""Datagram codec: messages to JSON lists of at most 1,400 bytes, and back.

The source's messages are JSON objects, alone or several in one JSON list per datagram.
Decoding never raises: a datagram that cannot be read becomes an error id (the source's
`err_ip_in_*`), counted by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import Any

from . import sign

MAX_DATAGRAM = 1400
# Room the trailing signature element takes: {"type":"sig","ts":13 digits,"mac":64 hex}.
SIG_ROOM = 110

ERR_REFUSED = "err_ip_in_refused"
ERR_SIGNATURE = "err_ip_in_sig"
ERR_JSON = "err_ip_in_json_req"
ERR_REQUEST = "err_ip_in_req"
ERR_COMMAND = "err_ip_in_cmd"
ERR_THING = "err_ip_in_io"
ERR_VALUE = "err_ip_in_val"
ERR_NOT_OWNER = "err_ip_in_ths_i_use"
ERROR_IDS = (
    ERR_REFUSED,
    ERR_SIGNATURE,
    ERR_JSON,
    ERR_REQUEST,
    ERR_COMMAND,
    ERR_THING,
    ERR_VALUE,
    ERR_NOT_OWNER,
)

IO_COMMANDS = frozenset({"set", "reply", "ask", "pulse", "reply_pulse"})
TYPES = frozenset({"io", "cmd", "cum", "clim"})


def dumps(value: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def pack(messages: list[dict[str, Any]], key: str | None, now: float) -> list[bytes]:
    """Messages as few datagrams as fit, each at most MAX_DATAGRAM bytes.

    A single message too big for one datagram raises ValueError: callers check sizes of
    what users send (command arguments) before it gets here.
    """
    limit = MAX_DATAGRAM - (SIG_ROOM if key else 0) - 2
    datagrams: list[bytes] = []
    batch: list[dict[str, Any]] = []
    size = 0
    for message in messages:
        length = len(dumps(message))
        if length > limit:
            raise ValueError(f"message of {length} bytes does not fit one datagram")
        if batch and size + 1 + length > limit:
            datagrams.append(_seal(batch, key, now))
            batch, size = [], 0
        size += length + (1 if batch else 0)
        batch.append(message)
    if batch:
        datagrams.append(_seal(batch, key, now))
    return datagrams


def _seal(batch: list[dict[str, Any]], key: str | None, now: float) -> bytes:
    items: list[Any] = list(batch)
    if key:
        items.append(sign.signature(key, now, batch))
    return dumps(items)


@dataclass(frozen=True, slots=True)
class Decoded:
    """A datagram's messages, or the error id that refused it."""

    messages: list[Any]
    error: str | None = None
    detail: str = ""


def unpack(data: bytes, key: str | None, now: float) -> Decoded:
    """Read one datagram; never raises."""
    if len(data) > MAX_DATAGRAM:
        return Decoded([], ERR_JSON, f"oversized datagram of {len(data)} bytes")
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        return Decoded([], ERR_JSON, f"not JSON: {err.__class__.__name__}")
    items = value if isinstance(value, list) else [value]
    if key:
        verified = sign.verify(key, items, now)
        if verified is None:
            return Decoded([], ERR_SIGNATURE, "missing, wrong or stale signature")
        items = verified
    return Decoded(items)


def io(cmd: str, thing: str, value: Any, mid: str | None = None) -> dict[str, Any]:
    """An `io` message; bools travel as 1/0 as in the source."""
    message: dict[str, Any] = {"type": "io", "cmd": cmd, "io": thing, "val": wire_value(value)}
    if mid is not None:
        message["mid"] = mid
    return message


def wire_value(value: Any) -> Any:
    """A value as it goes on the wire."""
    return int(value) if isinstance(value, bool) else value
