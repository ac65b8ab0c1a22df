# ruff: noqa: RUF001 - the report prints multiplication and division signs
"""Benchmark 11: the store channel against a real S3-compatible server (moto_server).

11a/11b: from a command file put to its result file in the status store, with the MQTT
nudge (a real Mosquitto carries it) beside the default 60 s poll. 11c-11e: requests, bytes
and S3 cost per home per day and month for the reference home, counted on the wire by a
loopback proxy, next to the MQTT cost of benchmark 6.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path
import re
import shutil
import subprocess
import time
from typing import Any

from bench.report import Row, Section
from bench.stats import percentile
from cloud_bridge.ha.base import RegistrySnapshot
from cloud_bridge.protocol.admission import AdmissionRules
from cloud_bridge.storage import Store
from cloud_bridge.store_channel.backend import StoreUnavailableError
from cloud_bridge.store_channel.factory import build_channel
from cloud_bridge.store_channel.s3 import S3Store
from cloud_bridge.store_channel.settings import ChannelSettings, StoreSpec
from cloud_bridge.store_channel.sigv4 import Credentials
from cloud_bridge.store_channel.verbs import Hooks
from cloud_bridge.store_channel.wiring import store_hooks
from cloud_bridge.transport.mqtt import MqttTransport
from devkit.devcloud.broker import find_mosquitto, start_mosquitto
from devkit.devstack.stack import free_port

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
CREDENTIALS = Credentials("AKIABENCHSTORE01", "bench-store-secret")
BUCKET = "inspextor-bench"
SERVICE = "inspextor"
# S3 Standard, us-east-1, as quoted on the S3 pricing page (November 2026); this offline
# run could not re-read it.
PRICE_GET = 0.0004 / 1000  # USD per GET/HEAD request
PRICE_PUT = 0.005 / 1000  # USD per PUT/POST/LIST request
PRICE_OUT = 0.09 / 1e9  # USD per byte out to the internet (first 10 TB/month)
PRICE_SOURCE = (
    "https://aws.amazon.com/s3/pricing/ (S3 Standard, us-east-1): GET $0.0004 per 1,000, "
    "PUT $0.005 per 1,000, data out $0.09/GB; storage of a few KB is negligible; as quoted "
    "in November 2026, this offline run could not re-read the page"
)


@dataclass(frozen=True, slots=True)
class Sizes:
    """Samples; the default poll is the shipped one (60 s)."""

    nudged: int = 30
    polled: int = 4
    poll_interval: float = 60.0
    wire_polls: int = 50


@dataclass(frozen=True, slots=True)
class Load:
    """The reference home's store traffic."""

    poll_interval: float = 60.0
    status_interval: float = 300.0
    files_per_day: int = 10


STATUS_SAMPLE = {
    "contract_id": "C-1001",
    "instance_id": "home-1",
    "cloud_connected": True,
    "ha_connected": True,
    "activation": {"state": "active", "last_attempt": 1764612345.1, "reason": None},
    "subscription": {"state": "active", "expires": "2030-12-31T00:00:00Z"},
    "ping": {"last_rtt_ms": 41.2, "last_success": 1764612345.1},
    "outbox": {"structure": 0, "high": 0, "low": 3, "dropped_low": 0},
    "last_error": None,
    "certificate_expires": "2027-11-30T00:00:00+00:00",
    "kick_loop": False,
    "store_channel": {"incoming": "s3://bucket/home/incoming", "last_error": None},
    "version": "0.1.0",
}


class _NoHA:
    """get_status() and ping() never reach HA; the benchmark's commands are those."""

    connected = True

    async def get_states(self) -> list[dict[str, Any]]:
        return []

    async def get_state(self, entity_id: str) -> dict[str, Any] | None:
        return None

    async def get_registry(self) -> RegistrySnapshot:
        return RegistrySnapshot()

    async def call_service(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def set_handlers(self, *args: Any) -> None:
        """Unused."""

    async def start(self) -> None:
        """Unused."""

    async def stop(self) -> None:
        """Unused."""


class CountingProxy:
    """Loopback TCP proxy counting the bytes each way (what S3 would bill and carry)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.bytes_up = 0
        self.bytes_down = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        await asyncio.gather(
            self._pump(reader, up_writer, True), self._pump(up_reader, writer, False)
        )

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, up: bool
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                if up:
                    self.bytes_up += len(data)
                else:
                    self.bytes_down += len(data)
                writer.write(data)
                await writer.drain()
        writer.close()


@contextlib.contextmanager
def moto_server() -> Iterator[int]:
    """moto_server on a free port (installed in .venv-tools by scripts/bootstrap.sh)."""
    program = ROOT / ".venv-tools" / "bin" / "moto_server"
    found = str(program) if program.exists() else shutil.which("moto_server")
    if found is None:
        raise RuntimeError("moto_server is not installed (scripts/bootstrap.sh installs it)")
    port = free_port()
    process = subprocess.Popen(
        [found, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        process.terminate()
        process.wait(10)


def _s3(port: int, prefix: str) -> S3Store:
    return S3Store(
        bucket=BUCKET,
        region="eu-west-1",
        prefix=prefix,
        credentials=CREDENTIALS,
        endpoint=f"127.0.0.1:{port}",
        scheme="http",
    )


async def _ready(port: int) -> None:
    deadline = time.monotonic() + 30
    store = _s3(port, "")
    try:
        while True:
            try:
                await store.create_bucket()
            except StoreUnavailableError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
            else:
                return
    finally:
        await store.close()


def _settings(port: int, poll_interval: float, tmp: Path) -> ChannelSettings:
    specs = tuple(StoreSpec(n, BUCKET, "eu-west-1", f"home/{n}") for n in ("incoming", "status"))
    return ChannelSettings(
        backend="s3",
        specs=specs,
        folder=tmp,
        service=SERVICE,
        poll_interval=poll_interval,
        status_interval=0.0,
        default_ttl=86400.0,
        credentials=CREDENTIALS,
        endpoint=f"127.0.0.1:{port}",
        scheme="http",
    )


def _hooks(store: Store) -> Hooks:
    async def status() -> dict[str, Any]:
        return dict(STATUS_SAMPLE, at=time.time())  # the real document's shape and size

    async def nothing() -> dict[str, Any]:
        return {"ok": True}

    return store_hooks(
        store,
        _NoHA(),
        AdmissionRules("C-1"),
        status=status,
        ping=nothing,
        resync=nothing,
        diagnostics=nothing,
    )


async def _put_until_result(
    cloud_in: S3Store, cloud_status: S3Store, nudge: Any, samples: int, gap: float
) -> list[float]:
    """Seconds from the start of each put to its result being readable by the cloud."""
    out: list[float] = []
    key, result_key = f"{SERVICE}/commands.json", f"{SERVICE}/last_monitoring_status.json"
    for _ in range(samples):
        body = json.dumps(
            {"commands": [{"command": "get_status()"}], "issued_at": time.time()}
        ).encode()
        version = hashlib.sha256(body).hexdigest()
        started = time.perf_counter()
        await cloud_in.put(key, body)
        if nudge is not None:
            await nudge()
        while True:
            with contextlib.suppress(Exception):
                fetched = await cloud_status.get(result_key)
                if fetched and json.loads(fetched.data).get("file_version") == version:
                    break
            await asyncio.sleep(0.005 if nudge is not None else 0.05)
        out.append(time.perf_counter() - started)
        await asyncio.sleep(gap)
    return out


@contextlib.asynccontextmanager
async def _channel(port: int, poll_interval: float, tmp: Path, *, loops: bool = True) -> Any:
    store = Store(tmp / f"bench-{time.monotonic_ns()}.sqlite3")
    await store.open()
    channel = build_channel(_settings(port, poll_interval, tmp), store, _hooks(store))
    if loops:
        await channel.start()
    else:  # the caller polls by hand: no loop may poll meanwhile
        await channel.ledger.open()
    try:
        yield channel
    finally:
        await channel.stop()
        await store.close()


async def _nudge_path(channel: Any) -> tuple[Any, list[MqttTransport]]:
    """A real broker: the cloud publishes the nudge, the home's transport hands it over."""
    binary = find_mosquitto()
    if binary is None:
        raise RuntimeError("mosquitto is not installed")
    broker = await start_mosquitto(binary, "127.0.0.1", free_port())
    home = MqttTransport("127.0.0.1", broker.port, "bench-home")
    cloud = MqttTransport("127.0.0.1", broker.port, "bench-cloud")
    home.set_handlers(lambda topic, payload: channel.nudge(), lambda event: None)
    cloud.set_handlers(lambda topic, payload: None, lambda event: None)
    await home.connect()
    await home.subscribe("inx/C-1/action", 1)
    await cloud.connect()
    payload = json.dumps({"c": "Store", "a": "commands_waiting", "cid": "C-1"}).encode()

    async def nudge() -> None:
        await cloud.publish("inx/C-1/action", payload, 1)

    nudge.broker = broker  # type: ignore[attr-defined]
    return nudge, [home, cloud]


async def _latencies(port: int, sizes: Sizes, tmp: Path) -> tuple[list[float], list[float]]:
    cloud_in, cloud_status = _s3(port, "home/incoming"), _s3(port, "home/status")
    try:
        async with _channel(port, sizes.poll_interval, tmp) as channel:
            nudge, transports = await _nudge_path(channel)
            try:
                await asyncio.sleep(1.0)  # the first poll is done
                nudged = await _put_until_result(cloud_in, cloud_status, nudge, sizes.nudged, 0.05)
            finally:
                for transport in transports:
                    await transport.disconnect()
                await nudge.broker.stop()
            polled = await _put_until_result(
                cloud_in, cloud_status, None, sizes.polled, sizes.poll_interval / 3
            )
    finally:
        await cloud_in.close()
        await cloud_status.close()
    return nudged, polled


@dataclass(slots=True)
class Wire:
    """Bytes on the wire (both ways) per operation, measured through the proxy."""

    poll_unchanged: float = 0.0
    poll_download: float = 0.0
    status_put: float = 0.0
    file_cycle: float = 0.0
    down_unchanged: float = 0.0
    down_download: float = 0.0


TYPICAL_FILE = [
    {"command": "get_status()"},
    {"command": "call_service('light.turn_on', 'light.kitchen', {'brightness': 128})"},
    {"command": "get_states(['light.kitchen', 'cover.bedroom_shade'])"},
    {"command": "ping()"},
    {"command": "get_outbox()"},
]


async def _measure(proxy: CountingProxy, action: Any, count: int) -> tuple[float, float]:
    up, down = proxy.bytes_up, proxy.bytes_down
    for _ in range(count):
        await action()
    await asyncio.sleep(0.2)
    return (
        (proxy.bytes_up - up + proxy.bytes_down - down) / count,
        (proxy.bytes_down - down) / count,
    )


async def _wire(port: int, sizes: Sizes, tmp: Path) -> Wire:
    proxy = CountingProxy(port)
    await proxy.start()
    wire = Wire()
    cloud_in = _s3(port, "home/incoming")
    try:
        await cloud_in.put(f"{SERVICE}/commands.json", json.dumps(TYPICAL_FILE).encode())
        async with _channel(proxy.port, 3600.0, tmp, loops=False) as channel:
            await channel.poll_once()
            wire.poll_unchanged, wire.down_unchanged = await _measure(
                proxy, channel.poll_once, sizes.wire_polls
            )
            wire.status_put, _ = await _measure(proxy, channel.send_status, sizes.wire_polls)

            async def file_cycle() -> None:
                body = {"commands": TYPICAL_FILE, "issued_at": time.time()}
                await cloud_in.put(f"{SERVICE}/commands.json", json.dumps(body).encode())
                await channel.poll_once()

            wire.file_cycle, _ = await _measure(proxy, file_cycle, 5)
        reader = _s3(proxy.port, "home/incoming")
        try:
            wire.poll_download, wire.down_download = await _measure(
                proxy, lambda: reader.get(f"{SERVICE}/commands.json"), sizes.wire_polls
            )
        finally:
            await reader.close()
    finally:
        await cloud_in.close()
        await proxy.stop()
    return wire


def daily(load: Load, wire: Wire, conditional: bool) -> dict[str, float]:
    """Requests, bytes and USD per day for one home."""
    polls = 86_400 / load.poll_interval
    statuses = 86_400 / load.status_interval if load.status_interval else 0
    files = load.files_per_day
    per_poll = wire.poll_unchanged if conditional else wire.poll_download
    down_poll = wire.down_unchanged if conditional else wire.down_download
    gets = polls + files  # the poll that downloads a new file is one of them, counted apart
    puts = statuses + 2 * files  # a result is put twice (by version and as the last one)
    nbytes = polls * per_poll + statuses * wire.status_put + files * wire.file_cycle
    down = polls * down_poll + files * wire.down_download
    usd = gets * PRICE_GET + puts * PRICE_PUT + down * PRICE_OUT
    return {"requests": gets + puts, "bytes": nbytes, "usd": usd}


def mqtt_monthly_cost(doc: Path = DOC) -> float:
    """Benchmark 6b's figure as docs/benchmarks.md holds it (NaN when absent)."""
    with contextlib.suppress(OSError):
        match = re.search(r"^\| 6b \| [^|]+\| ([0-9.]+) USD", doc.read_text(), re.MULTILINE)
        if match:
            return float(match.group(1))
    return float("nan")


async def run(sizes: Sizes, workdir: Path) -> Section:
    """Benchmark 11's rows and notes."""
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    load = Load(poll_interval=sizes.poll_interval)
    with moto_server() as port:
        await _ready(port)
        nudged, polled = await _latencies(port, sizes, workdir)
        wire = await _wire(port, sizes, workdir)
    ours, plain = daily(load, wire, True), daily(load, wire, False)
    return Section(
        "11. Store channel",
        _rows(nudged, polled, ours, plain, mqtt_monthly_cost()),
        _method(sizes, load, wire),
        [],
    )


def _rows(
    nudged: list[float],
    polled: list[float],
    ours: dict[str, float],
    plain: dict[str, float],
    mqtt: float,
) -> list[Row]:
    ms = [x * 1000 for x in nudged]
    return [
        Row(
            "11a",
            "command file put → result file, p50 (nudge vs poll)",
            percentile(ms, 50),
            percentile([x * 1000 for x in polled], 50),
            "ms",
            "nudge ≤ 1,000 ms",
            percentile(ms, 50) <= 1000,
            0,
        ),
        Row(
            "11b",
            "same, p95 with the nudge (vs poll max)",
            percentile(ms, 95),
            max(polled) * 1000,
            "ms",
            "(report)",
            None,
            0,
        ),
        Row(
            "11c",
            "store requests per home per day",
            ours["requests"],
            plain["requests"],
            "req",
            "(report)",
            None,
            0,
        ),
        Row(
            "11d",
            "store bytes per home per day (conditional vs plain GET)",
            ours["bytes"],
            plain["bytes"],
            "B",
            "fewer than baseline",
            ours["bytes"] < plain["bytes"],
            0,
        ),
        Row(
            "11e",
            "S3 cost per home per month (vs MQTT, 6b)",
            ours["usd"] * 30,
            mqtt,
            "USD",
            "(report)",
            None,
            4,
        ),
    ]


def _method(sizes: Sizes, load: Load, wire: Wire) -> list[str]:
    return [
        f"A real S3-compatible server (moto_server) on loopback, the bridge's own S3 client; "
        f"11a/11b: `get_status()` files, {sizes.nudged} nudged over a real Mosquitto "
        f"(cloud publishes `commands_waiting`, the home's transport hands it to the channel) "
        f"and {sizes.polled} found by the {sizes.poll_interval:.0f} s poll alone (put at "
        "varying phases of the poll), timed from the start of the put to the cloud reading "
        "the result (the cloud polls the result every 5 ms / 50 ms).",
        f"11c-11e: bytes counted both ways by a loopback proxy: an unchanged poll "
        f"(If-None-Match → 304) {wire.poll_unchanged:.0f} B, an unconditional GET of a "
        f"5-command file {wire.poll_download:.0f} B, a status report PUT "
        f"{wire.status_put:.0f} B, a file's download + two result PUTs "
        f"{wire.file_cycle:.0f} B. Reference home: a poll every {load.poll_interval:.0f} s, "
        f"a status report every {load.status_interval:.0f} s, {load.files_per_day} command "
        "files a day. The baseline of 11c/11d polls without If-None-Match (downloads every "
        "time).",
        "11e: GETs × $0.0004/1,000 + PUTs × $0.005/1,000 + bytes out × $0.09/GB, 30-day "
        f"month; the status report's {86_400 / load.status_interval:.0f} PUTs a day cost "
        "more than the polling. Baseline: 6b (AWS IoT Core, MQTT) as docs/benchmarks.md holds "
        "it — the store channel runs beside MQTT, so the two add up.",
        f"Prices: {PRICE_SOURCE}.",
    ]
