"""Conditions as a disjunction of terms; a term is a conjunction of simple constraints.

A constraint is keyed by what it restricts:
- ("s", entity, attribute) -> (values, negated): the state is (not) one of `values`;
- ("n", entity, attribute) -> (low, high): the number is strictly between them;
- ("t",) -> (intervals, weekdays): the time of day (seconds, half-open) and the weekdays;
- ("u",) -> (low, high): the sun on the axis 0 midnight, 1 sunrise, 2 sunset, 3 midnight.
A term is `opaque` when it also holds something unreadable (a template): it may be false
although no constraint says so, so it never proves anything true, only false.
"""

from __future__ import annotations

from typing import Any

type Key = tuple[str, ...]
INF = float("inf")
DAY = 86400
ALL_DAYS = frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun"})


class Term:
    """A conjunction of constraints (immutable once built)."""

    __slots__ = ("items", "opaque")

    def __init__(self, items: dict[Key, Any] | None = None, opaque: bool = False) -> None:
        self.items: dict[Key, Any] = items or {}
        self.opaque = opaque

    def __repr__(self) -> str:
        return f"Term({self.items!r}, opaque={self.opaque})"


TRUE: tuple[Term, ...] = (Term(),)
FALSE: tuple[Term, ...] = ()
OPAQUE: tuple[Term, ...] = (Term(opaque=True),)


def _state(a: Any, b: Any) -> Any:
    (va, na), (vb, nb) = a, b
    if not na and not nb:
        both = va & vb
        return (both, False) if both else None
    if na and nb:
        return (va | vb, True)
    pos, neg = (va, vb) if not na else (vb, va)
    rest = pos - neg
    return (rest, False) if rest else None


def _interval(a: Any, b: Any) -> Any:
    low, high = max(a[0], b[0]), min(a[1], b[1])
    return (low, high) if low < high else None


def _time(a: Any, b: Any) -> Any:
    days = a[1] & b[1]
    spans = tuple(
        (max(s1, s2), min(e1, e2))
        for s1, e1 in a[0]
        for s2, e2 in b[0]
        if max(s1, s2) < min(e1, e2)
    )
    return (spans, days) if spans and days else None


_MERGE = {"s": _state, "n": _interval, "t": _time, "u": _interval}


def conjoin(first: Term, second: Term) -> Term | None:
    """Both terms at once; None when they contradict."""
    if not first.items:
        return Term(second.items, True) if first.opaque else second
    if not second.items:
        return Term(first.items, True) if second.opaque else first
    items = dict(first.items)
    for key, value in second.items.items():
        if key in items:
            merged = _MERGE[key[0]](items[key], value)
            if merged is None:
                return None
            items[key] = merged
        else:
            items[key] = value
    return Term(items, first.opaque or second.opaque)


MAX_TERMS = 16


def both(first: tuple[Term, ...], second: tuple[Term, ...]) -> tuple[Term, ...]:
    """The conjunction of two disjunctions (terms that contradict are dropped).

    Beyond MAX_TERMS terms the result is one opaque term: unknown, never proven false.
    """
    if first is TRUE:
        return second
    if second is TRUE:
        return first
    out = []
    for one in first:
        for two in second:
            if (term := conjoin(one, two)) is not None:
                out.append(term)
                if len(out) > MAX_TERMS:
                    return OPAQUE
    return tuple(out)


def any_of(parts: list[tuple[Term, ...]]) -> tuple[Term, ...]:
    """The disjunction of several."""
    out = tuple(term for part in parts for term in part)
    return OPAQUE if len(out) > MAX_TERMS else out


def state(
    entity: str, attribute: str | None, values: frozenset[str], negated: bool = False
) -> Term:
    """The entity's state (or attribute) is, or is not, one of `values`."""
    return Term({("s", entity, attribute or ""): (values, negated)})


def number(entity: str, attribute: str | None, above: float | None, below: float | None) -> Term:
    """The entity's number is above `above` and below `below`."""
    low = -INF if above is None else above
    high = INF if below is None else below
    return Term({("n", entity, attribute or ""): (low, high)})


def time_window(after: int | None, before: int | None, weekdays: frozenset[str]) -> Term:
    """Time of day between `after` and `before` (seconds; wraps past midnight)."""
    start = 0 if after is None else after
    end = DAY if before is None else before
    spans = ((start, end),) if start < end else ((start, DAY), (0, end))
    return Term({("t",): (spans, weekdays)})


SUN_POINTS = {"sunrise": 1.0, "sunset": 2.0}


def sun_window(after: str | None, before: str | None) -> Term:
    """The sun condition: after sunrise/sunset until midnight, before them from midnight."""
    low = SUN_POINTS.get(after or "", 0.0)
    high = SUN_POINTS.get(before or "", 3.0)
    return Term({("u",): (low, high)})
