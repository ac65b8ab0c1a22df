"""Benchmark 7 (things_sync) still works at a tiny size; its doc splice keeps the rest.

No timing is asserted: what is asserted is what the benchmark exists to show (one
datagram each way per change, batching cuts the resync's datagrams) and that refreshing
section 7 leaves every other row of docs/benchmarks.md alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import things_sync
from bench.report import Row, Section, splice
from devkit.devcloud.broker import find_mosquitto

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"


@pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto not installed")
async def test_benchmark_7_runs_and_measures_what_it_claims() -> None:
    sizes = things_sync.Sizes(
        sets=20, mqtt_rounds=20, converge_sets=20, resync_controllers=3, resync_per=12
    )
    section = await things_sync.run(sizes)
    rows = {row.number: row for row in section.rows}
    assert set(rows) == {"8a", "8b", "8c", "8d", "8e", "8f"}
    assert rows["8d"].ours == 2.0  # one set, one reply per confirmed change
    assert 50 < rows["8c"].ours < 400
    assert all(row.ours > 0 and row.baseline > 0 for row in section.rows)


def test_splice_replaces_only_its_own_rows_and_section() -> None:
    """Section 8 alone rewrites its rows and text; 1..7 and 10 (whose number starts with
    1) keep theirs."""
    lines = DOC.read_text(encoding="utf-8").split("\n")
    last_row = max(i for i, line in enumerate(lines) if line.startswith("| 6"))
    lines.insert(last_row + 1, "| 10a-1k | scale | 1 s | 2 s | 0.5x | t | n/a |")
    text = "\n".join(lines)
    section = Section("8. things_sync", [Row("8a", "x", 1.0, 2.0, "ms", "(report)", None)])
    section.method.append("method of 8")
    once = splice(text, section)
    twice = splice(once, section)
    assert once == twice
    assert "| 8a | x | 1.0 ms | 2.0 ms |" in once
    assert "- method of 8" in once
    others = [line for line in text.split("\n") if not line.startswith("| 8")]
    kept = [line for line in once.split("\n") if not line.startswith("| 8")]
    assert [line for line in others if line.startswith("| ")] == [
        line for line in kept if line.startswith("| ")
    ]
