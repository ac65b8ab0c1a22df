"""Topic parsing, payload normalisation and value checks of the local device protocol.

Pure Python; see docs/protocol.md, "Topics" and "Payload normalisation".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import json
from typing import Any

from .sitemap import COMMANDABLE, Kind


class TopicType(StrEnum):
    """The last level of a topic under the base."""

    STATUS = "status"
    COMMAND = "command"
    AVAILABILITY = "availability"
    ANNOUNCE = "announce"
    ASK = "ask"


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    """Where a message belongs: device path (empty for the site), subtopic, type."""

    type: TopicType
    device: str
    subtopic: str | None = None


def parse_topic(base: str, topic: str) -> ParsedTopic | None:
    """Split `<base>/<device>/<subtopic>/status` and friends; None when not ours."""
    prefix = base + "/"
    if not topic.startswith(prefix):
        return None
    levels = topic[len(prefix) :].split("/")
    if any(not level for level in levels):
        return None
    try:
        kind = TopicType(levels[-1])
    except ValueError:
        return None
    if kind in (TopicType.STATUS, TopicType.COMMAND):
        if len(levels) < 3:
            return None
        return ParsedTopic(kind, "/".join(levels[:-2]), levels[-2])
    if kind is TopicType.ASK and len(levels) == 1:
        return ParsedTopic(kind, "")
    if len(levels) < 2:
        return None
    return ParsedTopic(kind, "/".join(levels[:-1]))


class MalformedPayload(ValueError):
    """A payload the protocol does not allow; counted and logged, never raised further."""


def normalise(payload: bytes | str) -> dict[str, Any]:
    """Return the status payload as a JSON object with a `value` (Wyze preprocessor).

    Not a JSON object → wrapped as {"value": ...}: JSON scalars keep their JSON type,
    text that is not JSON becomes a string. Raise MalformedPayload for non-UTF-8 bytes,
    JSON arrays and objects without `value`.
    """
    if isinstance(payload, bytes):
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedPayload("payload is not UTF-8") from None
    else:
        text = payload
    try:
        data: Any = json.loads(text)
    except ValueError:
        return {"value": text.strip()}
    if isinstance(data, list):
        raise MalformedPayload("payload is a JSON array")
    if isinstance(data, dict):
        if "value" not in data:
            raise MalformedPayload("payload has no value")
        return data
    return {"value": data}


def _is_int(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def as_number(value: object) -> int | float | None:
    """The value if it is a number (a bool is not), else None: a sensor's state."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _is_number(value: object) -> bool:
    return as_number(value) is not None


def as_bool(value: object) -> bool | None:
    """The value if it is a bool, else None: a binary sensor's state."""
    return value if isinstance(value, bool) else None


def valid_status(kind: Kind, capability: str, value: object) -> bool:
    """Whether a reported value has the right type (and range) for the capability."""
    match capability:
        case "brightness":
            return _is_int(value, 0, 255)
        case "color":
            return (
                isinstance(value, list)
                and len(value) == 4
                and all(_is_int(part, 0, 255) for part in value)
            )
        case "position":
            return _is_int(value, 0, 100)
        case "motion" if kind is Kind.SHADE:
            return value in ("opening", "closing", "stopped")
        case "motion":
            return isinstance(value, bool)
        case "illuminance" | "temperature" | "humidity" | "ozone":
            return _is_number(value)
    return False


def valid_command(kind: Kind, capability: str, value: object) -> bool:
    """Whether HA may send this value to this capability (never to a sensor)."""
    if capability not in COMMANDABLE[kind]:
        return False
    if kind is Kind.SHADE and capability == "motion":
        return value == "stop"
    return valid_status(kind, capability, value)
