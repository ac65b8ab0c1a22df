"""HA triggers in normalised form; a trigger the analysis cannot read is `unknown`."""

from __future__ import annotations

import json
from typing import Any

from .model import Facts, TimeSet, Trigger
from .values import as_list, duration_text, is_template, number, seconds_of_day, states

# Device trigger types and the state they mean (binary sensors: anything else is "on").
_DEVICE_TYPES = {
    "turned_on": "on",
    "turned_off": "off",
    "opened": "open",
    "closed": "closed",
}


def _pattern(value: Any, limit: int) -> frozenset[int] | None:
    if value is None or value == "*":
        return None
    text = str(value)
    if text.startswith("/") and text[1:].isdigit() and int(text[1:]) > 0:
        return frozenset(range(0, limit, int(text[1:])))
    return frozenset({int(text)}) if text.isdigit() else None


def _time_pattern(conf: dict[str, Any]) -> TimeSet:
    hours, minutes, seconds = conf.get("hours"), conf.get("minutes"), conf.get("seconds")
    if seconds is None:  # HA: smaller units than the ones given default to zero
        seconds = 0
        if minutes is None and hours is not None:
            minutes = 0
    return TimeSet(_pattern(hours, 24), _pattern(minutes, 60), _pattern(seconds, 60))


def _at(value: Any, base: dict[str, Any]) -> Trigger:
    secs = seconds_of_day(value)
    if secs is not None:
        hms = TimeSet(
            frozenset({secs // 3600}), frozenset({secs // 60 % 60}), frozenset({secs % 60})
        )
        return Trigger("time", times=hms, detail=f"at {value}", **base)
    return Trigger("time", detail=f"at {json.dumps(value, sort_keys=True, default=str)}", **base)


def _state(conf: dict[str, Any], base: dict[str, Any]) -> list[Trigger]:
    common: dict[str, Any] = {
        "attribute": conf.get("attribute"),
        "to": states(conf.get("to")),
        "from_": states(conf.get("from")),
        "not_to": states(conf.get("not_to")) or frozenset(),
        "not_from": states(conf.get("not_from")) or frozenset(),
        "for_": duration_text(conf.get("for")),
    }
    return [Trigger("state", entity=str(ent), **common, **base) for ent in _entities(conf)]


def _numeric(conf: dict[str, Any], base: dict[str, Any]) -> list[Trigger]:
    above, below = number(conf.get("above")), number(conf.get("below"))
    if conf.get("value_template") or (above is None and below is None):
        return [_unknown("numeric_state", conf, base)]
    return [
        Trigger(
            "numeric_state",
            entity=str(ent),
            attribute=conf.get("attribute"),
            above=above,
            below=below,
            for_=duration_text(conf.get("for")),
            **base,
        )
        for ent in _entities(conf)
    ]


def _device(conf: dict[str, Any], base: dict[str, Any], facts: Facts) -> list[Trigger]:
    entity = conf.get("entity_id")
    kind = str(conf.get("type", ""))
    if not isinstance(entity, str) or not kind:
        return [_unknown("device", conf, base)]
    entity = facts.registry_ids.get(entity, entity)
    if kind == "changed_states":
        to = None
    elif kind in _DEVICE_TYPES:
        to = frozenset({_DEVICE_TYPES[kind]})
    elif conf.get("domain") == "binary_sensor":
        to = frozenset({"off" if kind.startswith(("no_", "not_")) else "on"})
    else:
        return [_unknown("device", conf, base)]
    return [Trigger("state", entity=entity, to=to, for_=duration_text(conf.get("for")), **base)]


def _entities(conf: dict[str, Any]) -> list[str]:
    return [str(ent) for ent in as_list(conf.get("entity_id")) if not is_template(ent)]


def _unknown(platform: str, conf: dict[str, Any], base: dict[str, Any]) -> Trigger:
    body = {key: val for key, val in conf.items() if key not in {"id", "alias", "enabled"}}
    return Trigger(
        "unknown", detail=f"{platform} {json.dumps(body, sort_keys=True, default=str)}", **base
    )


def trigger(conf: Any, index: int, facts: Facts) -> list[Trigger]:
    """One trigger of the config (a state trigger on two entities is two)."""
    if not isinstance(conf, dict):
        return [Trigger("unknown", index=index, trigger_id=str(index), detail=str(conf))]
    platform = str(conf.get("trigger", conf.get("platform", "")))
    base: dict[str, Any] = {"index": index, "trigger_id": str(conf.get("id", index))}
    if platform == "state" and _entities(conf):
        return _state(conf, base)
    if platform == "numeric_state" and _entities(conf):
        return _numeric(conf, base)
    if platform == "time":
        days = frozenset(str(day) for day in as_list(conf.get("weekday"))) or None
        return [_at(value, {**base, "weekdays": days}) for value in as_list(conf.get("at"))]
    if platform == "time_pattern":
        return [Trigger("time", times=_time_pattern(conf), detail="pattern", **base)]
    if platform == "sun":
        offset = duration_text(conf.get("offset"))
        return [Trigger("sun", detail=f"{conf.get('event')}{offset and ' ' + offset}", **base)]
    if platform == "homeassistant":
        return [Trigger("homeassistant", detail=str(conf.get("event")), **base)]
    if platform == "device":
        return _device(conf, base, facts)
    return [_unknown(platform, conf, base)]


def triggers(value: Any, facts: Facts) -> list[Trigger]:
    """Every enabled trigger of an automation."""
    out: list[Trigger] = []
    for index, conf in enumerate(as_list(value)):
        if isinstance(conf, dict) and conf.get("enabled") is False:
            continue
        out.extend(trigger(conf, index, facts))
    return out
