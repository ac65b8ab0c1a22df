"""Run the benchmarks and rewrite docs/benchmarks.md.

python -m bench                 # all six, writes docs/benchmarks.md
python -m bench --only 3,6      # some of them, printed only (the doc is kept)
python -m bench --quick         # tiny sizes: checks the code, figures meaningless
python -m bench --only 4 --sizes 1000,5000   # benchmark 4 at these device counts
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
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
    machine,
    stack_latency,
    sync_pipeline,
)
from bench.report import Row, Section, render, table

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
CHART_DATA = DOC.parent / "images" / "scale.json"
ALL = "1,2,3,4,5,6,7"
_LOGGER = logging.getLogger("bench")


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


async def run_all(
    only: set[str], quick: bool, workdir: Path, device_sizes: tuple[int, ...] | None = None
) -> list[Section]:
    """Every selected benchmark in an order that keeps the machine's load apart."""
    results: dict[str, list[Section]] = {}
    sync_numbers: sync_pipeline.SyncResults | None = None
    stack_numbers: stack_latency.StackResults | None = None

    if "3" in only or "6" in only or "5" in only:
        sizes = (
            sync_pipeline.Sizes(
                ingest_changes=3000,
                flood_seconds=2,
                naive_ingest_changes=1000,
                entities=100,
                low_window=1.0,
            )
            if quick
            else sync_pipeline.Sizes()
        )

        async def three() -> list[Section]:
            nonlocal sync_numbers
            section, sync_numbers = await sync_pipeline.run(sizes)
            return [section]

        results["3"] = await _guarded("3. Sync throughput", three)
    if "1" in only or "2" in only:
        stack_sizes = (
            stack_latency.Sizes(commands=20, block=10, device_block=5, changes=10)
            if quick
            else stack_latency.Sizes()
        )

        async def one_two() -> list[Section]:
            nonlocal stack_numbers
            first, second, stack_numbers = await stack_latency.run(workdir / "stack", stack_sizes)
            return [first, second]

        both = await _guarded("1+2. Stack latency", one_two)
        results["1"], results["2"] = (both[:1], both[1:]) if len(both) == 2 else (both, [])
    if "4" in only:
        ingest_sizes = (
            ingest.Sizes(devices=(24,), messages_per_device=2, runs=1) if quick else ingest.Sizes()
        )
        if device_sizes:
            ingest_sizes.devices = device_sizes

        async def four() -> list[Section]:
            section, data = await ingest.run(workdir / "ingest", ingest_sizes)
            chart.write("home", data, CHART_DATA)
            return [section]

        results["4"] = await _guarded("4. A large home", four)
    if "5" in only:
        fp_sizes = (
            footprint.Sizes(
                entities=100, rate=200, flood_seconds=2, outbox_seconds=2, idle_seconds=1
            )
            if quick
            else footprint.Sizes()
        )
        naive_bytes = (
            sync_numbers.naive.nbytes / max(sync_numbers.flood_changes, 1)
            if sync_numbers
            else float("nan")
        )
        five = await _guarded("5. Footprint", lambda: _one(footprint.run(fp_sizes, naive_bytes)))
        if stack_numbers is not None and stack_numbers.bridge_idle_kib and not five[0].error:
            five[0].rows.append(
                Row(
                    "5d",
                    "bridge RSS idle in the full stack (real hass, demo home)",
                    stack_numbers.bridge_idle_kib / 1024,
                    float("nan"),
                    "MiB",
                    f"≤ {footprint.TARGET_MIB} MiB",
                    stack_numbers.bridge_idle_kib / 1024 <= footprint.TARGET_MIB,
                    1,
                )
            )
        results["5"] = five
    if "6" in only:
        if sync_numbers is None or not sync_numbers.flood_changes:
            results["6"] = [Section("6. Cloud cost", error="needs benchmark 3's byte counts")]
        else:
            sizes6 = cost.Sizes(
                low_record=sync_numbers.bytes_per_low_record,
                high_packet=sync_numbers.bytes_per_high_record,
                naive_change=sync_numbers.naive.nbytes / sync_numbers.flood_changes,
                **(
                    {"action": stack_numbers.action_bytes, "result": stack_numbers.result_bytes}
                    if stack_numbers and stack_numbers.action_bytes
                    else {}
                ),
            )
            results["6"] = [cost.run(sizes6)]
            print(table(results["6"]), flush=True)
    if "7" in only:
        scale_sizes = (
            bridge_scale.Sizes(entities=(60,), flood_seconds=1, outbox_seconds=1, idle_seconds=1)
            if quick
            else bridge_scale.Sizes()
        )
        if device_sizes:
            scale_sizes.entities = device_sizes

        async def seven() -> list[Section]:
            section, data = await bridge_scale.run(workdir / "bridge-scale", scale_sizes)
            chart.write("bridge", data, CHART_DATA)
            return [section]

        results["7"] = await _guarded("7. The bridge at scale", seven)
    return [s for key in sorted(results) for s in results[key]]


async def _one(coro: Awaitable[Section]) -> list[Section]:
    return [await coro]


def main() -> None:
    parser = argparse.ArgumentParser(description="InspeXtor benchmarks (issue #6)")
    parser.add_argument("--only", default=ALL, help="comma-separated numbers")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, no doc written")
    parser.add_argument("--out", type=Path, default=DOC)
    parser.add_argument(
        "--sizes", default="", help="benchmarks 4 and 7: device/entity counts, e.g. 1000,10000"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    everything = only == set(ALL.split(","))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="inx-bench-") as tmp:
        sizes = tuple(int(part) for part in args.sizes.split(",") if part.strip())
        sections = asyncio.run(run_all(only, args.quick, Path(tmp), sizes or None))
    elapsed = time.monotonic() - started
    print("\n" + table(sections))
    print(f"\nall done in {elapsed:.0f} s")
    if everything and not args.quick:
        args.out.write_text(render(sections, machine.describe(), elapsed), encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
