"""Every corpus set gives exactly its planted findings, and no false certain one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from custom_components.inspextor.interactions import Analyser, Finding, analyse

from .corpus_loader import CASES, load


def _summary(findings: list[Finding]) -> list[dict[str, Any]]:
    return sorted(
        (
            {
                "kind": f.kind,
                "severity": f.severity,
                "automations": sorted(key.removeprefix("automation.") for key in f.automations),
                "entity": f.entity,
            }
            for f in findings
        ),
        key=lambda item: (item["kind"], item["entity"]),
    )


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_corpus_findings(path: Path) -> None:
    """The findings are the expected ones: kind, severity, automations and entity."""
    case = load(path)
    expected = sorted(
        ({**item, "automations": sorted(item["automations"])} for item in case.expected),
        key=lambda item: (item["kind"], item["entity"]),
    )
    assert _summary(analyse(case.automations, case.facts)) == expected


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_incremental_equals_full(path: Path) -> None:
    """Adding the automations one by one ends with the same findings as one analysis."""
    case = load(path)
    analyser = Analyser(case.facts)
    analyser.rebuild({})
    for key, conf in case.automations.items():
        analyser.update(key, conf)
    assert _summary(analyser.sorted_findings()) == _summary(analyse(case.automations, case.facts))


def test_corpus_covers_the_forms() -> None:
    """The corpus holds blueprints, areas, devices, choose/if, templates and a clean set."""
    text = "".join(path.read_text(encoding="utf-8") for path in CASES)
    for form in ("use_blueprint", "area_id", "device_id", "choose", "if:", "value_template"):
        assert form in text, form
    assert any(not load(path).expected for path in CASES)
