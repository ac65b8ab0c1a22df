"""Loops: automation → entity it changes → automation that entity triggers → … → itself.

The search walks firings (automation, state that fired it) breadth first from one
automation. A cycle is kept only when every entity on it takes two values (or is
toggled), so the states keep changing round the cycle: light on → off → on → ….
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping

from .model import Automation, Effect, Finding, Trigger
from .overlap import CERTAIN, POSSIBLE

type Node = tuple[str, str | None]  # (entity, value); None: any value
type Firing = tuple[str, Node]  # (automation key, the state that fired it)
MAX_STEPS = 8
_FLIP = {"on": "off", "off": "on", "open": "closed", "closed": "open"}


def _matches(trig: Trigger, node: Node, before: str | None) -> bool:
    entity, value = node
    if trig.entity != entity or trig.attribute:
        return False
    if trig.kind == "state":
        if before is not None and (
            (trig.from_ is not None and before not in trig.from_) or before in trig.not_from
        ):
            return False
        if value in trig.not_to:
            return False
        return trig.to is None or value is None or value in trig.to
    if trig.kind == "numeric_state":
        try:
            number = float(value) if value is not None else None
        except ValueError:
            return False
        low = float("-inf") if trig.above is None else trig.above
        high = float("inf") if trig.below is None else trig.below
        return number is None or low < number < high
    return False


def _results(effect: Effect, node: Node) -> Iterator[tuple[str, bool]]:
    """(new value, exact) of an effect fired by `node`."""
    if effect.result != "toggle":
        yield effect.result.lstrip("="), effect.exact
        return
    if effect.entity == node[0] and node[1] in _FLIP:
        yield _FLIP[node[1]], True
        return
    same = effect.entity == node[0]  # toggling the entity that fired: certain either way
    yield "on", same
    yield "off", same


def _steps(auto: Automation, node: Node, trig_ids: set[str]) -> Iterator[tuple[Node, str, bool]]:
    """(new node, what happened, exact) for each immediate change `auto` makes."""
    for effect in auto.effects:
        if effect.trigger_ids is not None and not trig_ids & effect.trigger_ids:
            continue
        for value, exact in _results(effect, node):
            if effect.entity == node[0] and value == node[1]:
                continue  # no change, nothing triggers
            text = f"{auto.key}: {effect.entity} → {value}"
            yield (effect.entity, value), text, exact and effect.guard is None


def _fired_ids(auto: Automation, node: Node, before: str | None) -> set[str]:
    return {trig.trigger_id for trig in auto.triggers if _matches(trig, node, before)}


def _valid(path: list[tuple[Node, str, bool]]) -> bool:
    values: dict[str, set[str | None]] = {}
    for (entity, value), _text, _exact in path:
        values.setdefault(entity, set()).add(value)
    return all(len(seen) > 1 for seen in values.values())


def _start_nodes(auto: Automation) -> Iterator[Node]:
    for trig in auto.triggers:
        if trig.kind in {"state", "numeric_state"} and trig.entity and not trig.attribute:
            for value in sorted(trig.to) if trig.kind == "state" and trig.to else [None]:
                yield trig.entity, value


def cycle(
    start: Automation,
    autos: Mapping[str, Automation],
    triggered_by: Mapping[str, set[str]],
) -> list[tuple[Node, str, bool]] | None:
    """The first changing cycle through `start`: [(node, what happened, exact)], or None."""
    for first in _start_nodes(start):
        queue: deque[tuple[Firing, list[tuple[Node, str, bool]]]] = deque()
        queue.append(((start.key, first), [(first, f"{first[0]} → {first[1]}", True)]))
        seen: set[Firing] = set()
        while queue:
            (key, node), path = queue.popleft()
            if len(path) > MAX_STEPS:
                continue
            before = path[-2][0][1] if len(path) > 1 and path[-2][0][0] == node[0] else None
            for new, text, exact in _steps(
                autos[key], node, _fired_ids(autos[key], node, before) or {""}
            ):
                trail = [*path, (new, text, exact)]
                for other in triggered_by.get(new[0], ()):
                    if not _fired_ids(autos[other], new, node[1] if new[0] == node[0] else None):
                        continue
                    if other == start.key and _valid(trail[1:]):
                        return trail
                    if (other, new) not in seen:
                        seen.add((other, new))
                        queue.append(((other, new), trail))
    return None


def loop_finding(
    path: list[tuple[Node, str, bool]], autos: Mapping[str, Automation], ours: frozenset[str]
) -> Finding:
    """The finding of a cycle; certain when every step is exact and unconditional."""
    keys = tuple(dict.fromkeys(text.split(":", 1)[0] for _n, text, _e in path[1:]))
    entities = sorted({node[0] for node, _t, _e in path})
    exact = all(step[2] for step in path) and all(
        len(autos[key].conditions) == 1
        and not autos[key].conditions[0].items
        and not autos[key].conditions[0].opaque
        for key in keys
    )
    mine = [ent for ent in entities if ent in ours]
    return Finding(
        kind="loop",
        severity=CERTAIN if exact else POSSIBLE,
        automations=keys,
        entity=(mine or entities)[0],
        evidence={"path": [text for _n, text, _e in path]},
    )
