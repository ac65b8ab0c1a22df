"""Benchmark 5: the bridge process's memory idle and under the 1,000 changes/s flood, and
the outbox's bytes per queued change with the cloud unreachable.

The bridge runs as its own process (`python -m cloud_bridge run`), connected to a
Home Assistant WebSocket server that can push exactly 1,000 state_changed events a second
(tests/helpers/fake_ha.py: HA's wire format, a real aiohttp server) and to real Mosquitto.
The baseline is the naive forwarder as a process (bench/naive_proc.py), fed the same way.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import json
from pathlib import Path
import secrets
import tempfile
import time
from typing import Any

import aiohttp

from bench.events import entity_ids, new_state
from bench.naive_proc import TOKEN_ENV
from bench.procinfo import rss_kib
from bench.report import Row, Section
from bench.sync_pipeline import _broker
from devkit.devstack.procs import ManagedProcess
from devkit.devstack.stack import free_port
from tests.helpers.fake_ha import FakeHA

TARGET_MIB = 80


@dataclass(slots=True)
class Sizes:
    """How big this run is."""

    entities: int = 1000
    rate: int = 1000
    flood_seconds: float = 15.0
    outbox_seconds: float = 10.0
    idle_seconds: float = 3.0


@dataclass(slots=True)
class Memory:
    """RSS samples of one process (KiB)."""

    idle: int = 0
    samples: list[int] = field(default_factory=list)

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)


def _bridge_options(
    data_dir: Path, ha: FakeHA, cloud_port: int, api_port: int, token: str
) -> dict[str, Any]:
    return {
        "contract_id": "C-BENCH",
        "instance_id": "home-bench",
        "instance_password": "bench-pass",
        "name": "Bench home",
        "type": "home",
        "location": "Bench",
        "phone": "+31 20 000 0000",
        "transport": "mqtt",
        "endpoint": "127.0.0.1",
        "port": cloud_port,
        "client_id": f"bench-{secrets.token_hex(3)}",
        "api_port": api_port,
        "api_host": "127.0.0.1",
        "api_token": token,
        "ha_url": ha.url,
        "ha_token": ha.token,
        "data_dir": str(data_dir),
        "log_level": "warning",
    }


async def _start_bridge(workdir: Path, ha: FakeHA, cloud_port: int) -> tuple[ManagedProcess, str]:
    token = secrets.token_urlsafe(16)
    api_port = free_port()
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    options = workdir / "options.json"
    options.write_text(json.dumps(_bridge_options(data_dir, ha, cloud_port, api_port, token)))
    options.chmod(0o600)
    proc = ManagedProcess.python_module(
        "bridge", "cloud_bridge", ["run", "--config", str(options)], workdir / "bridge.log", None
    )
    await proc.start()
    url = f"http://127.0.0.1:{api_port}/api/status"
    await ha.wait_for_connections(1, timeout=30)
    return proc, url


async def _status(url: str, token: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
        session.get(url, headers={"Authorization": f"Bearer {token}"}) as resp,
    ):
        return dict(await resp.json())


def _seed(ha: FakeHA, sizes: Sizes) -> list[str]:
    half = sizes.entities // 2
    ids = entity_ids(half, "light") + entity_ids(sizes.entities - half, "sensor")
    for entity_id in ids:
        ha.add_entity(entity_id, platform="inspextor")  # in the bridge's sync scope
        state = new_state(entity_id, 0)
        ha.set_state(entity_id, state["state"], state["attributes"])
    return ids


async def _flood(ha: FakeHA, ids: list[str], rate: int, seconds: float, pid: int) -> list[int]:
    """`rate` state changes a second for `seconds`; RSS of `pid` sampled every 0.25 s."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent = 0
    samples: list[int] = []
    next_sample = start
    while (now := loop.time()) - start < seconds:
        due = int((now - start) * rate) + 1
        while sent < due:
            entity_id = ids[sent % len(ids)]
            state = new_state(entity_id, sent + 1)
            ha.set_state(entity_id, state["state"], state["attributes"])
            sent += 1
        if now >= next_sample:
            samples.append(rss_kib(pid))
            next_sample += 0.25
        await asyncio.sleep(0.005)
    return samples


async def _measure(proc: ManagedProcess, ha: FakeHA, ids: list[str], sizes: Sizes) -> Memory:
    assert proc.pid is not None
    await asyncio.sleep(sizes.idle_seconds)
    memory = Memory(idle=rss_kib(proc.pid))
    memory.samples = await _flood(ha, ids, sizes.rate, sizes.flood_seconds, proc.pid)
    await asyncio.sleep(1.0)
    memory.samples.append(rss_kib(proc.pid))
    if not proc.running:
        raise RuntimeError(f"{proc.name} exited under the flood:\n{proc.tail()}")
    return memory


async def bridge_memory(workdir: Path, cloud_port: int, sizes: Sizes) -> tuple[Memory, int]:
    """The bridge connected to the cloud; returns its memory and events HA dropped."""
    ha = FakeHA(secrets.token_urlsafe(16))
    await ha.start()
    proc: ManagedProcess | None = None
    try:
        ids = _seed(ha, sizes)
        proc, _ = await _start_bridge(workdir, ha, cloud_port)
        return await _measure(proc, ha, ids, sizes), ha.dropped_for_lag
    finally:
        if proc is not None:
            await proc.stop()
        await ha.stop()


async def start_naive(workdir: Path, ha: FakeHA, cloud_port: int) -> ManagedProcess:
    """The naive forwarder process, once it holds its connection to `ha`."""
    proc = ManagedProcess.python_module(
        "naive forwarder",
        "bench.naive_proc",
        ["--ha-url", ha.url, "--port", str(cloud_port)],
        workdir / "naive.log",
        {TOKEN_ENV: ha.token},
    )
    await proc.start()
    try:
        await _wait_connected(proc, ha, timeout=30)
    except BaseException:
        await proc.stop()
        raise
    return proc


async def naive_memory(workdir: Path, cloud_port: int, sizes: Sizes) -> Memory:
    """The naive forwarder process under the same flood."""
    ha = FakeHA(secrets.token_urlsafe(16))
    await ha.start()
    proc: ManagedProcess | None = None
    try:
        ids = _seed(ha, sizes)
        proc = await start_naive(workdir, ha, cloud_port)
        return await _measure(proc, ha, ids, sizes)
    finally:
        if proc is not None:
            await proc.stop()
        await ha.stop()


async def _wait_connected(proc: ManagedProcess, ha: FakeHA, timeout: float) -> None:
    """Until `proc` holds an authenticated connection to `ha`; its log if it exits first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while ha.connection_count < 1:
        if not proc.running:
            raise RuntimeError(f"{proc.name} exited before connecting:\n{proc.tail()}")
        if loop.time() > deadline:
            raise TimeoutError(f"{proc.name} did not connect within {timeout:.0f}s:\n{proc.tail()}")
        await asyncio.sleep(0.05)


async def outbox_bytes(workdir: Path, sizes: Sizes) -> tuple[float, int, int]:
    """Flood with the cloud unreachable, stop the bridge cleanly (SQLite checkpoints its
    WAL into the file), then the file's bytes ÷ queued rows; also the peak db+WAL size."""
    ha = FakeHA(secrets.token_urlsafe(16))
    await ha.start()
    proc: ManagedProcess | None = None
    try:
        ids = _seed(ha, sizes)
        proc, url = await _start_bridge(workdir, ha, free_port())  # nobody listens there
        token = json.loads((workdir / "options.json").read_text())["api_token"]
        assert proc.pid is not None
        await asyncio.sleep(sizes.idle_seconds)
        await _flood(ha, ids, sizes.rate, sizes.outbox_seconds, proc.pid)
        deadline = time.monotonic() + 20
        rows = 0
        while time.monotonic() < deadline:
            outbox = (await _status(url, token))["outbox"]
            rows = outbox["high"] + outbox["low"] + outbox["structure"]
            await asyncio.sleep(1.0)
            if (await _status(url, token))["outbox"] == outbox:
                break
        peak = _db_bytes(workdir / "data")
        await proc.stop()
        size = (workdir / "data" / "bridge.sqlite3").stat().st_size
        return (size / rows if rows else float("nan")), rows, peak
    finally:
        if proc is not None:
            await proc.stop()
        await ha.stop()


def _db_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.glob("bridge.sqlite3*"))


async def run(sizes: Sizes | None = None, naive_change_bytes: float = float("nan")) -> Section:
    """Benchmark 5's rows and notes."""
    sizes = sizes or Sizes()
    broker = await _broker()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-footprint-") as tmp:
            root = Path(tmp)
            ours, dropped = await bridge_memory(root / "bridge", broker.port, sizes)
            naive = await naive_memory(root / "naive", broker.port, sizes)
            per_change, queued, total = await outbox_bytes(root / "outbox", sizes)
    finally:
        await broker.stop()
    mib = 1024.0
    rows = [
        Row(
            "5a",
            f"bridge RSS idle ({sizes.entities:,} entities synced)",
            ours.idle / mib,
            naive.idle / mib,
            "MiB",
            f"≤ {TARGET_MIB} MiB",
            ours.idle / mib <= TARGET_MIB,
            1,
        ),
        Row(
            "5b",
            f"bridge RSS peak under {sizes.rate:,} changes/s",
            ours.peak / mib,
            naive.peak / mib,
            "MiB",
            f"≤ {TARGET_MIB} MiB",
            ours.peak / mib <= TARGET_MIB,
            1,
        ),
        Row(
            "5c",
            "outbox bytes per queued change (cloud disconnected)",
            per_change,
            naive_change_bytes,
            "B",
            "(report)",
            None,
            0,
        ),
    ]
    method = [
        f"The bridge runs as a process (`python -m cloud_bridge run`) with default options "
        f"against a Home Assistant WebSocket server that serves {sizes.entities:,} entities "
        "(half lights, half temperature sensors) and then pushes "
        f"{sizes.rate:,} `state_changed` events a second for {sizes.flood_seconds:.0f} s "
        "(tests/helpers/fake_ha.py, HA's wire format: a real hass on this 2-core machine "
        "cannot generate 1,000 changes/s alongside everything else). RSS is VmRSS from "
        "/proc/<pid>/status, idle after start and resync, then sampled every 0.25 s. "
        f"The HA side dropped {dropped} events for a slow reader (0 = the bridge kept up).",
        "Baseline: the naive forwarder as a process (bench/naive_proc.py: aiohttp WebSocket "
        "client + paho, one publish per change), same server, same flood.",
        f"Outbox: a bridge whose cloud endpoint has no listener gets {sizes.rate:,} changes/s "
        f"for {sizes.outbox_seconds:.0f} s; then the bridge is stopped cleanly (SQLite "
        "folds its WAL into the file); bytes = the size of bridge.sqlite3 (every table), "
        f"rows = the outbox counts from `/api/status` ({queued:,} rows queued, the "
        "start-up snapshot included; lights coalesce per entity in the outbox, so most "
        f"rows are sensor readings). While running, file + WAL peaked at "
        f"{total / 1024:,.0f} KiB. Baseline: the naive forwarder has no outbox; it "
        "holds each unsent change as its MQTT message in RAM, this many bytes (from 3c), "
        "and loses them all on a restart.",
    ]
    gaps = []
    if ours.peak / mib > TARGET_MIB or ours.idle / mib > TARGET_MIB:
        gaps.append(
            f"5: RSS {ours.peak / mib:.0f} MiB > {TARGET_MIB} MiB under the flood. Closing "
            "it: bound the in-memory pending dicts and the HA reader's queue, and release "
            "the packing buffers after each batch."
        )
    return Section("5. Footprint", rows, method, gaps)
