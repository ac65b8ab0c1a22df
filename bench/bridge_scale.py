# ruff: noqa: RUF001 - the report prints multiplication, minus and division signs
"""Benchmark 10: the bridge at the size of a large home (1,000 to 10,000 entities).

The bridge runs as its own process against a Home Assistant WebSocket server serving N
entities (tests/helpers/fake_ha.py, HA's wire format), connected to a real Mosquitto
where a cloud-side client decodes every sync packet. Per size: resync time (process start
until the cloud holds the whole structure snapshot and a state for every entity), the
snapshot's bytes and parts (each at most 128 KB), RSS idle and peak under 1,000
changes/s, and outbox bytes per queued change with the cloud unreachable. The baseline
is the naive forwarder (bench/naive_proc.py: one publish per change, no snapshot),
measured at the same size in the same run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
import secrets
import threading
import time
from typing import Any

from bench.footprint import (
    Sizes as FootprintSizes,
    _measure,
    _seed,
    _start_bridge,
    outbox_bytes,
    start_naive,
)
from bench.ingest import size_label
from bench.probe import Probe
from bench.procinfo import rss_kib
from bench.report import Row, Section
from bench.sync_pipeline import _broker
from cloud_bridge.protocol.packets import MAX_PUBLISH_BYTES
from cloud_bridge.protocol.packing import merge_structure_chunks, unpack
from devkit.devstack.procs import ManagedProcess
from tests.helpers.fake_ha import FakeHA

TARGET_MIB = 120


@dataclass(slots=True)
class Sizes:
    """How big this run is."""

    entities: tuple[int, ...] = (1000, 5000, 10000)
    rate: int = 1000
    flood_seconds: float = 10.0
    outbox_seconds: float = 5.0
    idle_seconds: float = 3.0
    timeout: float = 180.0


@dataclass(slots=True)
class Cloud:
    """What the cloud side saw: every sync packet, decoded on the probe's thread."""

    structure_bytes: int = 0
    structure_parts: int = 0
    largest: int = 0
    chunks: list[dict[str, Any]] = field(default_factory=list)
    states: set[str] = field(default_factory=set)
    complete_at: float = float("nan")
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, now: float, _topic: str, payload: bytes, want: int) -> None:
        records = unpack(payload)
        with self.lock:
            self.largest = max(self.largest, len(payload))
            for record in records:
                if record["lane"] == "structure":
                    self.structure_bytes += len(payload)
                    self.structure_parts += 1
                    self.chunks.append(record)
                elif record.get("state") is not None:
                    self.states.add(str(record["entity_id"]))
            snapshot = merge_structure_chunks(self.chunks) if self.chunks else None
            if (
                snapshot is not None
                and len(self.states) >= want
                and self.complete_at != self.complete_at
            ):
                self.complete_at = now


@dataclass(slots=True)
class Result:
    """One size, ours and the baseline."""

    entities: int
    resync_s: float = float("nan")
    cloud: Cloud = field(default_factory=Cloud)
    idle_mib: float = float("nan")
    peak_mib: float = float("nan")
    naive_idle_mib: float = float("nan")
    naive_peak_mib: float = float("nan")
    high_water_mib: float = float("nan")
    outbox_b: float = float("nan")


async def _resync_and_memory(
    root: Path, port: int, count: int, sizes: Sizes, result: Result
) -> None:
    ha = FakeHA(secrets.token_urlsafe(16))
    await ha.start()
    cloud = result.cloud
    probe = Probe(port, f"bench-cloud-{secrets.token_hex(3)}")
    probe.handlers.append(lambda now, topic, payload: cloud.take(now, topic, payload, count))
    probe.start(["inx/+/send_sync_query_high", "inx/+/send_sync_query_low"])
    proc: ManagedProcess | None = None
    fp = FootprintSizes(
        entities=count,
        rate=sizes.rate,
        flood_seconds=sizes.flood_seconds,
        idle_seconds=sizes.idle_seconds,
    )
    try:
        ids = _seed(ha, fp)
        start = time.monotonic()
        proc, _ = await _start_bridge(root / "bridge", ha, port)
        while cloud.complete_at != cloud.complete_at:
            if time.monotonic() - start > sizes.timeout:
                raise TimeoutError(f"the cloud held {len(cloud.states)} of {count} states")
            await asyncio.sleep(0.1)
        result.resync_s = cloud.complete_at - start
        memory = await _measure(proc, ha, ids, fp)
        result.idle_mib, result.peak_mib = memory.idle / 1024, memory.peak / 1024
        assert proc.pid is not None
        result.high_water_mib = rss_kib(proc.pid, "VmHWM") / 1024
        await proc.stop()
        proc = None
        naive = await start_naive(root / "naive", ha, port)
        try:
            memory = await _measure(naive, ha, ids, fp)
            result.naive_idle_mib, result.naive_peak_mib = memory.idle / 1024, memory.peak / 1024
        finally:
            await naive.stop()
    finally:
        if proc is not None:
            await proc.stop()
        probe.stop()
        await ha.stop()


async def measure(workdir: Path, sizes: Sizes) -> list[Result]:
    """Every size."""
    results = []
    broker = await _broker()
    try:
        for count in sizes.entities:
            print(f"    10: {count:,} entities ...", flush=True)
            result = Result(count)
            root = workdir / str(count)
            await _resync_and_memory(root, broker.port, count, sizes, result)
            fp = FootprintSizes(
                entities=count,
                rate=sizes.rate,
                outbox_seconds=sizes.outbox_seconds,
                idle_seconds=sizes.idle_seconds,
            )
            result.outbox_b, _, _ = await outbox_bytes(root / "outbox", fp)
            results.append(result)
    finally:
        await broker.stop()
    return results


def _rows(r: Result) -> list[Row]:
    n = size_label(r.entities)
    limit = MAX_PUBLISH_BYTES
    return [
        Row(
            f"10a-{n}",
            f"resync: bridge start → cloud holds structure + {r.entities:,} states",
            r.resync_s,
            float("nan"),
            "s",
            "(report)",
            None,
            1,
        ),
        Row(
            f"10b-{n}",
            "structure snapshot bytes on the wire",
            r.cloud.structure_bytes / 1024,
            float("nan"),
            "KiB",
            "(report)",
            None,
            0,
        ),
        Row(
            f"10c-{n}",
            "structure snapshot parts",
            r.cloud.structure_parts,
            float("nan"),
            "",
            "(report)",
            None,
            0,
        ),
        Row(
            f"10c'-{n}",
            "largest sync publish",
            r.cloud.largest,
            float(limit),
            "B",
            f"≤ {limit:,} B",
            r.cloud.largest <= limit,
            0,
        ),
        Row(
            f"10d-{n}",
            "bridge RSS idle: ours / naive forwarder",
            r.idle_mib,
            r.naive_idle_mib,
            "MiB",
            f"≤ {TARGET_MIB} MiB",
            r.idle_mib <= TARGET_MIB,
            1,
        ),
        Row(
            f"10e-{n}",
            "bridge RSS peak under 1,000 changes/s: ours / naive",
            r.peak_mib,
            r.naive_peak_mib,
            "MiB",
            f"≤ {TARGET_MIB} MiB",
            r.peak_mib <= TARGET_MIB,
            1,
        ),
        Row(
            f"10e'-{n}",
            "bridge RSS high-water mark (VmHWM: start, resync and flood)",
            r.high_water_mib,
            float("nan"),
            "MiB",
            "(report)",
            None,
            1,
        ),
        Row(
            f"10f-{n}",
            "outbox bytes per queued change (cloud unreachable)",
            r.outbox_b,
            float("nan"),
            "B",
            "(report)",
            None,
            0,
        ),
    ]


def chart_data(results: list[Result]) -> dict[str, Any]:
    """The bridge's RSS against entities, for bench/chart.py."""
    return {
        str(r.entities): {
            "idle_mib": r.idle_mib,
            "peak_mib": r.peak_mib,
            "naive_peak_mib": r.naive_peak_mib,
        }
        for r in results
    }


async def run(workdir: Path, sizes: Sizes | None = None) -> tuple[Section, dict[str, Any]]:
    """Benchmark 10's rows, notes and chart data."""
    sizes = sizes or Sizes()
    results = await measure(workdir, sizes)
    method = [
        "The bridge as a process with default options, a fake HA (HA's WebSocket wire format) "
        "serving N entities (half lights, half sensors, all in the sync scope), real "
        "Mosquitto, and a cloud-side client that decodes every packet "
        "(`cloud_bridge.protocol.packing.unpack`). Resync: from spawning the bridge until the "
        "cloud can merge the whole structure snapshot and holds a state for every entity. "
        f"Memory: VmRSS idle after the resync, then sampled every 0.25 s under {sizes.rate:,} "
        f"changes/s for {sizes.flood_seconds:.0f} s; the naive forwarder under the same "
        "flood; the high-water mark (10e') also holds the resync's transient peak. Outbox: "
        f"the cloud endpoint has no listener, the same flood for {sizes.outbox_seconds:.0f} "
        "s, the database file's bytes ÷ queued rows after a clean stop. The naive forwarder "
        "sends no snapshot and no resync, so 10a–10c have no baseline.",
        "Where the memory goes (tracemalloc, 10,000 entities): between reads of HA the bridge "
        "holds only the scope's entity ids, HA's registry as compressed JSON and the "
        "structure's digest (a few MB); the resync's transient peak (the registry and the "
        "states parsed, one after the other; the snapshot packed) is given back to the system "
        "once done (`cloud_bridge/memory.py`: glibc keeps freed memory in its heaps, musl "
        "returns it by itself).",
    ]
    gaps = [
        f"10e-{size_label(r.entities)}: {r.peak_mib:.0f} MiB > {TARGET_MIB} MiB"
        for r in results
        if r.peak_mib > TARGET_MIB
    ]
    return Section(
        "10. The bridge at a large home's size",
        [row for r in results for row in _rows(r)],
        method,
        gaps,
    ), chart_data(results)
