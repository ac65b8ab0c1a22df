"""The command model of contract 1: parse and validate an action packet, build results."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
import json
import math
import re
from typing import Any

from cloud_bridge.protocol.exposure import ExposureDecision, decide

type JSONDict = dict[str, Any]

ORIGINS = ("cloud_ui", "mobile")
MAX_ID_LENGTH = 128
DEFAULT_MAX_TTL = 300.0
_SERVICE_RE = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
_ENTITY_RE = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
# Keys that would widen the target if they were left in the service data.
_TARGET_KEYS = ("entity_id", "device_id", "area_id", "floor_id", "label_id")


class CommandStatus(StrEnum):
    """The status of a command result."""

    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    DUPLICATE = "duplicate"


class CommandError(ValueError):
    """An action packet is malformed; `command_id` is set when the packet carried one."""

    def __init__(self, reason: str, command_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.command_id = command_id


class Expiring:
    """The time-to-live of a command with `iat` and `ttl` (a mixin of the command types)."""

    __slots__ = ()
    iat: float
    ttl: float

    @property
    def expires_at(self) -> float:
        """The epoch second after which the command must not run."""
        return self.iat + self.ttl

    def is_expired(self, now: float, skew: float = 0.0) -> bool:
        """True when `now` is past the expiry (with `skew` seconds of tolerance)."""
        return now > self.expires_at + skew


@dataclass(frozen=True, slots=True)
class Command(Expiring):
    """A validated command from the cloud UI or the mobile app."""

    id: str
    cid: str
    iat: float
    ttl: float
    origin: str
    service: str
    entity_id: str
    data: JSONDict = field(default_factory=dict)

    @property
    def domain(self) -> str:
        """The service's domain (`light` of `light.turn_on`)."""
        return self.service.split(".", 1)[0]

    @property
    def service_name(self) -> str:
        """The service without its domain (`turn_on`)."""
        return self.service.split(".", 1)[1]

    def check_exposure(self, exposed: Collection[str]) -> ExposureDecision:
        """Whether the exposure list lets this command run (exposure.decide)."""
        return decide(self.service, self.entity_id, exposed)


def _number(obj: JSONDict, key: str, cid: str | None) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(f"{key} must be a number", cid)
    number = float(value)
    if not math.isfinite(number):
        raise CommandError(f"{key} must be a finite number", cid)
    return number


def _entity(target: object, cid: str | None) -> str:
    if not isinstance(target, dict):
        raise CommandError("target must be an object with one entity_id", cid)
    extra = sorted(set(target) - {"entity_id"})
    if extra:
        raise CommandError(f"target may only name entity_id, not {', '.join(extra)}", cid)
    entity = target.get("entity_id")
    if isinstance(entity, list):
        if len(entity) != 1:
            raise CommandError("exactly one target entity is allowed", cid)
        entity = entity[0]
    if not isinstance(entity, str) or not _ENTITY_RE.match(entity):
        raise CommandError("target.entity_id must be an entity id like light.kitchen", cid)
    return entity


def action_packet(
    *,
    command_id: str,
    contract_id: str,
    service: str,
    entity_id: str,
    data: JSONDict | None = None,
    iat: float,
    ttl: float = 30.0,
    origin: str = "cloud_ui",
) -> JSONDict:
    """An action packet as the cloud sends it to `inx/<cid>/action` (what
    `parse_command` reads)."""
    return {
        "c": "Command",
        "a": "call_service",
        "id": command_id,
        "cid": contract_id,
        "iat": iat,
        "ttl": ttl,
        "origin": origin,
        "service": service,
        "target": {"entity_id": entity_id},
        "data": dict(data or {}),
    }


@dataclass(frozen=True, slots=True)
class Envelope:
    """The fields every packet on `inx/<cid>/action` carries, validated."""

    id: str
    cid: str
    iat: float
    ttl: float
    origin: str


def load_packet(packet: bytes | str | object) -> JSONDict:
    """The packet as a JSON object; raises CommandError (without an id) otherwise."""
    obj: object = packet
    if isinstance(packet, bytes | str):
        try:
            obj = json.loads(packet)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise CommandError("payload is not valid JSON") from None
    if not isinstance(obj, dict):
        raise CommandError("payload must be a JSON object")
    return obj


def parse_envelope(obj: JSONDict, action: str, max_ttl: float = DEFAULT_MAX_TTL) -> Envelope:
    """Validate the shared fields of an action packet whose `a` must be `action`."""
    raw_id = obj.get("id")
    cid = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_ID_LENGTH else None
    if cid is None:
        raise CommandError(f"id must be a string of 1 to {MAX_ID_LENGTH} characters")
    if obj.get("c") != "Command" or obj.get("a") != action:
        raise CommandError(f"c must be 'Command' and a {action!r}", cid)
    contract = obj.get("cid")
    if not isinstance(contract, str) or not contract:
        raise CommandError("cid must be a non-empty string", cid)
    iat = _number(obj, "iat", cid)
    ttl = _number(obj, "ttl", cid)
    if ttl <= 0:
        raise CommandError("ttl must be positive", cid)
    if ttl > max_ttl:
        raise CommandError(f"ttl must not exceed {max_ttl:g} seconds", cid)
    origin = obj.get("origin")
    if origin not in ORIGINS:
        raise CommandError(f"origin must be one of {', '.join(ORIGINS)}", cid)
    return Envelope(cid, contract, iat, ttl, str(origin))


def parse_command(packet: bytes | str | object, max_ttl: float = DEFAULT_MAX_TTL) -> Command:
    """Validate an action packet; raises CommandError (and nothing else) with the reason."""
    obj = load_packet(packet)
    env = parse_envelope(obj, "call_service", max_ttl)
    cid = env.id
    service = obj.get("service")
    if not isinstance(service, str) or not _SERVICE_RE.match(service):
        raise CommandError("service must look like domain.service", cid)
    entity_id = _entity(obj.get("target"), cid)
    data = obj.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CommandError("data must be an object", cid)
    bad = sorted(k for k in data if k in _TARGET_KEYS)
    if bad:
        raise CommandError(f"data must not name targets ({', '.join(bad)})", cid)
    return Command(
        id=cid,
        cid=env.cid,
        iat=env.iat,
        ttl=env.ttl,
        origin=env.origin,
        service=service,
        entity_id=entity_id,
        data=dict(data),
    )


def result_packet(
    *,
    command_id: str,
    contract_id: str,
    instance_id: str,
    status: CommandStatus,
    ts: float,
    reason: str | None = None,
    state: JSONDict | None = None,
) -> JSONDict:
    """The packet for `inx/instance/return` (it never carries the instance password)."""
    observed = None
    if state is not None:
        observed = {
            "entity_id": state.get("entity_id"),
            "state": state.get("state"),
            "attributes": state.get("attributes", {}),
        }
    return {
        "c": "Command",
        "a": "result",
        "id": command_id,
        "cid": contract_id,
        "iid": instance_id,
        "status": status.value,
        "reason": reason,
        "state": observed,
        "ts": ts,
        "ta": "return",
    }
