"""A thing's value: what the wire may carry for each value type."""

from __future__ import annotations

import math
from typing import Any

from .site import Thing, ValueType

MAX_TEXT = 255


def coerce(thing: Thing, value: Any) -> bool | int | float | str:
    """The value as the thing's type, or ValueError. Bools may travel as 0/1."""
    kind = thing.type
    if kind is ValueType.BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ValueError(f"{value!r} is not a bool")
    if kind is ValueType.STR:
        if isinstance(value, str) and len(value) <= MAX_TEXT:
            return value
        raise ValueError(f"{value!r} is not text of at most {MAX_TEXT} characters")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number")  # noqa: TRY004 - one error kind
    if kind is ValueType.INT:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value!r} is not an integer")
        return int(value)
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return float(value)


def in_range(thing: Thing, value: bool | int | float | str) -> bool:
    """Within the thing's min and max (always, for bools and text)."""
    if isinstance(value, bool | str):
        return True
    low = thing.minimum if thing.minimum is not None else -math.inf
    high = thing.maximum if thing.maximum is not None else math.inf
    return low <= value <= high
