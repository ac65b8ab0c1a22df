"""Benchmark 11 still works (tiny sizes, no timing asserted); its cost model and the MQTT
figure it sits beside."""

from __future__ import annotations

import math
from pathlib import Path

from bench import store_channel

DOC = """# Benchmarks

## Results

| # | what | ours | baseline | ratio (ours / baseline) | target | met? |
|---|---|---|---|---|---|---|
| 6b | AWS IoT cost per home per month | 0.4277 USD | 1.2917 USD | 0.331x | fewer | yes |

## Missed targets at a glance

- none

## 6. Cloud cost

- the MQTT model
"""


def test_the_mqtt_cost_of_benchmark_6_is_read_from_the_doc(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(DOC)
    assert store_channel.mqtt_monthly_cost(doc) == 0.4277
    assert math.isnan(store_channel.mqtt_monthly_cost(tmp_path / "missing.md"))


def test_conditional_polling_costs_fewer_bytes_than_downloading_each_time() -> None:
    wire = store_channel.Wire(
        poll_unchanged=850,
        poll_download=1270,
        status_put=1600,
        file_cycle=6700,
        down_unchanged=270,
        down_download=750,
    )
    load = store_channel.Load()
    ours = store_channel.daily(load, wire, conditional=True)
    plain = store_channel.daily(load, wire, conditional=False)
    assert ours["requests"] == plain["requests"] == 1440 + 288 + 3 * 10
    assert plain["bytes"] - ours["bytes"] == 1440 * (1270 - 850)
    assert ours["usd"] < plain["usd"]


async def test_benchmark_11_runs_at_tiny_sizes(tmp_path: Path) -> None:
    sizes = store_channel.Sizes(nudged=3, polled=1, poll_interval=1.0, wire_polls=3)
    section = await store_channel.run(sizes, tmp_path)
    assert [row.number for row in section.rows] == ["11a", "11b", "11c", "11d", "11e"]
    by_number = {row.number: row for row in section.rows}
    assert by_number["11d"].met  # an unchanged poll moves fewer bytes than a download
    assert by_number["11a"].ours > 0
