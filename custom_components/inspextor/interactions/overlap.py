"""When two triggers can fire on the same event, and what a trigger says at firing time."""

from __future__ import annotations

from . import constraints as c
from .constraints import Term
from .model import Trigger

CERTAIN = "certain"
POSSIBLE = "possible"


def implied(trig: Trigger) -> Term:
    """What holds when `trig` fires: the new state, the number's range, the time."""
    if trig.kind == "state" and trig.entity and trig.to is not None:
        return c.state(trig.entity, trig.attribute, trig.to - trig.not_to)
    if trig.kind == "state" and trig.entity and trig.not_to:
        return c.state(trig.entity, trig.attribute, trig.not_to, negated=True)
    if trig.kind == "numeric_state" and trig.entity:
        return c.number(trig.entity, trig.attribute, trig.above, trig.below)
    times = trig.times
    if (
        trig.kind == "time"
        and times
        and all(
            part is not None and len(part) == 1
            for part in (times.hours, times.minutes, times.seconds)
        )
    ):
        hour, minute, sec = (
            min(part or {0}) for part in (times.hours, times.minutes, times.seconds)
        )
        second = hour * 3600 + minute * 60 + sec
        return c.time_window(second, second + 1, trig.weekdays or c.ALL_DAYS)
    return Term()


def _sets_meet(
    first: frozenset[str] | None,
    second: frozenset[str] | None,
    not_first: frozenset[str] = frozenset(),
    not_second: frozenset[str] = frozenset(),
) -> bool:
    """Some state is in both sets (None: any) and in neither's exclusions."""
    both: frozenset[str] | None = first
    if first is None:
        both = second
    elif second is not None:
        both = first & second
    return both is None or bool(both - not_first - not_second)


def _same_subject(one: Trigger, two: Trigger) -> bool:
    return one.entity == two.entity and one.attribute == two.attribute and one.for_ == two.for_


def _numeric_meet(one: Trigger, two: Trigger) -> bool:
    low = max(
        -c.INF if one.above is None else one.above, -c.INF if two.above is None else two.above
    )
    high = min(c.INF if one.below is None else one.below, c.INF if two.below is None else two.below)
    return low < high


def overlap(one: Trigger, two: Trigger) -> str | None:
    """certain / possible when both can fire on one event; None when they cannot."""
    kinds = {one.kind, two.kind}
    if kinds == {"state"}:
        meets = _same_subject(one, two) and _sets_meet(one.to, two.to, one.not_to, two.not_to)
        meets = meets and _sets_meet(one.from_, two.from_, one.not_from, two.not_from)
        return CERTAIN if meets else None
    if kinds == {"numeric_state"}:
        return CERTAIN if _same_subject(one, two) and _numeric_meet(one, two) else None
    if kinds == {"state", "numeric_state"}:
        state = one if one.kind == "state" else two
        meets = one.entity == two.entity and state.to is None and one.for_ == two.for_
        return POSSIBLE if meets and not state.attribute else None
    if kinds == {"time"}:
        if one.weekdays and two.weekdays and one.weekdays.isdisjoint(two.weekdays):
            return None
        if one.times is not None and two.times is not None:
            return CERTAIN if one.times.overlaps(two.times) else None
        return CERTAIN if one.detail == two.detail else None
    if len(kinds) == 1 and one.kind in {"sun", "homeassistant"}:
        return CERTAIN if one.detail == two.detail else None
    if kinds == {"unknown"} and one.detail == two.detail:
        return POSSIBLE
    return None
