"""Conflicts between two automations, and automations that can never run (shadowed)."""

from __future__ import annotations

from . import constraints as c
from .constraints import Term
from .model import Automation, Effect, Finding, Trigger
from .overlap import CERTAIN, POSSIBLE, implied, overlap

_OPPOSITE = {frozenset({"on", "off"}), frozenset({"open", "closed"})}


def incompatible_results(
    one: str, one_level: float | None, two: str, two_level: float | None
) -> bool:
    """Two results for one entity that cannot both hold (on/off, two levels, a toggle)."""
    if "toggle" in (one, two):
        return True
    if one != two:
        return frozenset({one, two}) in _OPPOSITE or (one[0] == "=" and two[0] == "=")
    return one_level is not None and two_level is not None and one_level != two_level


def incompatible(one: Effect, two: Effect) -> bool:
    """Two effects on one entity that cannot both be its result."""
    return incompatible_results(one.result, one.level, two.result, two.level)


def describe(effect: Effect) -> str:
    """ "light.turn_on (brightness 128)" style text for the evidence."""
    level = "" if effect.level is None else f" ({effect.level:g})"
    return f"{effect.service} → {effect.result.lstrip('=')}{level}"


def _fires(trig: Trigger, effect: Effect) -> bool:
    return effect.trigger_ids is None or trig.trigger_id in effect.trigger_ids


def _guarded(auto: Automation, effect: Effect) -> tuple[Term, ...]:
    return auto.conditions if effect.guard is None else c.both(auto.conditions, effect.guard)


def _severity(trig_overlap: str, terms: tuple[Term, ...], *effects: Effect) -> str:
    known = any(not term.opaque for term in terms)
    exact = all(effect.exact for effect in effects)
    return CERTAIN if trig_overlap == CERTAIN and known and exact else POSSIBLE


def _pair(first: Automation, one: Effect, second: Automation, two: Effect) -> Finding | None:
    for trig_one in first.triggers:
        if not _fires(trig_one, one):
            continue
        for trig_two in second.triggers:
            if not _fires(trig_two, two) or (how := overlap(trig_one, trig_two)) is None:
                continue
            when = c.both((implied(trig_one),), (implied(trig_two),))
            terms = c.both(c.both(when, _guarded(first, one)), _guarded(second, two))
            if not terms:
                continue  # the conditions exclude each other
            return Finding(
                kind="conflict",
                severity=_severity(how, terms, one, two),
                automations=(first.key, second.key),
                entity=one.entity,
                evidence={
                    "trigger": trig_one.describe(),
                    "other_trigger": trig_two.describe(),
                    "action": describe(one),
                    "other_action": describe(two),
                },
            )
    return None


def conflict(first: Automation, second: Automation, entity: str) -> Finding | None:
    """The first conflict of two automations over `entity`, if any (immediate effects)."""
    for one in first.immediate.get(entity, ()):
        for two in second.immediate.get(entity, ()):
            if incompatible(one, two) and (found := _pair(first, one, second, two)):
                return found
    return None


def _clash(trig: Trigger, auto: Automation) -> str:
    """Which condition contradicts the trigger (for the evidence)."""
    term = implied(trig)
    for key in term.items:
        probe = Term({key: term.items[key]})
        if not c.both((probe,), auto.conditions):
            return " ".join(part for part in key[1:] if part) or key[0]
    return "the conditions contradict each other"


def shadowed(auto: Automation, entity: str) -> Finding | None:
    """The automation can never run: each trigger contradicts the conditions."""
    if not auto.triggers or any(trig.kind == "unknown" for trig in auto.triggers):
        return None
    for trig in auto.triggers:
        if c.both((implied(trig),), auto.conditions):
            return None
    first = auto.triggers[0]
    return Finding(
        kind="shadowed",
        severity=CERTAIN,
        automations=(auto.key,),
        entity=entity,
        evidence={
            "trigger": first.describe(),
            "condition": _clash(first, auto) if auto.conditions else "the conditions",
        },
    )
