"""The effects of an automation's actions: every service-call form, in every block.

choose, if/then/else, sequence, parallel and repeat are walked; the conditions of a
branch guard its effects; `condition: trigger` limits them to trigger ids; an effect after
a delay or a wait is `delayed`; `stop` ends a sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import constraints as c
from .conditions import conditions, trigger_ids
from .constraints import Term
from .model import Effect, Facts
from .services import result, scene_results, targets
from .values import as_list, is_template

_WAITS = ("delay", "wait_template", "wait_for_trigger")


@dataclass(slots=True)
class Walk:
    """Where the walk is: the guard so far, the trigger ids allowed, delayed or not."""

    facts: Facts
    guard: tuple[Term, ...] = c.TRUE
    ids: frozenset[str] | None = None
    delayed: bool = False
    effects: list[Effect] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def branch(self, conds: Any) -> Walk:
        """The walk inside a branch whose conditions are `conds` (shares the outputs)."""
        ids = trigger_ids(conds)
        if ids is not None and self.ids is not None:
            ids &= self.ids
        return Walk(
            self.facts,
            c.both(self.guard, conditions(conds)),
            self.ids if ids is None else ids,
            self.delayed,
            self.effects,
            self.unknown,
        )


def _add(
    walk: Walk, entity: str, res: str, service: str, *, level: float | None, exact: bool
) -> None:
    walk.effects.append(
        Effect(
            entity=entity,
            result=res,
            service=service,
            level=level,
            delayed=walk.delayed,
            exact=exact,
            trigger_ids=walk.ids,
            guard=None if walk.guard is c.TRUE else walk.guard,
        )
    )


def _call(walk: Walk, step: dict[str, Any]) -> None:
    name = step.get("action", step.get("service"))
    if not isinstance(name, str) or is_template(name) or "." not in name:
        walk.unknown.append(f"service {name}")
        return
    domain, service = name.split(".", 1)
    entities, problems = targets(step, domain, walk.facts)
    walk.unknown.extend(f"{name}: {problem}" for problem in problems)
    if name == "scene.turn_on":
        for scene in entities:
            for entity, res in scene_results(scene, walk.facts):
                _add(walk, entity, res, name, level=None, exact=True)
        return
    data = {**(step.get("data_template") or {}), **(step.get("data") or {})}
    outcome = result(domain, service, data if isinstance(data, dict) else {})
    if outcome is None:
        if domain in {"script", "automation"} or service.startswith("turn_"):
            walk.unknown.append(f"service {name}")
        return
    res, level, exact = outcome
    for entity in entities:
        _add(walk, entity, res, name, level=level, exact=exact and not problems)


def _device_action(walk: Walk, step: dict[str, Any]) -> None:
    entity = step.get("entity_id")
    kind = str(step.get("type", ""))
    res = {"turn_on": "on", "turn_off": "off", "toggle": "toggle"}.get(kind)
    if isinstance(entity, str) and res is not None:
        entity = walk.facts.registry_ids.get(entity, entity)
        _add(walk, entity, res, f"device.{kind}", level=None, exact=True)
    else:
        walk.unknown.append(f"device action {kind or '?'}")


def _blocks(walk: Walk, step: dict[str, Any]) -> bool:
    """Walk a block step; False when `step` is not a block."""
    if "choose" in step:
        for option in as_list(step["choose"]):
            if isinstance(option, dict):
                sequence(walk.branch(option.get("conditions")), option.get("sequence"))
        if "default" in step:
            sequence(walk, step["default"])
    elif "if" in step:
        sequence(walk.branch(step["if"]), step.get("then"))
        if "else" in step:
            sequence(walk, step["else"])
    elif "parallel" in step:
        for part in as_list(step["parallel"]):
            sequence(walk, part)
    elif "repeat" in step:
        sequence(walk, (step["repeat"] or {}).get("sequence"))
    elif "sequence" in step:
        sequence(walk, step["sequence"])
    else:
        return False
    return True


def sequence(walk: Walk, steps: Any) -> Walk:
    """Walk a sequence of steps; returns the walk as it is after the last step."""
    for step in as_list(steps):
        if not isinstance(step, dict) or step.get("enabled") is False:
            continue
        if _blocks(walk, step):
            continue
        if "action" in step or "service" in step:
            _call(walk, step)
        elif "scene" in step:
            _call(walk, {"action": "scene.turn_on", "entity_id": step["scene"]})
        elif "device_id" in step and "domain" in step:
            _device_action(walk, step)
        elif "condition" in step:
            walk = walk.branch([step])
        elif any(key in step for key in _WAITS):
            walk = Walk(walk.facts, walk.guard, walk.ids, True, walk.effects, walk.unknown)
        elif "stop" in step:
            break
    return walk


def effects(actions: Any, facts: Facts) -> tuple[list[Effect], list[str]]:
    """(effects, unknown parts) of an automation's actions."""
    walk = Walk(facts)
    sequence(walk, actions)
    return walk.effects, walk.unknown
