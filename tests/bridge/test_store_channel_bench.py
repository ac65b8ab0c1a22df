"""Benchmark 8 still works (tiny sizes, no timing asserted) and is put into the report
without touching the other benchmarks' figures."""

from __future__ import annotations

from pathlib import Path

from bench import store_channel
from bench.report import Row, Section

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


def _section(value: float) -> Section:
    row = Row("8e", "S3 cost per home per month", value, 0.4277, "USD", "(report)", None, 4)
    return Section("8. Store channel", [row], ["measured on moto_server"], [])


def test_the_section_is_spliced_in_and_replaced_on_a_rerun(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(DOC)
    store_channel.write_into_doc(_section(0.1), doc)
    store_channel.write_into_doc(_section(0.2), doc)
    text = doc.read_text()
    assert text.count("| 8e |") == 1
    assert "0.2000 USD" in text
    assert "0.1000 USD" not in text
    assert text.count("## 8. Store channel") == 1
    assert "| 6b | AWS IoT cost per home per month | 0.4277 USD" in text  # kept as it was
    assert text.index("| 6b |") < text.index("| 8e |") < text.index("## Missed targets")
    assert store_channel.mqtt_monthly_cost(doc) == 0.4277


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


async def test_benchmark_8_runs_at_tiny_sizes(tmp_path: Path) -> None:
    sizes = store_channel.Sizes(nudged=3, polled=1, poll_interval=1.0, wire_polls=3)
    section = await store_channel.run(sizes, tmp_path)
    assert [row.number for row in section.rows] == ["8a", "8b", "8c", "8d", "8e"]
    by_number = {row.number: row for row in section.rows}
    assert by_number["8d"].met  # an unchanged poll moves fewer bytes than a download
    assert by_number["8a"].ours > 0
