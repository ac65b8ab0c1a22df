"""Run the benchmarks and rewrite docs/benchmarks.md.

python -m bench                 # all seven, writes docs/benchmarks.md
python -m bench --only 7        # things_sync alone: rewrites its own rows of the doc
python -m bench --only 3,6      # some of them, printed only (the doc is kept)
python -m bench --quick         # tiny sizes: checks the code, figures meaningless
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
    cost,
    footprint,
    ingest,
    machine,
    stack_latency,
    sync_pipeline,
    things_sync,
)
from bench.report import Row, Section, render, splice, table

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
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


async def run_all(only: set[str], quick: bool, workdir: Path) -> list[Section]:
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
            ingest.Sizes(devices=40, messages_per_device=3, polled_runs=1)
            if quick
            else ingest.Sizes()
        )
        results["4"] = await _guarded(
            "4. Integration ingest", lambda: _one(ingest.run(workdir / "ingest", ingest_sizes))
        )
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
        results["7"] = await _things_sync(quick)
    return [s for key in sorted(results) for s in results[key]]


async def _things_sync(quick: bool) -> list[Section]:
    sizes = (
        things_sync.Sizes(sets=50, mqtt_rounds=50, converge_sets=20, resync_controllers=4)
        if quick
        else things_sync.Sizes()
    )
    return await _guarded("7. things_sync", lambda: _one(things_sync.run(sizes)))


async def _one(coro: Awaitable[Section]) -> list[Section]:
    return [await coro]


def main() -> None:
    parser = argparse.ArgumentParser(description="InspeXtor benchmarks (issue #6)")
    parser.add_argument("--only", default="1,2,3,4,5,6,7", help="comma-separated numbers")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, no doc written")
    parser.add_argument("--out", type=Path, default=DOC)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    everything = only == {"1", "2", "3", "4", "5", "6", "7"}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="inx-bench-") as tmp:
        sections = asyncio.run(run_all(only, args.quick, Path(tmp)))
    elapsed = time.monotonic() - started
    print("\n" + table(sections))
    print(f"\nall done in {elapsed:.0f} s")
    if everything and not args.quick:
        args.out.write_text(render(sections, machine.describe(), elapsed), encoding="utf-8")
        print(f"wrote {args.out}")
    elif only == {"7"} and not args.quick and not sections[0].error:
        # Benchmark 7 stands alone (no broker of the others): it may refresh its own rows.
        text = args.out.read_text(encoding="utf-8")
        args.out.write_text(splice(text, sections[0]), encoding="utf-8")
        print(f"updated section 7 of {args.out}")


if __name__ == "__main__":
    main()
