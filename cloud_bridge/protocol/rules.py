"""The rule form of contract 1: interactions and schedules, parsed and validated (pure).

A rule is small and declarative, never raw Home Assistant YAML:

    {"rule_id": "morning_shade", "kind": "schedule", "name": "Open the bedroom shade",
     "trigger": {"type": "time", "at": "07:00", "weekdays": ["mon", "fri"]},
     "conditions": [{"type": "state", "entity_id": "light.kitchen", "state": "off"}],
     "actions": [{"service": "cover.open_cover", "entity_id": "cover.bedroom_shade"}]}

Triggers: `state` (entity_id, to, from, for seconds), `threshold` (entity_id, above,
below, attribute), `time` (at HH:MM[:SS], weekdays), `sun` (event sunrise/sunset, offset
seconds). A schedule has a time or sun trigger, an interaction a state or threshold one.
Conditions: state, threshold, time (after, before, weekdays), sun (after, before).
Actions: a service of the target's own domain on one entity with flat data, or a delay.
No templates anywhere, no unknown field, limits on every count and size: `parse_rule`
raises RuleError with the exact reason. Exposure is checked by `exposure_problem`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
import json
import math
import re
from typing import Any

from cloud_bridge.protocol.exposure import FORBIDDEN_DOMAINS, decide

type JSONDict = dict[str, Any]

RULE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,47}$")
ENTITY_RE = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
SERVICE_RE = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
TEMPLATE_MARKS = ("{{", "{%", "{#")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KINDS = {"schedule": ("time", "sun"), "interaction": ("state", "threshold")}
SUN_EVENTS = ("sunrise", "sunset")
TARGET_KEYS = frozenset({"entity_id", "device_id", "area_id", "floor_id", "label_id"})
MAX_CONDITIONS = 8
MAX_ACTIONS = 8
MAX_DATA_KEYS = 8
MAX_LIST_ITEMS = 8
MAX_TEXT = 100
MAX_RULE_BYTES = 4096
MAX_DELAY = 3600
MAX_FOR = 86400
MAX_SUN_OFFSET = 4 * 3600


class RuleError(ValueError):
    """A rule is malformed or not allowed; the message is the reason the cloud is told."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A validated rule in our form (`form` is the normalised JSON of it)."""

    rule_id: str
    kind: str
    name: str
    form: JSONDict

    def entities(self) -> Iterator[str]:
        """Every entity the rule reads or acts on (trigger, conditions, action targets)."""
        if entity := self.form["trigger"].get("entity_id"):
            yield entity
        for cond in self.form["conditions"]:
            if entity := cond.get("entity_id"):
                yield entity
        for action in self.form["actions"]:
            if entity := action.get("entity_id"):
                yield entity


def exposure_problem(rule: Rule, exposed: Collection[str]) -> str | None:
    """Why the exposure list does not allow this rule, or None when it does."""
    for action in rule.form["actions"]:
        if "service" in action:
            verdict = decide(action["service"], action["entity_id"], exposed)
            if not verdict.allowed:
                return f"action {action['service']} on {action['entity_id']}: {verdict.reason}"
    for entity in rule.entities():
        domain = entity.partition(".")[0]
        if domain in FORBIDDEN_DOMAINS:
            return f"{domain} entities are never used by cloud rules"
        if entity not in exposed:
            return f"{entity} is not exposed to the cloud"
    return None


def _no_template(value: object, where: str) -> None:
    if isinstance(value, str) and any(mark in value for mark in TEMPLATE_MARKS):
        raise RuleError(f"{where}: templates are not allowed")


def _fields(
    obj: object, where: str, allowed: Collection[str], required: Collection[str]
) -> JSONDict:
    if not isinstance(obj, dict):
        raise RuleError(f"{where} must be an object")
    unknown = sorted(str(key) for key in obj if key not in allowed)
    if unknown:
        raise RuleError(f"{where}: unknown field {unknown[0]}")
    missing = [key for key in required if key not in obj]
    if missing:
        raise RuleError(f"{where}: {missing[0]} is required")
    return obj


def _text(value: object, where: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise RuleError(f"{where} must be a text of 1 to {limit} characters")
    _no_template(value, where)
    return value


def _entity(value: object, where: str) -> str:
    if not isinstance(value, str) or not ENTITY_RE.match(value):
        raise RuleError(f"{where} must be one entity id like light.kitchen")
    return value


def _number(value: object, where: str, low: float = -1e9, high: float = 1e9) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RuleError(f"{where} must be a number")
    if not low <= value <= high:
        raise RuleError(f"{where} must be between {low:g} and {high:g}")
    return float(value) if isinstance(value, float) else int(value)


def _whole(value: object, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RuleError(f"{where} must be a whole number from {low} to {high}")
    return value


def _time(value: object, where: str) -> str:
    if not isinstance(value, str) or not TIME_RE.match(value):
        raise RuleError(f"{where} must be a time HH:MM or HH:MM:SS")
    return value if len(value) == 8 else f"{value}:00"


def _weekdays(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > 7:
        raise RuleError(f"{where} must be a list of 1 to 7 of {', '.join(WEEKDAYS)}")
    for day in value:
        if day not in WEEKDAYS:
            raise RuleError(f"{where}: {day!r} is not one of {', '.join(WEEKDAYS)}")
    return [day for day in WEEKDAYS if day in value]


def _state_value(value: object, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RuleError(f"{where} must be a state such as on, off or open")
    return _text(str(value), where, 64)


def _bounds(obj: JSONDict, where: str) -> JSONDict:
    out: JSONDict = {"entity_id": _entity(obj["entity_id"], f"{where}.entity_id")}
    for key in ("above", "below"):
        if key in obj:
            out[key] = _number(obj[key], f"{where}.{key}")
    if "above" not in out and "below" not in out:
        raise RuleError(f"{where}: above or below is required")
    if "above" in out and "below" in out and out["above"] >= out["below"]:
        raise RuleError(f"{where}: above must be less than below")
    if "attribute" in obj:
        attribute = _text(obj["attribute"], f"{where}.attribute", 64)
        if not re.fullmatch(r"[a-z0-9_]+", attribute):
            raise RuleError(f"{where}.attribute must be an attribute name like brightness")
        out["attribute"] = attribute
    return out


def _trigger(obj: object) -> JSONDict:
    kind = obj.get("type") if isinstance(obj, dict) else None
    where = "trigger"
    if kind == "state":
        raw = _fields(obj, where, ("type", "entity_id", "to", "from", "for"), ("entity_id",))
        out: JSONDict = {"type": kind, "entity_id": _entity(raw["entity_id"], "trigger.entity_id")}
        for key in ("to", "from"):
            if key in raw:
                out[key] = _state_value(raw[key], f"trigger.{key}")
        if "for" in raw:
            out["for"] = _whole(raw["for"], "trigger.for", 1, MAX_FOR)
        return out
    if kind == "threshold":
        raw = _fields(
            obj, where, ("type", "entity_id", "above", "below", "attribute"), ("entity_id",)
        )
        return {"type": kind, **_bounds(raw, where)}
    if kind == "time":
        raw = _fields(obj, where, ("type", "at", "weekdays"), ("at",))
        out = {"type": kind, "at": _time(raw["at"], "trigger.at")}
        if "weekdays" in raw:
            out["weekdays"] = _weekdays(raw["weekdays"], "trigger.weekdays")
        return out
    if kind == "sun":
        raw = _fields(obj, where, ("type", "event", "offset"), ("event",))
        if raw["event"] not in SUN_EVENTS:
            raise RuleError("trigger.event must be sunrise or sunset")
        offset = _whole(raw.get("offset", 0), "trigger.offset", -MAX_SUN_OFFSET, MAX_SUN_OFFSET)
        return {"type": kind, "event": raw["event"], "offset": offset}
    raise RuleError("trigger.type must be one of state, threshold, time, sun")


def _condition(obj: object, where: str) -> JSONDict:
    kind = obj.get("type") if isinstance(obj, dict) else None
    if kind == "state":
        raw = _fields(obj, where, ("type", "entity_id", "state"), ("entity_id", "state"))
        entity = _entity(raw["entity_id"], f"{where}.entity_id")
        return {
            "type": kind,
            "entity_id": entity,
            "state": _state_value(raw["state"], f"{where}.state"),
        }
    if kind == "threshold":
        raw = _fields(
            obj, where, ("type", "entity_id", "above", "below", "attribute"), ("entity_id",)
        )
        return {"type": kind, **_bounds(raw, where)}
    if kind == "time":
        raw = _fields(obj, where, ("type", "after", "before", "weekdays"), ())
        out: JSONDict = {"type": kind}
        for key in ("after", "before"):
            if key in raw:
                out[key] = _time(raw[key], f"{where}.{key}")
        if "weekdays" in raw:
            out["weekdays"] = _weekdays(raw["weekdays"], f"{where}.weekdays")
        if len(out) == 1:
            raise RuleError(f"{where}: after, before or weekdays is required")
        return out
    if kind == "sun":
        raw = _fields(obj, where, ("type", "after", "before"), ())
        out = {"type": kind}
        for key in ("after", "before"):
            if key in raw:
                if raw[key] not in SUN_EVENTS:
                    raise RuleError(f"{where}.{key} must be sunrise or sunset")
                out[key] = raw[key]
        if len(out) == 1:
            raise RuleError(f"{where}: after or before is required")
        return out
    raise RuleError(f"{where}.type must be one of state, threshold, time, sun")


def _data_value(value: object, where: str, *, nested: bool = False) -> object:
    if isinstance(value, list) and not nested:
        if len(value) > MAX_LIST_ITEMS:
            raise RuleError(f"{where}: at most {MAX_LIST_ITEMS} items")
        return [_data_value(item, where, nested=True) for item in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return _number(value, where)
    if isinstance(value, str):
        _no_template(value, where)
        if len(value) > MAX_TEXT:
            raise RuleError(f"{where}: at most {MAX_TEXT} characters")
        return value
    raise RuleError(f"{where}: data values must be numbers, texts, booleans or flat lists")


def _action(obj: object, where: str) -> JSONDict:
    if isinstance(obj, dict) and "delay" in obj:
        raw = _fields(obj, where, ("delay",), ())
        return {"delay": _whole(raw["delay"], f"{where}.delay", 1, MAX_DELAY)}
    raw = _fields(obj, where, ("service", "entity_id", "data"), ("service", "entity_id"))
    service = raw["service"]
    if not isinstance(service, str) or not SERVICE_RE.match(service):
        raise RuleError(f"{where}.service must look like domain.service")
    entity = _entity(raw["entity_id"], f"{where}.entity_id")
    data = raw.get("data") or {}
    if not isinstance(data, dict):
        raise RuleError(f"{where}.data must be an object")
    if len(data) > MAX_DATA_KEYS:
        raise RuleError(f"{where}.data: at most {MAX_DATA_KEYS} fields")
    bad = sorted(str(key) for key in data if key in TARGET_KEYS or not isinstance(key, str))
    if bad:
        raise RuleError(f"{where}.data must not name targets ({bad[0]})")
    clean = {key: _data_value(value, f"{where}.data.{key}") for key, value in data.items()}
    return {"service": service, "entity_id": entity, "data": clean}


def _items(obj: JSONDict, key: str, limit: int, least: int) -> list[object]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise RuleError(f"{key} must be a list")
    if len(value) > limit:
        raise RuleError(f"too many {key}: {len(value)}, at most {limit}")
    if len(value) < least:
        raise RuleError(f"{key}: at least {least} is required")
    return value


def parse_rule(obj: object) -> Rule:
    """Validate a rule in our form; raises RuleError with the exact reason."""
    fields = ("rule_id", "kind", "name", "trigger", "conditions", "actions")
    raw = _fields(obj, "rule", fields, ("rule_id", "kind", "name", "trigger", "actions"))
    try:
        size = len(json.dumps(raw))
    except (TypeError, ValueError):
        raise RuleError("rule must be plain JSON") from None
    if size > MAX_RULE_BYTES:
        raise RuleError(f"rule is {size} bytes, at most {MAX_RULE_BYTES}")
    rule_id = raw["rule_id"]
    if not isinstance(rule_id, str) or not RULE_ID_RE.match(rule_id):
        raise RuleError("rule_id must be 1 to 48 of a-z, 0-9 and _ (not starting with _)")
    kind = raw["kind"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise RuleError("kind must be schedule or interaction")
    trigger = _trigger(raw["trigger"])
    if trigger["type"] not in KINDS[kind]:
        raise RuleError(
            f"a {kind} is triggered by {' or '.join(KINDS[kind])}, not {trigger['type']}"
        )
    conditions = [
        _condition(item, f"conditions[{n}]")
        for n, item in enumerate(_items(raw, "conditions", MAX_CONDITIONS, 0))
    ]
    actions = [
        _action(item, f"actions[{n}]")
        for n, item in enumerate(_items(raw, "actions", MAX_ACTIONS, 1))
    ]
    if not any("service" in action for action in actions):
        raise RuleError("actions: at least one service call is required")
    name = _text(raw["name"], "name")
    form = {
        "rule_id": rule_id,
        "kind": kind,
        "name": name,
        "trigger": trigger,
        "conditions": conditions,
        "actions": actions,
    }
    return Rule(rule_id, kind, name, form)
