"""Run the benchmarks and rewrite docs/benchmarks.md.

python -m bench                          # all of them, writes docs/benchmarks.md
python -m bench --only 3,6               # some of them, printed only (the doc is kept)
python -m bench --only 7                 # 4, 7, 8, 10 stand alone: rewrite their section
python -m bench --quick                  # tiny sizes: checks the code, figures meaningless
python -m bench --only 4,10 --sizes 1000,5000   # the large-home benchmarks at these sizes
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import logging
from pathlib import Path
import tempfile
import time
import traceback

from bench import (
    bridge_scale,
    chart,
    cost,
    footprint,
    ingest,
    interactions,
    machine,
    stack_latency,
    store_channel,
    sync_pipeline,
    things_sync,
)
from bench.report import Row, Section, render, splice, table

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
CHART_DATA = DOC.parent / "images" / "scale.json"
ALL = ("1", "2", "3", "4", "5", "6", "7", "8", "10", "11")
# Benchmarks that take nothing from the others: run alone, they refresh their own section.
STANDALONE = frozenset({"4", "7", "8", "10", "11"})
_LOGGER = logging.getLogger("bench")


@dataclass
class Run:
    """What one invocation asked for, and what earlier benchmarks left for later ones."""

    only: set[str]
    quick: bool
    workdir: Path
    sizes: tuple[int, ...] | None = None
    results: dict[str, list[Section]] = field(default_factory=dict)
    sync: sync_pipeline.SyncResults | None = None
    stack: stack_latency.StackResults | None = None


async def _guarded(title: str, make: Callable[[], Awaitable[list[Section]]]) -> list[Section]:
    """Run one benchmark; a failure becomes a section that says so instead of a crash."""
    started = time.monotonic()
    print(f"--- {title} ...", flush=True)
    try:
        sections = await make()
    except Exception as err:  # one broken benchmark must not hide the rest
        traceback.print_exc()
        return [Section(title, error=f"{type(err).__name__}: {err}")]
    print(f"--- {title} done in {time.monotonic() - started:.0f} s", flush=True)
    print(table(sections), flush=True)
    return sections


async def _sync(run: Run) -> None:
    sizes = (
        sync_pipeline.Sizes(
            ingest_changes=3000,
            flood_seconds=2,
            naive_ingest_changes=1000,
            entities=100,
            low_window=1.0,
        )
        if run.quick
        else sync_pipeline.Sizes()
    )

    async def three() -> list[Section]:
        section, run.sync = await sync_pipeline.run(sizes)
        return [section]

    run.results["3"] = await _guarded("3. Sync throughput", three)


async def _stack(run: Run) -> None:
    sizes = (
        stack_latency.Sizes(commands=20, block=10, device_block=5, changes=10)
        if run.quick
        else stack_latency.Sizes()
    )

    async def one_two() -> list[Section]:
        first, second, run.stack = await stack_latency.run(run.workdir / "stack", sizes)
        return [first, second]

    both = await _guarded("1+2. Stack latency", one_two)
    run.results["1"], run.results["2"] = (both[:1], both[1:]) if len(both) == 2 else (both, [])


async def _large_home(run: Run) -> None:
    sizes = (
        ingest.Sizes(devices=(24,), messages_per_blast=0, runs=1) if run.quick else ingest.Sizes()
    )
    if run.sizes:
        sizes.devices = run.sizes

    async def four() -> list[Section]:
        section, data = await ingest.run(run.workdir / "ingest", sizes)
        chart.write("home", data, CHART_DATA)
        return [section]

    run.results["4"] = await _guarded("4. A large home", four)


async def _footprint(run: Run) -> None:
    sizes = (
        footprint.Sizes(entities=100, rate=200, flood_seconds=2, outbox_seconds=2, idle_seconds=1)
        if run.quick
        else footprint.Sizes()
    )
    sync = run.sync
    naive_bytes = sync.naive.nbytes / max(sync.flood_changes, 1) if sync else float("nan")
    five = await _guarded("5. Footprint", lambda: _one(footprint.run(sizes, naive_bytes)))
    idle = run.stack.bridge_idle_kib if run.stack is not None else 0
    if idle and not five[0].error:
        five[0].rows.append(
            Row(
                "5d",
                "bridge RSS idle in the full stack (real hass, demo home)",
                idle / 1024,
                float("nan"),
                "MiB",
                f"≤ {footprint.TARGET_MIB} MiB",
                idle / 1024 <= footprint.TARGET_MIB,
                1,
            )
        )
    run.results["5"] = five


def _cost(run: Run) -> None:
    sync, stack = run.sync, run.stack
    if sync is None or not sync.flood_changes:
        run.results["6"] = [Section("6. Cloud cost", error="needs benchmark 3's byte counts")]
        return
    sizes = cost.Sizes(
        low_record=sync.bytes_per_low_record,
        high_packet=sync.bytes_per_high_record,
        naive_change=sync.naive.nbytes / sync.flood_changes,
        **(
            {"action": stack.action_bytes, "result": stack.result_bytes}
            if stack and stack.action_bytes
            else {}
        ),
    )
    run.results["6"] = [cost.run(sizes)]
    print(table(run.results["6"]), flush=True)


async def _interactions(run: Run) -> None:
    sizes = interactions.Sizes(automations=200, changes=5) if run.quick else interactions.Sizes()
    run.results["7"] = await _guarded(
        "7. Interactions analysis", lambda: _one(interactions.run(sizes))
    )


async def _things_sync(run: Run) -> None:
    sizes = (
        things_sync.Sizes(sets=50, mqtt_rounds=50, converge_sets=20, resync_controllers=4)
        if run.quick
        else things_sync.Sizes()
    )
    run.results["8"] = await _guarded("8. things_sync", lambda: _one(things_sync.run(sizes)))


async def _bridge_scale(run: Run) -> None:
    sizes = (
        bridge_scale.Sizes(entities=(60,), flood_seconds=1, outbox_seconds=1, idle_seconds=1)
        if run.quick
        else bridge_scale.Sizes()
    )
    if run.sizes:
        sizes.entities = run.sizes

    async def ten() -> list[Section]:
        section, data = await bridge_scale.run(run.workdir / "bridge-scale", sizes)
        chart.write("bridge", data, CHART_DATA)
        return [section]

    run.results["10"] = await _guarded("10. The bridge at scale", ten)


async def _store_channel(run: Run) -> None:
    sizes = (
        store_channel.Sizes(nudged=5, polled=2, poll_interval=2.0, wire_polls=5)
        if run.quick
        else store_channel.Sizes()
    )
    run.results["11"] = await _guarded(
        "11. Store channel", lambda: _one(store_channel.run(sizes, run.workdir / "store"))
    )


async def run_all(run: Run) -> list[Section]:
    """Every selected benchmark in an order that keeps the machine's load apart."""
    only = run.only
    if only & {"3", "5", "6"}:
        await _sync(run)
    if only & {"1", "2"}:
        await _stack(run)
    steps: list[tuple[str, Callable[[Run], Awaitable[None]]]] = [
        ("4", _large_home),
        ("5", _footprint),
        ("7", _interactions),
        ("8", _things_sync),
        ("10", _bridge_scale),
        ("11", _store_channel),
    ]
    for number, step in steps:
        if number in only:
            await step(run)
    if "6" in only:
        _cost(run)
    return [s for key in sorted(run.results, key=int) for s in run.results[key]]


async def _one(coro: Awaitable[Section]) -> list[Section]:
    return [await coro]


def main() -> None:
    parser = argparse.ArgumentParser(description="InspeXtor benchmarks")
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated numbers")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, no doc written")
    parser.add_argument("--out", type=Path, default=DOC)
    parser.add_argument(
        "--sizes", default="", help="benchmarks 4 and 10: device/entity counts, e.g. 1000,10000"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    sizes = tuple(int(part) for part in args.sizes.split(",") if part.strip()) or None
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="inx-bench-") as tmp:
        sections = asyncio.run(run_all(Run(only, args.quick, Path(tmp), sizes)))
    elapsed = time.monotonic() - started
    print("\n" + table(sections))
    print(f"\nall done in {elapsed:.0f} s")
    if args.quick:
        return
    if only == set(ALL):
        args.out.write_text(render(sections, machine.describe(), elapsed), encoding="utf-8")
        print(f"wrote {args.out}")
    elif only <= STANDALONE and all(not s.error for s in sections):
        text = args.out.read_text(encoding="utf-8")
        for section in sections:
            text = splice(text, section)
        args.out.write_text(text, encoding="utf-8")
        print(f"updated section(s) {', '.join(sorted(only))} of {args.out}")


if __name__ == "__main__":
    main()
