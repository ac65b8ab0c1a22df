"""Builders and validators for contract 1's control and sync packets (seed field names)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import json
from typing import Any

from cloud_bridge.protocol.records import LANE_FILE_MARKER, Lane

type JSONDict = dict[str, Any]

MAX_PUBLISH_BYTES = 131_072


class PacketError(ValueError):
    """A packet is not valid JSON or lacks a field contract 1 requires."""


class ActivationAction(StrEnum):
    """The two values of the activation packet's `a` field."""

    ACTIVATE = "activate"
    DEREGISTER = "deregisterInstanceAction"


def decode(payload: bytes | str) -> JSONDict:
    """Parse a payload into a JSON object, or raise PacketError."""
    try:
        obj = json.loads(payload)
    except RecursionError:
        raise PacketError("payload is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as err:
        raise PacketError(f"payload is not valid JSON: {err}") from None
    if not isinstance(obj, dict):
        raise PacketError("payload must be a JSON object")
    return obj


def encode(packet: JSONDict) -> bytes:
    """Serialise a packet compactly as UTF-8 JSON.

    A string holding lone surrogates (JSON allows `\\ud800` escapes, UTF-8 cannot carry
    them) is kept as `\\u` escapes, so a reply still echoes such a command id exactly.
    """
    try:
        return json.dumps(packet, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return json.dumps(packet, separators=(",", ":")).encode()


def iso_utc(ts: float) -> str:
    """Epoch seconds as ISO 8601 UTC with a `Z`."""
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _str(obj: JSONDict, key: str, *, optional: bool = False) -> str:
    value = obj.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str) or (not value and not optional):
        raise PacketError(f"{key} must be a non-empty string")
    return value


def _int(obj: JSONDict, key: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PacketError(f"{key} must be an integer")
    return value


# --- activation / deregistration ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InstanceIdentity:
    """Who the home is, as the activation packet states it."""

    contract_id: str
    instance_id: str
    instance_password: str
    name: str = ""
    type: str = "home"
    location: str = ""
    phone: str = ""


def activation_request(
    identity: InstanceIdentity, action: ActivationAction, req: str, attempt: int
) -> JSONDict:
    """The packet published to `inx/activate` (`ta` is "activate" for both actions)."""
    return {
        "c": "Sync",
        "a": action.value,
        "instanceId": identity.instance_id,
        "instancePass": identity.instance_password,
        "contractID": identity.contract_id,
        "type": identity.type,
        "name": identity.name,
        "location": identity.location,
        "phone": identity.phone,
        "ta": "activate",
        "req": req,
        "attempt": attempt,
    }


@dataclass(frozen=True, slots=True)
class ActivationRequest:
    """An activation request as the cloud reads it."""

    action: ActivationAction
    identity: InstanceIdentity
    req: str
    attempt: int


def parse_activation_request(obj: JSONDict) -> ActivationRequest:
    """Validate an `inx/activate` packet (cloud side)."""
    if obj.get("c") != "Sync" or obj.get("ta") != "activate":
        raise PacketError("not an activation packet (c must be 'Sync', ta 'activate')")
    try:
        action = ActivationAction(str(obj.get("a")))
    except ValueError:
        raise PacketError(f"unknown activation action {obj.get('a')!r}") from None
    identity = InstanceIdentity(
        contract_id=_str(obj, "contractID"),
        instance_id=_str(obj, "instanceId"),
        instance_password=_str(obj, "instancePass", optional=True),
        name=_str(obj, "name", optional=True),
        type=_str(obj, "type", optional=True),
        location=_str(obj, "location", optional=True),
        phone=_str(obj, "phone", optional=True),
    )
    req = _str(obj, "req", optional=True)
    attempt = obj.get("attempt", 1)
    if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
        raise PacketError("attempt must be a positive integer")
    return ActivationRequest(action, identity, req, attempt)


@dataclass(frozen=True, slots=True)
class ActivationReply:
    """The cloud's answer on `inx/<cid>/activate`."""

    action: str
    req: str
    success: bool
    reason: str | None
    subscription_state: str
    subscription_expires: str | None


SUBSCRIPTION_STATES = ("active", "expired", "none")


def activation_reply(
    action: ActivationAction,
    req: str,
    *,
    success: bool,
    reason: str | None = None,
    subscription_state: str = "none",
    subscription_expires: str | None = None,
) -> JSONDict:
    """Build the cloud's reply (used by the dev cloud and the tests)."""
    return {
        "a": action.value,
        "req": req,
        "status": "success" if success else "failed",
        "reason": reason,
        "subscription": {"state": subscription_state, "expires": subscription_expires},
    }


def parse_activation_reply(obj: JSONDict) -> ActivationReply:
    """Validate a reply on `inx/<cid>/activate`."""
    status = obj.get("status")
    if status not in ("success", "failed"):
        raise PacketError("status must be 'success' or 'failed'")
    sub = obj.get("subscription")
    if sub is None:
        sub = {}
    if not isinstance(sub, dict):
        raise PacketError("subscription must be an object")
    state = sub.get("state", "none")
    if state not in SUBSCRIPTION_STATES:
        raise PacketError(f"subscription.state must be one of {', '.join(SUBSCRIPTION_STATES)}")
    expires = sub.get("expires")
    if expires is not None and not isinstance(expires, str):
        raise PacketError("subscription.expires must be an ISO string or null")
    reason = obj.get("reason")
    return ActivationReply(
        action=str(obj.get("a", "")),
        req=str(obj.get("req", "")),
        success=status == "success",
        reason=str(reason) if reason is not None else None,
        subscription_state=state,
        subscription_expires=expires,
    )


# --- ping -----------------------------------------------------------------------------


def ping_request(contract_id: str, ts: float, seq: int) -> JSONDict:
    """The packet published to `inx/ping`."""
    return {"contract_id": contract_id, "time": iso_utc(ts), "seq": seq}


def ping_reply(request: JSONDict, server_ts: float) -> JSONDict:
    """The cloud's echo of a ping request (dev cloud and tests)."""
    return {
        "contract_id": _str(request, "contract_id"),
        "time": _str(request, "time"),
        "seq": request.get("seq"),
        "server_time": iso_utc(server_ts),
        "status": "ok",
    }


@dataclass(frozen=True, slots=True)
class PingReply:
    """A validated ping reply."""

    contract_id: str
    time: str
    seq: int | None
    server_time: str | None
    ok: bool


def parse_ping_reply(obj: JSONDict) -> PingReply:
    """Validate a reply on `inx/<cid>/ping`."""
    seq = obj.get("seq")
    if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)):
        raise PacketError("seq must be an integer")
    server_time = obj.get("server_time")
    return PingReply(
        contract_id=_str(obj, "contract_id"),
        time=_str(obj, "time"),
        seq=seq,
        server_time=server_time if isinstance(server_time, str) else None,
        ok=obj.get("status", "ok") == "ok",
    )


# --- sync -----------------------------------------------------------------------------


def sync_file_name(lane: Lane, contract_id: str, ts: float) -> str:
    """`<timestamp>_S_H_<cid>.zip` (structure), `_D_H_` (high), `_D_L_` (low)."""
    return f"{int(ts)}_{LANE_FILE_MARKER[lane]}_{contract_id}.zip"


def sync_packet(
    *,
    contract_id: str,
    instance_id: str,
    instance_password: str,
    lane: Lane,
    content_b64: str,
    ts: float,
    seq_first: int,
    seq_last: int,
    part: int,
    parts: int,
) -> JSONDict:
    """A `setQueryFile` packet for `inx/<cid>/send_sync_query_high|_low`."""
    return {
        "c": "Sync",
        "a": "setQueryFile",
        "cid": contract_id,
        "iid": instance_id,
        "ips": instance_password,
        "content": content_b64,
        "fn": sync_file_name(lane, contract_id, ts),
        "ta": "send_sync_query_low" if lane is Lane.LOW else "send_sync_query_high",
        "lane": lane.value,
        "seq_first": seq_first,
        "seq_last": seq_last,
        "part": part,
        "parts": parts,
    }


@dataclass(frozen=True, slots=True)
class SyncHeader:
    """The fields of a sync packet apart from its content."""

    contract_id: str
    instance_id: str
    instance_password: str
    lane: Lane
    fn: str
    seq_first: int
    seq_last: int
    part: int
    parts: int
    content_b64: str


def parse_sync_packet(obj: JSONDict) -> SyncHeader:
    """Validate a sync packet (cloud side); the content is checked by `packing.unpack`."""
    if obj.get("c") != "Sync" or obj.get("a") != "setQueryFile":
        raise PacketError("not a sync packet (c must be 'Sync', a 'setQueryFile')")
    try:
        lane = Lane(str(obj.get("lane")))
    except ValueError:
        raise PacketError(f"unknown lane {obj.get('lane')!r}") from None
    expected_ta = "send_sync_query_low" if lane is Lane.LOW else "send_sync_query_high"
    if obj.get("ta") != expected_ta:
        raise PacketError(f"ta must be {expected_ta!r} for lane {lane.value}")
    header = SyncHeader(
        contract_id=_str(obj, "cid"),
        instance_id=_str(obj, "iid"),
        instance_password=_str(obj, "ips", optional=True),
        lane=lane,
        fn=_str(obj, "fn"),
        seq_first=_int(obj, "seq_first"),
        seq_last=_int(obj, "seq_last"),
        part=_int(obj, "part"),
        parts=_int(obj, "parts"),
        content_b64=_str(obj, "content"),
    )
    if not 1 <= header.part <= header.parts:
        raise PacketError("part must be between 1 and parts")
    if header.seq_first > header.seq_last:
        raise PacketError("seq_first must not exceed seq_last")
    return header
