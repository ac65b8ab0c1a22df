"""Interactions: conflicts, loops and shadowed rules among Home Assistant automations.

A pure analysis (no Home Assistant import): the integration feeds it the raw configs of
the `automation` entities and what the registries say, and shows what it finds as repair
issues (interactions_repairs.py). The cloud's own rules (issue 17) are checked by the same
functions before they are saved.

API
- `analyse(automations, facts) -> list[Finding]`: every finding of a set of automations.
  `automations` maps each automation's entity id to its raw config (blueprints already
  substituted), `facts` (a `Facts`) gives areas, devices, scenes and InspeXtor's entities.
- `check_candidate(key, candidate, existing, facts) -> list[Finding]`: the findings a
  new or changed automation would bring, against the existing ones.
- `Analyser`: the same with indexes by entity; `rebuild(configs, facts)` once, then
  `update(key, config or None)` per changed automation (cheap: only its neighbours).

A `Finding` has `kind` (conflict, loop, shadowed), `severity` (certain, or possible where a
template, an unknown trigger or a condition leaves doubt), `automations` (entity ids),
`entity` and `evidence` (which triggers, which actions, which values).

What is read: triggers state, numeric_state, time, time_pattern, sun, homeassistant and
device (anything else is `unknown`: listed in `Automation.unknown`, and two identical
unknown triggers count as possibly simultaneous); conditions state, numeric_state, time,
sun, and/or/not, trigger ids (anything else is opaque: it may be false, so it lowers a
finding to possible but never hides one); effects through action/service, target, data,
entity_id, device_id, area_id, scenes, device actions, inside choose, if/then/else,
sequence, parallel and repeat, with delays and waits marking what comes after them.
Only automations acting on an InspeXtor entity are reported; loops may pass through any.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .analyser import Analyser
from .model import Automation, Facts, Finding
from .normalise import normalise

__all__ = ["Analyser", "Automation", "Facts", "Finding", "analyse", "check_candidate", "normalise"]


def analyse(automations: Mapping[str, Mapping[str, Any]], facts: Facts) -> list[Finding]:
    """Every finding of `automations` (entity id -> raw config)."""
    return Analyser(facts).rebuild(automations)


def check_candidate(
    key: str,
    candidate: Mapping[str, Any],
    existing: Mapping[str, Mapping[str, Any]],
    facts: Facts,
) -> list[Finding]:
    """The findings that involve `candidate` (saved as `key`) among `existing`."""
    analyser = Analyser(facts)
    analyser.rebuild({name: conf for name, conf in existing.items() if name != key})
    return [found for found in analyser.update(key, candidate) if key in found.automations]
