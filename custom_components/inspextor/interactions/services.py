"""What one service call does: its targets (entities, devices, areas) and its result."""

from __future__ import annotations

from typing import Any

from .model import Facts
from .values import as_list, is_template, number, state_text

_PLAIN = {"turn_on": "on", "turn_off": "off", "toggle": "toggle"}
_COVER = {"open_cover": "open", "close_cover": "closed", "toggle": "toggle"}
_SET = {"select_option": "option", "set_value": "value"}


def _level(domain: str, service: str, data: dict[str, Any]) -> tuple[float | None, bool]:
    """(brightness 0..255 or cover position, exact)."""
    if domain == "light" and service == "turn_on":
        if "brightness" in data:
            value = number(data["brightness"])
        elif "brightness_pct" in data:
            pct = number(data["brightness_pct"])
            value = None if pct is None else round(pct * 255 / 100)
        else:
            return None, "brightness_step" not in data and "brightness_step_pct" not in data
        return value, value is not None
    if domain == "cover" and service == "set_cover_position":
        value = number(data.get("position"))
        return value, value is not None
    return None, True


def result(
    domain: str, service: str, data: dict[str, Any]
) -> tuple[str, float | None, bool] | None:
    """(result, level, exact) of a service, or None when it does not set a state we know."""
    level, exact = _level(domain, service, data)
    if domain == "cover":
        if service == "set_cover_position":
            return ("closed" if level == 0 else "open"), level, exact
        res = _COVER.get(service)
        return None if res is None else (res, None, True)
    if domain == "inspextor" and service == "send_command":
        value = number(data.get("value"))
        state = "on" if data.get("capability") == "brightness" else "open"
        off = "off" if state == "on" else "closed"
        if value is None:
            return None
        return (off if value == 0 else state), value, True
    if service in _SET:
        value = data.get(_SET[service])
        return f"={state_text(value)}", None, not is_template(value)
    if service in _PLAIN:
        if level == 0:
            return "off", None, True
        return _PLAIN[service], level, exact
    return None


def _refs(value: Any, key: str, problems: list[str]) -> list[str]:
    refs = [value] if isinstance(value, str) else as_list(value)
    good = [str(ref) for ref in refs if not is_template(ref) and ref != "all"]
    if len(good) != len(refs):
        problems.append(f"{key} {value}")
    return good


def targets(call: dict[str, Any], domain: str, facts: Facts) -> tuple[list[str], list[str]]:
    """(entity ids, problems) a service call targets: entity_id, device_id, area_id
    in `target`, in `data` or at the top level; devices and areas through the registry facts.
    """
    found: list[str] = []
    problems: list[str] = []
    for source in (call, call.get("target"), call.get("data"), call.get("data_template")):
        if not source:
            continue
        if not isinstance(source, dict):
            problems.append("target is a template")
            continue
        if (value := source.get("entity_id")) is not None:
            found.extend(_refs(value, "entity_id", problems))
        for key, table in (("device_id", facts.device_entities), ("area_id", facts.area_entities)):
            if (value := source.get(key)) is None:
                continue
            for ref in _refs(value, key, problems):
                found.extend(ent for ent in sorted(table.get(ref, ())) if _in_domain(ent, domain))
    return (list(dict.fromkeys(found)) if len(found) > 1 else found), problems


def _in_domain(entity: str, domain: str) -> bool:
    return domain in {"homeassistant", "inspextor"} or entity.startswith(f"{domain}.")


def scene_results(scene: str, facts: Facts) -> list[tuple[str, str]]:
    """(entity, result) a scene sets: on/off/open/closed, anything else as `=state`."""
    out = []
    for entity, value in facts.scene_entities.get(scene, {}).items():
        text = state_text(value)
        out.append((entity, text if text in {"on", "off", "open", "closed"} else f"={text}"))
    return out
