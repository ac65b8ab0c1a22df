"""Reading the loose values of HA configs: lists or single items, YAML booleans, times."""

from __future__ import annotations

from typing import Any


def as_list(value: Any) -> list[Any]:
    """A single item or a list, as a list (None: empty)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def state_text(value: Any) -> str:
    """A state as HA compares it: YAML's on/off booleans become "on"/"off"."""
    if value is True:
        return "on"
    if value is False:
        return "off"
    return str(value)


def states(value: Any) -> frozenset[str] | None:
    """A `to`/`from`/`state` value as a set of states; None when absent (any)."""
    if value is None:
        return None
    return frozenset(state_text(item) for item in as_list(value))


def is_template(value: Any) -> bool:
    """A Jinja template (its value is only known at run time)."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def number(value: Any) -> float | None:
    """A number, or None (absent, a template or an entity id: unknown)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def seconds_of_day(value: Any) -> int | None:
    """ "HH:MM[:SS]" as seconds after midnight; None for anything else (an entity)."""
    if not isinstance(value, str):
        return None
    parts = value.split(":")
    if not 2 <= len(parts) <= 3 or not all(part.isdigit() for part in parts):
        return None
    hours, minutes, seconds = (int(part) for part in [*parts, "0"][:3])
    return hours * 3600 + minutes * 60 + seconds


def duration_text(value: Any) -> str:
    """A `for:` duration as a canonical text ("" when absent or zero)."""
    if value in (None, "", 0, "0", "00:00:00", "0:00:00"):
        return ""
    if isinstance(value, dict):
        total = (
            float(value.get("days", 0)) * 86400
            + float(value.get("hours", 0)) * 3600
            + float(value.get("minutes", 0)) * 60
            + float(value.get("seconds", 0))
            + float(value.get("milliseconds", 0)) / 1000
        )
        return "" if total == 0 else f"{total:g}s"
    if isinstance(value, (int, float)):
        return f"{float(value):g}s"
    if (secs := seconds_of_day(value)) is not None:
        return "" if secs == 0 else f"{secs:g}s"
    return str(value)
