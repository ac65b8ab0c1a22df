"""The corpus: automation sets as users write them, with the findings they must give.

Each YAML file holds `facts` (InspeXtor's entities, areas, devices), optional `scenes`
and `blueprints`, the `automations` (list, as automations.yaml), and `expected`.
`use_blueprint` is substituted here, as HA does before it stores an automation's config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from custom_components.inspextor.interactions import Facts

CORPUS = Path(__file__).parent / "corpus"


class _Input:
    def __init__(self, name: str) -> None:
        self.name = name


class _Loader(yaml.SafeLoader):
    """Reads `!input name` as a placeholder."""


def _input(loader: yaml.SafeLoader, node: yaml.Node) -> _Input:
    assert isinstance(node, yaml.ScalarNode)
    return _Input(str(loader.construct_scalar(node)))


_Loader.add_constructor("!input", _input)


def _substitute(value: Any, inputs: dict[str, Any]) -> Any:
    if isinstance(value, _Input):
        return inputs[value.name]
    if isinstance(value, dict):
        return {key: _substitute(item, inputs) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, inputs) for item in value]
    return value


@dataclass
class Case:
    """One corpus file, ready for the analysis."""

    name: str
    automations: dict[str, dict[str, Any]]
    facts: Facts
    expected: list[dict[str, Any]]


def _automation(conf: dict[str, Any], blueprints: dict[str, Any]) -> dict[str, Any]:
    if "use_blueprint" not in conf:
        return conf
    use = conf["use_blueprint"]
    body = {k: v for k, v in blueprints[use["path"]].items() if k != "blueprint"}
    rest = {k: v for k, v in conf.items() if k != "use_blueprint"}
    return {**_substitute(body, use.get("input", {})), **rest}


def load(path: Path) -> Case:
    """Read one corpus file."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    facts = data.get("facts", {})
    blueprints = data.get("blueprints", {})
    return Case(
        name=path.stem,
        automations={
            f"automation.{conf['id']}": _automation(conf, blueprints)
            for conf in data["automations"]
        },
        facts=Facts(
            inspextor=frozenset(facts.get("inspextor", [])),
            area_entities={k: frozenset(v) for k, v in facts.get("areas", {}).items()},
            device_entities={k: frozenset(v) for k, v in facts.get("devices", {}).items()},
            scene_entities=data.get("scenes", {}),
        ),
        expected=data.get("expected", []),
    )


CASES = sorted(CORPUS.glob("*.yaml"))
