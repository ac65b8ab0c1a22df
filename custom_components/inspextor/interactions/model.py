"""The normalised form of an automation, the registry facts and the findings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import hashlib
from typing import Any

from .constraints import Term

ANY = None  # a trigger's `to`/`from` that accepts any value


@dataclass(frozen=True, slots=True)
class Facts:
    """What the registries say; every map is optional.

    area_entities: area id -> entity ids in it (directly or through its devices).
    device_entities: device id -> entity ids of the device.
    scene_entities: scene entity id -> {entity id: state the scene sets}.
    inspextor: the entity ids InspeXtor provides (only their automations are reported).
    registry_ids: entity registry id -> entity id (device triggers may name either).
    """

    area_entities: Mapping[str, frozenset[str]] = field(default_factory=dict)
    device_entities: Mapping[str, frozenset[str]] = field(default_factory=dict)
    scene_entities: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    inspextor: frozenset[str] = frozenset()
    registry_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TimeSet:
    """Seconds of the day a trigger fires on: hours x minutes x seconds (None = every)."""

    hours: frozenset[int] | None
    minutes: frozenset[int] | None
    seconds: frozenset[int] | None

    def overlaps(self, other: TimeSet) -> bool:
        """Some second of the day is in both."""
        return all(
            mine is None or theirs is None or bool(mine & theirs)
            for mine, theirs in (
                (self.hours, other.hours),
                (self.minutes, other.minutes),
                (self.seconds, other.seconds),
            )
        )


@dataclass(slots=True)
class Trigger:
    """One trigger. `kind` is state, numeric_state, time, sun, homeassistant or unknown.

    For `unknown`, `detail` holds the platform and a canonical text of its config: two
    identical unknown triggers (the same template) may fire together; nothing else is known.
    """

    kind: str
    index: int
    trigger_id: str
    entity: str | None = None
    attribute: str | None = None
    to: frozenset[str] | None = ANY
    from_: frozenset[str] | None = ANY
    not_to: frozenset[str] = frozenset()  # `not_to`/`not_from`: states that do not fire
    not_from: frozenset[str] = frozenset()
    for_: str = ""
    above: float | None = None
    below: float | None = None
    times: TimeSet | None = None
    weekdays: frozenset[str] | None = None  # a time trigger's own `weekday` option
    detail: str = ""

    @property
    def event(self) -> str:
        """What the trigger listens to: two triggers on different events never coincide."""
        if self.kind in {"state", "numeric_state"}:
            return f"entity {self.entity}"
        return "time" if self.kind == "time" else f"{self.kind} {self.detail}"

    def describe(self) -> str:
        """A short text for the evidence ("state of binary_sensor.x to on")."""
        if self.kind == "state":
            to = "any" if self.to is None else "/".join(sorted(self.to))
            return f"{self.entity} changes to {to}" + (f" for {self.for_}" if self.for_ else "")
        if self.kind == "numeric_state":
            return f"{self.entity} {_range_text(self.above, self.below)}"
        return f"{self.kind} {self.detail}".strip()


def _range_text(above: float | None, below: float | None) -> str:
    parts = []
    if above is not None:
        parts.append(f"above {above:g}")
    if below is not None:
        parts.append(f"below {below:g}")
    return " and ".join(parts)


@dataclass(slots=True)
class Effect:
    """What an action does to one entity: `result` is on, off, toggle, open, closed, or
    `=value` (a select option, a number); `level` the brightness or position it sets.

    `exact` is false when a template decides the value or the target; `delayed` when a
    delay or wait runs before it; `trigger_ids` gate it (None: every trigger); `guard` is
    the conditions of the choose/if branches around it.
    """

    entity: str
    result: str
    service: str
    level: float | None = None  # brightness 0..255 or position 0..100 when given
    delayed: bool = False
    exact: bool = True
    trigger_ids: frozenset[str] | None = None
    guard: tuple[Term, ...] | None = None


@dataclass(slots=True)
class Automation:
    """An automation as the analysis sees it."""

    key: str  # the automation's entity id
    alias: str
    config_id: str | None
    triggers: list[Trigger]
    conditions: tuple[Term, ...]  # disjunctive normal form; () = can never hold
    effects: list[Effect]
    unknown: list[str] = field(default_factory=list)  # what the analysis could not read
    immediate: dict[str, list[Effect]] = field(default_factory=dict)  # by entity, no delay
    events: frozenset[str] = frozenset()  # what its triggers listen to (a quick pre-check)

    def __post_init__(self) -> None:
        self.events = frozenset(trig.event for trig in self.triggers)
        for effect in self.effects:
            if not effect.delayed:
                self.immediate.setdefault(effect.entity, []).append(effect)

    def acts_on(self, entities: frozenset[str]) -> bool:
        """Some effect targets one of `entities`."""
        return any(effect.entity in entities for effect in self.effects)


@dataclass(frozen=True, slots=True)
class Finding:
    """A conflict, loop or shadowed rule, with its severity and evidence."""

    kind: str  # conflict | loop | shadowed
    severity: str  # certain | possible
    automations: tuple[str, ...]  # automation entity ids
    entity: str
    evidence: Mapping[str, Any]

    @property
    def key(self) -> str:
        """Stable id of the finding (the same problem keeps its id across analyses)."""
        text = "|".join((self.kind, self.entity, *sorted(self.automations)))
        return f"{self.kind}_{hashlib.blake2s(text.encode(), digest_size=6).hexdigest()}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (service response, diagnostics)."""
        return {
            "id": self.key,
            "kind": self.kind,
            "severity": self.severity,
            "automations": list(self.automations),
            "entity": self.entity,
            "evidence": dict(self.evidence),
        }
