"""The analysis with indexes by entity, so that one changed automation is cheap to redo."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from itertools import combinations
from typing import Any

from .findings import conflict, incompatible_results, shadowed
from .loops import cycle, loop_finding
from .model import Automation, Facts, Finding
from .normalise import normalise


def _add(index: dict[str, set[str]], entity: str, key: str) -> None:
    index.setdefault(entity, set()).add(key)


def _drop(index: dict[str, set[str]], entity: str, key: str) -> None:
    if (keys := index.get(entity)) is not None:
        keys.discard(key)
        if not keys:
            del index[entity]


type Signature = frozenset[tuple[str, float | None]]  # what an automation does to an entity


@lru_cache(maxsize=4096)
def _clashing(one: Signature, two: Signature) -> bool:
    """Some action of the first group is incompatible with some of the second."""
    return any(
        incompatible_results(res_a, level_a, res_b, level_b)
        for res_a, level_a in one
        for res_b, level_b in two
    )


class Analyser:
    """Automations, their indexes and the findings; `update` redoes one automation.

    Indexes: entity -> automations acting on it, entity -> automations it triggers
    (state and numeric_state triggers), automation -> ids of its findings.
    """

    def __init__(self, facts: Facts | None = None) -> None:
        self.facts = facts or Facts()
        self.automations: dict[str, Automation] = {}
        self.acting_on: dict[str, set[str]] = {}
        self.triggered_by: dict[str, set[str]] = {}
        self.findings: dict[str, Finding] = {}
        self._involving: dict[str, set[str]] = {}

    # --- indexes -------------------------------------------------------------------
    def _index(self, auto: Automation, add: bool) -> None:
        change = _add if add else _drop
        for entity in {effect.entity for effect in auto.effects}:
            change(self.acting_on, entity, auto.key)
        for entity in {trig.entity for trig in auto.triggers if trig.entity}:
            change(self.triggered_by, entity, auto.key)

    def _record(self, finding: Finding | None) -> None:
        if finding is None or finding.key in self.findings:
            return
        self.findings[finding.key] = finding
        for key in finding.automations:
            self._involving.setdefault(key, set()).add(finding.key)

    def _forget(self, key: str) -> None:
        for finding_id in self._involving.pop(key, set()):
            finding = self.findings.pop(finding_id, None)
            for other in finding.automations if finding else ():
                if other != key and (ids := self._involving.get(other)):
                    ids.discard(finding_id)

    # --- analysis ------------------------------------------------------------------
    def _check(self, auto: Automation, others: Iterable[str] | None = None) -> None:
        """Findings of `auto` (its conflicts with `others`, or with every automation)."""
        ours = self.facts.inspextor
        mine = sorted({eff.entity for eff in auto.effects if eff.entity in ours})
        if mine:
            self._record(shadowed(auto, mine[0]))
        for entity in mine:
            for other in sorted(self.acting_on.get(entity, ())):
                if (
                    other != auto.key
                    and (others is None or other in others)
                    and not auto.events.isdisjoint(self.automations[other].events)
                ):
                    first, second = sorted((auto.key, other))
                    self._record(
                        conflict(self.automations[first], self.automations[second], entity)
                    )
        feeds_back = any(eff.entity in self.triggered_by for eff in auto.effects) and any(
            trig.entity in self.acting_on for trig in auto.triggers
        )
        path = cycle(auto, self.automations, self.triggered_by) if feeds_back else None
        if path is not None:
            finding = loop_finding(path, self.automations, ours)
            if any(self.automations[key].acts_on(ours) for key in finding.automations):
                self._record(finding)

    def rebuild(
        self, configs: Mapping[str, Mapping[str, Any]], facts: Facts | None = None
    ) -> list[Finding]:
        """Analyse every automation from scratch."""
        if facts is not None:
            self.facts = facts
        self.automations = {key: normalise(key, conf, self.facts) for key, conf in configs.items()}
        self.acting_on, self.triggered_by, self.findings, self._involving = {}, {}, {}, {}
        for auto in self.automations.values():
            self._index(auto, True)
        ours = self.facts.inspextor
        for entity in sorted(ours & self.acting_on.keys()):
            self._conflicts_on(entity)
        for auto in self.automations.values():
            self._check(auto, others=())
        return self.sorted_findings()

    def _conflicts_on(self, entity: str) -> None:
        """Conflicts over one entity; automations grouped by what they do to it, so that
        only groups whose actions are incompatible are compared pair by pair."""
        groups: dict[Signature, list[Automation]] = {}
        for key in self.acting_on[entity]:
            auto = self.automations[key]
            sig = frozenset((eff.result, eff.level) for eff in auto.immediate.get(entity, ()))
            groups.setdefault(sig, []).append(auto)
        sigs = list(groups)
        for index, sig in enumerate(sigs):
            for other_sig in sigs[index:]:
                if not _clashing(sig, other_sig):
                    continue
                pairs = (
                    combinations(groups[sig], 2)
                    if sig == other_sig
                    else ((a, b) for a in groups[sig] for b in groups[other_sig])
                )
                for one, two in pairs:
                    if one.events.isdisjoint(two.events):
                        continue
                    first, second = (one, two) if one.key < two.key else (two, one)
                    self._record(conflict(first, second, entity))

    def update(self, key: str, config: Mapping[str, Any] | None) -> list[Finding]:
        """One automation was added, changed (`config`) or removed (None)."""
        if (old := self.automations.pop(key, None)) is not None:
            self._index(old, False)
        self._forget(key)
        if config is not None:
            auto = normalise(key, config, self.facts)
            self.automations[key] = auto
            self._index(auto, True)
            self._check(auto)
        return self.sorted_findings()

    def sorted_findings(self) -> list[Finding]:
        """Every finding, certain first."""
        return sorted(
            self.findings.values(), key=lambda f: (f.severity != "certain", f.kind, f.key)
        )
