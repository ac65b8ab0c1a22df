"""Benchmark 7's code still works at a tiny size (no timing asserted)."""

from __future__ import annotations

from bench import interactions as bench7
from bench.report import Row, Section, splice
from custom_components.inspextor.interactions import analyse


async def test_bench_runs_and_splices() -> None:
    """All rows appear; a rerun replaces section 7 of the doc and keeps the rest."""
    section = await bench7.run(bench7.Sizes(automations=120, changes=3))
    assert [row.number for row in section.rows] == ["7a", "7b", "7c", "7d", "7e", "7f"]
    doc = "\n".join(
        [
            "## Results",
            "",
            "| # | what |",
            "|---|---|",
            "| 6c | cost | 1 | 2 | 1x | t | yes |",
            "",
            "## 6. Cloud cost",
            "",
            "- six",
        ]
    )
    once = splice(doc, section)
    twice = splice(once, Section(section.title, rows=[Row("7a", "x", 1, 2, "ms", "t", True)]))
    assert "## 6. Cloud cost" in twice
    assert "- six" in twice
    assert twice.count("## 7. Interactions analysis") == 1
    assert [line[:5] for line in twice.splitlines() if line.startswith("| 7")] == ["| 7a "]


def test_generated_home_has_what_the_baseline_finds() -> None:
    """The all-pairs baseline and the indexed analysis agree on the conflicts."""
    configs, facts = bench7.generate(300)
    ours = [f for f in analyse(configs, facts) if f.kind == "conflict"]
    assert ours
    assert bench7.naive(configs, facts) == len(ours)
