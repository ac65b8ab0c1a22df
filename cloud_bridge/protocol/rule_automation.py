"""Our rule form <-> Home Assistant automation configs (pure).

`to_automation(rule)` gives the config the bridge saves with HA's config API, under an id
of `AUTOMATION_PREFIX` + rule_id, so the bridge can only ever touch automations it made.
`from_automation(config)` reads one back (a change made in HA is synced to the cloud): a
config that no longer fits our form comes back as None, and the cloud shows it read-only.
"""

from __future__ import annotations

from typing import Any

from cloud_bridge.protocol.rules import Rule, RuleError, parse_rule

type JSONDict = dict[str, Any]

AUTOMATION_PREFIX = "inspextor_cloud_"
DESCRIPTION = "Made in the InspeXtor cloud ({kind}); changes made here are synced back."


def automation_id(rule_id: str) -> str:
    """The HA automation config id of a cloud rule."""
    return AUTOMATION_PREFIX + rule_id


def rule_id_of(config_id: object) -> str | None:
    """The rule id of an automation config id under our prefix, else None."""
    if isinstance(config_id, str) and config_id.startswith(AUTOMATION_PREFIX):
        return config_id[len(AUTOMATION_PREFIX) :] or None
    return None


def _duration(seconds: int) -> str:
    sign = "-" if seconds < 0 else ""
    value = abs(seconds)
    return f"{sign}{value // 3600:02d}:{value // 60 % 60:02d}:{value % 60:02d}"


def _seconds(text: object) -> int:
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if isinstance(text, dict) and set(text) <= {"hours", "minutes", "seconds"}:
        hours, minutes, secs = (int(text.get(k, 0)) for k in ("hours", "minutes", "seconds"))
        return hours * 3600 + minutes * 60 + secs
    if not isinstance(text, str):
        raise RuleError("not a duration")
    sign = -1 if text.startswith("-") else 1
    parts = [int(part) for part in text.lstrip("-").split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def _bounds(item: JSONDict) -> JSONDict:
    return {key: item[key] for key in ("entity_id", "above", "below", "attribute") if key in item}


def _trigger(trigger: JSONDict) -> tuple[JSONDict, list[JSONDict]]:
    kind = trigger["type"]
    if kind == "state":
        out: JSONDict = {"trigger": "state", "entity_id": trigger["entity_id"]}
        out |= {key: trigger[key] for key in ("to", "from") if key in trigger}
        if "for" in trigger:
            out["for"] = _duration(trigger["for"])
        return out, []
    if kind == "threshold":
        return {"trigger": "numeric_state", **_bounds(trigger)}, []
    if kind == "time":
        extra = (
            [{"condition": "time", "weekday": trigger["weekdays"]}] if "weekdays" in trigger else []
        )
        return {"trigger": "time", "at": trigger["at"]}, extra
    out = {"trigger": "sun", "event": trigger["event"]}
    if trigger["offset"]:
        out["offset"] = _duration(trigger["offset"])
    return out, []


def _condition(cond: JSONDict) -> JSONDict:
    kind = cond["type"]
    if kind == "state":
        return {"condition": "state", "entity_id": cond["entity_id"], "state": cond["state"]}
    if kind == "threshold":
        return {"condition": "numeric_state", **_bounds(cond)}
    if kind == "time":
        out: JSONDict = {"condition": "time"}
        out |= {key: cond[key] for key in ("after", "before") if key in cond}
        if "weekdays" in cond:
            out["weekday"] = cond["weekdays"]
        return out
    return {"condition": "sun", **{key: cond[key] for key in ("after", "before") if key in cond}}


def _action(action: JSONDict) -> JSONDict:
    if "delay" in action:
        return {"delay": _duration(action["delay"])}
    out: JSONDict = {"action": action["service"], "target": {"entity_id": action["entity_id"]}}
    if action["data"]:
        out["data"] = dict(action["data"])
    return out


def to_automation(rule: Rule) -> JSONDict:
    """The HA automation config of a rule (new-style keys: triggers/conditions/actions)."""
    trigger, extra = _trigger(rule.form["trigger"])
    return {
        "id": automation_id(rule.rule_id),
        "alias": rule.name,
        "description": DESCRIPTION.format(kind=rule.kind),
        "mode": "single",
        "triggers": [trigger],
        "conditions": extra + [_condition(cond) for cond in rule.form["conditions"]],
        "actions": [_action(action) for action in rule.form["actions"]],
    }


def _listed(config: JSONDict, new: str, old: str) -> list[JSONDict]:
    value = config.get(new, config.get(old, []))
    items = value if isinstance(value, list) else [value]
    dicts = [item for item in items if isinstance(item, dict)]
    if len(dicts) != len(items):
        raise RuleError(f"{new} is not a list of objects")
    return dicts


def _one(value: object) -> object:
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _read_trigger(raw: JSONDict) -> JSONDict:
    kind = raw.get("trigger", raw.get("platform"))
    if kind == "state":
        out: JSONDict = {"type": "state", "entity_id": _one(raw.get("entity_id"))}
        out |= {key: raw[key] for key in ("to", "from") if key in raw}
        if "for" in raw:
            out["for"] = _seconds(raw["for"])
        return out
    if kind == "numeric_state":
        return {"type": "threshold", **_bounds(raw), "entity_id": _one(raw.get("entity_id"))}
    if kind == "time":
        return {"type": "time", "at": raw.get("at")}
    if kind == "sun":
        return {"type": "sun", "event": raw.get("event"), "offset": _seconds(raw.get("offset", 0))}
    raise RuleError(f"trigger {kind!r} is not one the cloud can edit")


def _read_condition(raw: JSONDict) -> JSONDict:
    kind = raw.get("condition")
    if kind == "state":
        return {"type": "state", "entity_id": _one(raw.get("entity_id")), "state": raw.get("state")}
    if kind == "numeric_state":
        return {"type": "threshold", **_bounds(raw), "entity_id": _one(raw.get("entity_id"))}
    if kind == "time":
        out: JSONDict = {"type": "time", **{k: raw[k] for k in ("after", "before") if k in raw}}
        if "weekday" in raw:
            days = raw["weekday"]
            out["weekdays"] = days if isinstance(days, list) else [days]
        return out
    if kind == "sun":
        return {"type": "sun", **{k: raw[k] for k in ("after", "before") if k in raw}}
    raise RuleError(f"condition {kind!r} is not one the cloud can edit")


def _read_action(raw: JSONDict) -> JSONDict:
    if set(raw) == {"delay"}:
        return {"delay": _seconds(raw["delay"])}
    service = raw.get("action", raw.get("service"))
    target = raw.get("target") or {}
    entity = _one(target.get("entity_id") if isinstance(target, dict) else None)
    if set(raw) - {"action", "service", "target", "data"} or set(target) - {"entity_id"}:
        raise RuleError("an action the cloud cannot edit")
    return {"service": service, "entity_id": entity, "data": raw.get("data") or {}}


def from_automation(config: JSONDict, kind_hint: str | None = None) -> Rule | None:
    """Read a cloud-owned automation back into our form; None when it no longer fits."""
    rule_id = rule_id_of(config.get("id"))
    if rule_id is None:
        return None
    try:
        triggers = _listed(config, "triggers", "trigger")
        if len(triggers) != 1:
            return None
        trigger = _read_trigger(triggers[0])
        conditions = [_read_condition(c) for c in _listed(config, "conditions", "condition")]
        if trigger["type"] == "time" and conditions and set(conditions[0]) == {"type", "weekdays"}:
            trigger["weekdays"] = conditions.pop(0)["weekdays"]
        actions = [_read_action(a) for a in _listed(config, "actions", "action")]
        kind = "schedule" if trigger["type"] in {"time", "sun"} else "interaction"
        form = {
            "rule_id": rule_id,
            "kind": kind_hint or kind,
            "name": config.get("alias") or rule_id,
            "trigger": trigger,
            "conditions": conditions,
            "actions": actions,
        }
        return parse_rule(form)
    except (RuleError, TypeError, ValueError, AttributeError):
        return None
