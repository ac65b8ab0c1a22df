"""Benchmarks 4 and 7 still run, at tiny sizes: three real hass sides (ours, the floor,
HA's MQTT platforms) and the bridge process. No timing is asserted: the figures of a
tiny run mean nothing; what must hold is that every side set up, took every message,
resynced after a broker restart, and that every row has a figure."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import bridge_scale, ingest

pytestmark = pytest.mark.e2e


async def test_large_home_benchmark_runs_all_three_sides(tmp_path: Path) -> None:
    sizes = ingest.Sizes(devices=(12,), messages_per_blast=0, runs=1)
    section, data = await ingest.run(tmp_path, sizes)
    assert section.rows
    for row in section.rows:
        assert not math.isnan(row.ours), row
        assert not math.isnan(row.baseline), row
    # the floor is a floor only if it writes what ours writes, attribute for attribute
    assert any(
        "states: ours and the floor write the same attributes for every kind" in note
        for note in section.method
    ), section.method
    sides = data.keys()
    assert set(sides) == {"ours", "floor", "mqtt"}
    for side in sides:
        figures = data[side]["12"]
        assert figures["setup_s"] > 0
        assert figures["ingest"] > 0
        assert figures["rss_mib"] > 0


async def test_bridge_scale_benchmark_counts_the_whole_snapshot(tmp_path: Path) -> None:
    sizes = bridge_scale.Sizes(entities=(40,), flood_seconds=1, outbox_seconds=1, idle_seconds=0.5)
    section, data = await bridge_scale.run(tmp_path, sizes)
    rows = {row.number: row for row in section.rows}
    assert rows["10c-40"].ours >= 1  # at least one structure part reached the cloud
    assert rows["10c'-40"].met  # no publish over 128 KB
    assert data["40"]["idle_mib"] > 0
    assert not math.isnan(rows["10f-40"].ours)
