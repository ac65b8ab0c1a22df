"""Change records of the three sync lanes (what `records.json` holds), and which lane an
entity's changes go to."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

type JSONDict = dict[str, Any]
type Record = dict[str, Any]


class Lane(StrEnum):
    """A sync lane, in priority order."""

    STRUCTURE = "structure"
    HIGH = "high"
    LOW = "low"


CONTROLLABLE_DOMAINS = frozenset(
    {
        "alarm_control_panel",
        "button",
        "climate",
        "cover",
        "fan",
        "humidifier",
        "input_boolean",
        "input_button",
        "input_number",
        "input_select",
        "light",
        "lock",
        "media_player",
        "number",
        "select",
        "siren",
        "switch",
        "vacuum",
        "valve",
        "water_heater",
    }
)
SENSOR_DOMAINS = frozenset({"sensor", "binary_sensor"})


def lane_for(entity_id: str) -> Lane | None:
    """High for controllable entities, low for sensors, None for what we do not sync."""
    domain = entity_id.partition(".")[0]
    if domain in CONTROLLABLE_DOMAINS:
        return Lane.HIGH
    if domain in SENSOR_DOMAINS:
        return Lane.LOW
    return None


# `fn` marker of each lane, as the seed: _S_H_ structure, _D_H_ high, _D_L_ low.
LANE_FILE_MARKER: dict[Lane, str] = {Lane.STRUCTURE: "S_H", Lane.HIGH: "D_H", Lane.LOW: "D_L"}


class RecordError(ValueError):
    """A record does not have the shape contract 1 requires."""


def structure_record(
    seq: int,
    ts: float,
    areas: list[JSONDict],
    devices: list[JSONDict],
    entities: list[JSONDict],
) -> Record:
    """A full structure snapshot (the cloud replaces its copy)."""
    return {
        "lane": Lane.STRUCTURE.value,
        "seq": seq,
        "ts": ts,
        "kind": "snapshot",
        "areas": areas,
        "devices": devices,
        "entities": entities,
    }


def rules_record(seq: int, ts: float, rules: list[JSONDict]) -> Record:
    """The cloud-owned rules as the home holds them (the cloud replaces its list)."""
    return {"lane": Lane.STRUCTURE.value, "seq": seq, "ts": ts, "kind": "rules", "rules": rules}


def state_record(
    lane: Lane, *, seq: int, ts: float, entity_id: str, state: str | None, attributes: JSONDict
) -> Record:
    """A high (controllable entity) or low (sensor reading) state record.

    `state` is None when the entity was removed from Home Assistant.
    """
    if lane is Lane.STRUCTURE:
        raise RecordError("a state record belongs to the high or the low lane")
    return {
        "lane": lane.value,
        "seq": seq,
        "ts": ts,
        "entity_id": entity_id,
        "state": state,
        "attributes": attributes,
    }


def snapshot_reference(
    seq: int, ts: float, *, store: str, key: str, size: int, sha256: str, counts: JSONDict
) -> Record:
    """A structure snapshot too large for MQTT, put whole in a store: where it is, its
    size and SHA-256 (the cloud fetches it, checks both, and applies it as a snapshot)."""
    return {
        "lane": Lane.STRUCTURE.value,
        "seq": seq,
        "ts": ts,
        "kind": "snapshot_ref",
        "store": store,
        "key": key,
        "size": size,
        "sha256": sha256,
        "counts": counts,
    }


def _validate_reference(obj: JSONDict) -> None:
    if not isinstance(obj.get("store"), str) or not isinstance(obj.get("key"), str):
        raise RecordError("a snapshot reference names its store and key")
    size = obj.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise RecordError("a snapshot reference's size must be a non-negative integer")
    digest = obj.get("sha256")
    if not isinstance(digest, str) or len(digest) != 64 or digest.strip("0123456789abcdef"):
        raise RecordError("a snapshot reference's sha256 must be 64 lowercase hex digits")


def validate_record(obj: object) -> Record:
    """Check a record from the wire; return it or raise RecordError saying what is wrong."""
    if not isinstance(obj, dict):
        raise RecordError("a record must be a JSON object")
    try:
        lane = Lane(str(obj.get("lane")))
    except ValueError:
        raise RecordError(f"unknown lane {obj.get('lane')!r}") from None
    seq = obj.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise RecordError("seq must be a positive integer")
    ts = obj.get("ts")
    if not isinstance(ts, int | float) or isinstance(ts, bool):
        raise RecordError("ts must be a number")
    if lane is Lane.STRUCTURE and obj.get("kind") == "snapshot_ref":
        _validate_reference(obj)
    elif lane is Lane.STRUCTURE and obj.get("kind") == "rules":
        if not isinstance(obj.get("rules"), list):
            raise RecordError("rules must be a list")
    elif lane is Lane.STRUCTURE:
        if obj.get("kind") != "snapshot":
            raise RecordError(
                "a structure record must have kind 'snapshot', 'snapshot_ref' or 'rules'"
            )
        for key in ("areas", "devices", "entities"):
            if not isinstance(obj.get(key), list):
                raise RecordError(f"{key} must be a list")
    else:
        if not isinstance(obj.get("entity_id"), str) or not obj["entity_id"]:
            raise RecordError("entity_id must be a non-empty string")
        if obj.get("state") is not None and not isinstance(obj.get("state"), str):
            raise RecordError("state must be a string or null")
        if not isinstance(obj.get("attributes"), dict):
            raise RecordError("attributes must be an object")
    return obj
