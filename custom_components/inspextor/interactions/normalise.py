"""An automation's raw config (as HA stores it) in normalised form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .actions import effects
from .conditions import conditions, trigger_ids
from .model import Automation, Facts
from .triggers import triggers


def _first(config: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in config:
            return config[key]
    return None


def normalise(key: str, config: Mapping[str, Any], facts: Facts) -> Automation:
    """Triggers, conditions and effects of one automation (`key`: its entity id).

    Both spellings HA accepts are read: `triggers`/`trigger`, `conditions`/`condition`,
    `actions`/`action`, and a trigger's `trigger`/`platform`.
    """
    trigs = triggers(_first(config, "triggers", "trigger"), facts)
    conds = _first(config, "conditions", "condition")
    acts, unknown = effects(_first(config, "actions", "action"), facts)
    allowed = trigger_ids(conds)
    if allowed is not None:  # a top-level trigger condition drops the other triggers
        trigs = [trig for trig in trigs if trig.trigger_id in allowed]
    unknown = [*unknown, *(f"trigger {trig.detail}" for trig in trigs if trig.kind == "unknown")]
    config_id = config.get("id")
    return Automation(
        key=key,
        alias=str(config.get("alias") or key),
        config_id=None if config_id is None else str(config_id),
        triggers=trigs,
        conditions=conditions(conds),
        effects=acts,
        unknown=unknown,
    )
