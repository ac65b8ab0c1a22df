"""HA conditions as disjunctions of terms (constraints.py); unreadable ones are opaque."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import constraints as c
from .constraints import Term
from .values import as_list, is_template, number, seconds_of_day, states

type Conds = tuple[Term, ...]


def _state(cond: dict[str, Any]) -> Conds:
    values = states(cond.get("state"))
    entities = as_list(cond.get("entity_id"))
    if values is None or not entities or any(is_template(v) for v in values):
        return c.OPAQUE
    attribute = cond.get("attribute")
    terms = [c.state(str(entity), attribute, values) for entity in entities]
    if cond.get("match") == "any":
        return c.any_of([(term,) for term in terms])
    out: Conds = c.TRUE
    for term in terms:
        out = c.both(out, (term,))
    return out


def _numeric(cond: dict[str, Any]) -> Conds:
    raw_above, raw_below = cond.get("above"), cond.get("below")
    above, below = number(raw_above), number(raw_below)
    entities = as_list(cond.get("entity_id"))
    unreadable = (raw_above is not None and above is None) or (
        raw_below is not None and below is None
    )
    if unreadable or not entities or cond.get("value_template") or raw_above == raw_below:
        return c.OPAQUE  # an entity as bound, a template, or no bound at all
    out: Conds = c.TRUE
    for entity in entities:
        out = c.both(out, (c.number(str(entity), cond.get("attribute"), above, below),))
    return out


def _time(cond: dict[str, Any]) -> Conds:
    after, before = seconds_of_day(cond.get("after")), seconds_of_day(cond.get("before"))
    if (cond.get("after") is not None and after is None) or (
        cond.get("before") is not None and before is None
    ):
        return c.OPAQUE  # input_datetime or sensor bounds
    weekdays = frozenset(str(day) for day in as_list(cond.get("weekday"))) or c.ALL_DAYS
    return (c.time_window(after, before, weekdays),)


def _sun(cond: dict[str, Any]) -> Conds:
    if cond.get("after_offset") or cond.get("before_offset"):
        return c.OPAQUE
    after, before = cond.get("after"), cond.get("before")
    if after == "sunset" and before == "sunrise":  # HA reads this pair as "night"
        return c.any_of([(c.sun_window("sunset", None),), (c.sun_window(None, "sunrise"),)])
    return (c.sun_window(after, before),)


def _and(cond: dict[str, Any]) -> Conds:
    return conditions(cond.get("conditions"))


def _or(cond: dict[str, Any]) -> Conds:
    parts = as_list(cond.get("conditions"))
    if not parts:
        return c.TRUE
    return c.any_of([conditions(part) for part in parts])


def _not(cond: dict[str, Any]) -> Conds:
    parts = as_list(cond.get("conditions"))
    # not (a or b) = not a and not b; only plain state conditions negate exactly.
    out: Conds = c.TRUE
    for part in parts:
        if not isinstance(part, dict) or part.get("condition") != "state":
            return c.OPAQUE
        values = states(part.get("state"))
        if values is None:
            return c.OPAQUE
        for entity in as_list(part.get("entity_id")):
            term = c.state(str(entity), part.get("attribute"), values, negated=True)
            out = c.both(out, (term,))
    return out


_KINDS: dict[str, Callable[[dict[str, Any]], Conds]] = {
    "state": _state,
    "numeric_state": _numeric,
    "time": _time,
    "sun": _sun,
    "and": _and,
    "or": _or,
    "not": _not,
}


def condition(cond: Any) -> Conds:
    """One condition (a dict, or a template string shorthand)."""
    if not isinstance(cond, dict):
        return c.OPAQUE
    if cond.get("enabled") is False:
        return c.TRUE
    kind = cond.get("condition")
    if kind == "trigger":
        return c.TRUE  # handled by the caller (trigger ids)
    reader = _KINDS.get(str(kind))
    return c.OPAQUE if reader is None else reader(cond)


def conditions(value: Any) -> Conds:
    """A list of conditions (all must hold)."""
    out: Conds = c.TRUE
    for cond in as_list(value):
        out = c.both(out, condition(cond))
        if not out:
            return out
    return out


def trigger_ids(value: Any) -> frozenset[str] | None:
    """The trigger ids a `condition: trigger` list allows (None: no such condition)."""
    allowed: frozenset[str] | None = None
    for cond in as_list(value):
        if isinstance(cond, dict) and cond.get("condition") == "trigger":
            ids = frozenset(str(item) for item in as_list(cond.get("id")))
            allowed = ids if allowed is None else allowed & ids
    return allowed
