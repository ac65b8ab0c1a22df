# ruff: noqa: RUF001 - the report prints multiplication, minus and division signs
"""Benchmark 4: a home of 1,000 to 10,000 devices, ours against the floor and HA's MQTT.

Three real `hass` processes per size, each alone with its own Mosquitto, the same home
(bench/home_mix.py: kinds mixed as in a real home) and the same status messages:
- ours: the InspeXtor integration with the home's site map, entered in the config flow;
  the devices answer its start-up `ask`;
- the floor: bench/floor/bench_floor, the least an integration can do (same devices and
  entities, first states precomputed, a message looked up and its precomputed state
  written): HA's own cost on this machine, the limit;
- HA's MQTT platforms configured in YAML for the same entities, statuses retained.

Figures per side: set-up (second start until every entity has a state), ingest (a blast
of rounds of one status per device, then `/api/states` polled until every entity shows
its last value), ingest counted as `state_changed` events over WebSocket, resync after a
broker restart (every entity fresh), and hass's RSS. Each size runs `runs` times; the
report gives the median and the spread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
import json
import math
from pathlib import Path
import re
import secrets
import shutil
import statistics
import threading
import time
from typing import Any

import aiohttp
import yaml

from bench import home_mix
from bench.probe import Probe
from bench.procinfo import rss_kib
from bench.report import Row, Section
from bench.sync_pipeline import _broker
from devkit.devcloud.broker import LocalBroker, find_mosquitto, start_mosquitto
from devkit.devstack.hass import HassInstance
from devkit.devstack.stack import free_port
from devkit.simulator import SimDeviceSpec, site_map_document

BASE = home_mix.BASE
UNSET = (None, "unknown", "unavailable")
SIDES = ("ours", "floor", "mqtt")
FLOOR_SOURCE = Path(__file__).resolve().parent / "floor" / "bench_floor"
# A clean stop saves the registries the next start reads: at 10,000 devices on a loaded
# machine it took over 30 s (hass's own default), and a kill lost them.
STOP_TIMEOUT = 180.0


@dataclass(slots=True)
class Sizes:
    """How big this run is."""

    devices: tuple[int, ...] = (1000, 5000, 10000)
    messages_per_device: int = 2  # at least this many rounds per blast
    messages_per_blast: int = 12_000  # ... and at least this many messages
    runs: int = 2
    setup_timeout: float = 600.0

    def blast_rounds(self, count: int) -> int:
        """Rounds of one status per device in one blast of a `count`-device home."""
        wanted = math.ceil(self.messages_per_blast / count) if self.messages_per_blast else 0
        return max(self.messages_per_device, wanted)

    def rounds(self, count: int) -> int:
        """Rounds the devices may send in all (the floor precomputes their states): the
        start-up one, then per run two blasts' and a resync's."""
        return 1 + self.runs * (2 * self.blast_rounds(count) + 1)


@dataclass(slots=True)
class Run:
    """What one start of one hass did."""

    setup_s: float = float("nan")
    polled_rate: float = float("nan")
    rate: float = float("nan")
    events: int = 0
    sent: int = 0
    resync_s: float = float("nan")
    rss_kib: int = 0


@dataclass(slots=True)
class Side:
    """Every run of one side at one size."""

    name: str
    devices: int
    entities: int = 0
    runs: list[Run] = field(default_factory=list)
    # (kind, capability) -> the attribute names its entities' states carry, after set-up
    shapes: dict[str, list[str]] = field(default_factory=dict)

    def figures(self, attr: str) -> list[float]:
        return [getattr(run, attr) for run in self.runs if getattr(run, attr) == getattr(run, attr)]

    def median(self, attr: str) -> float:
        values = self.figures(attr)
        return statistics.median(values) if values else float("nan")

    def spread(self, attr: str) -> str:
        values = self.figures(attr)
        if len(values) < 2:
            return "one run"
        low, high = min(values), max(values)
        mid = statistics.median(values)
        return f"{low:,.4g}–{high:,.4g} (±{(high - low) / 2 / mid * 100:.0f} %)" if mid else "n/a"


class Devices:
    """Plays the home from one MQTT client: retained availability, start-up answers to
    `ask` (ours), retained statuses (HA's MQTT), blast rounds; again after a reconnect."""

    def __init__(self, port: int, specs: list[SimDeviceSpec], side: str) -> None:
        self.specs = specs
        self.side = side
        self.round = 1
        # what each entity was last sent; a motion message flips it, so every message
        # (a full answer too) changes the entity's state on every side
        self.sent: dict[home_mix.EntityKey, Any] = {}
        self.full = self._values(0)  # what the next full answer carries
        self.probe = Probe(port, f"bench-devices-{secrets.token_hex(3)}")
        self.probe.handlers.append(self._on_message)

    def start(self) -> None:
        self.probe.on_connect.append(self._on_connect)
        self.probe.start([f"{BASE}/ask", f"{BASE}/+/+/ask"] if self.side == "ours" else [])

    def _on_connect(self) -> None:
        if self.side == "ours":  # a reconnect (broker restart) resubscribes
            self.probe.client.subscribe([(f"{BASE}/ask", 1), (f"{BASE}/+/+/ask", 1)])
        threading.Thread(target=self._announce, daemon=True).start()

    def _announce(self) -> None:
        for spec in self.specs:
            self.probe.client.publish(f"{BASE}/{spec.path}/availability", "online", 1, True)
        if self.side != "ours":  # statuses as a retained full round, as a device would
            self.publish_full(retain=True)

    def _on_message(self, _now: float, _topic: str, _payload: bytes) -> None:
        threading.Thread(target=self.publish_full, daemon=True).start()

    def _value(self, key: home_mix.EntityKey, spec: SimDeviceSpec, round_: int) -> Any:
        if key.cap == "motion" and key in self.sent:
            return not self.sent[key]
        return home_mix.value(spec, key.cap, round_)

    def _values(self, round_: int) -> dict[home_mix.EntityKey, Any]:
        return {
            key: self._value(key, spec, round_)
            for spec in self.specs
            for key in (home_mix.EntityKey(spec.path, cap) for cap in home_mix.capabilities(spec))
        }

    def publish_full(self, retain: bool = False) -> None:
        """Every capability of every device: the values of `full` (the same each time)."""
        for key, value in self.full.items():
            self.probe.client.publish(home_mix.topic_of(key), home_mix.message(value), 0, retain)
        self.sent.update(self.full)

    def publish_round(self) -> int:
        """One blast round: one status per device."""
        round_ = self.round
        self.round += 1
        for spec in self.specs:
            key = home_mix.EntityKey(spec.path, home_mix.capability(spec, round_))
            value = self.sent[key] = self._value(key, spec, round_)
            self.probe.client.publish(home_mix.topic_of(key), home_mix.message(value), 0, False)
        return len(self.specs)

    def refresh(self) -> None:
        """Make the next full answer carry new values for every entity."""
        self.full = self._values(self.round)
        self.round += 1

    def last_entity(self, entity_of: dict[home_mix.EntityKey, str]) -> str:
        """The entity the last published blast message was for."""
        spec = self.specs[-1]
        return entity_of[home_mix.EntityKey(spec.path, home_mix.capability(spec, self.round - 1))]

    def stop(self) -> None:
        self.probe.stop()


class BenchHass(HassInstance):
    """A hass with the side's configuration: extra YAML, or the floor linked in."""

    extra_yaml = ""
    floor_plan: dict[str, Any] | None = None

    def prepare(self) -> None:
        super().prepare()
        if self.extra_yaml:
            with (self.config_dir / "configuration.yaml").open("a") as conf:
                conf.write(self.extra_yaml)
        if self.floor_plan is not None:
            link = self.config_dir / "custom_components" / "bench_floor"
            if not link.is_symlink():
                shutil.rmtree(link, ignore_errors=True)
                link.symlink_to(FLOOR_SOURCE)
            plan = self.config_dir / "bench_floor_plan.json"
            if not plan.exists():
                plan.write_text(json.dumps(self.floor_plan))


@contextlib.asynccontextmanager
async def _websocket(hass: HassInstance) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """An authenticated connection to hass's WebSocket API."""
    assert hass.credentials is not None
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(hass.websocket_url, max_msg_size=0) as ws,
    ):
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": hass.credentials.token})
        if (await ws.receive_json()).get("type") != "auth_ok":
            raise RuntimeError("hass refused the token")
        yield ws


async def _registry(hass: HassInstance) -> dict[str, str]:
    """unique id -> entity id, over the WebSocket API."""
    async with _websocket(hass) as ws:
        await ws.send_json({"id": 1, "type": "config/entity_registry/list"})
        result = await ws.receive_json()
    return {e["unique_id"]: e["entity_id"] for e in result["result"] if e.get("unique_id")}


async def _entity_map(
    hass: HassInstance, specs: list[SimDeviceSpec], side: str
) -> dict[home_mix.EntityKey, str]:
    unique = home_mix.unique_id_mqtt if side == "mqtt" else home_mix.unique_id_ours
    registry = await _registry(hass)
    keys = home_mix.entity_keys(specs)
    missing = [key for key in keys if unique(key) not in registry]
    if missing:
        raise RuntimeError(f"{side}: {len(missing)} entities missing, first {missing[0]}")
    return {key: registry[unique(key)] for key in keys}


async def _states(hass: HassInstance) -> dict[str, dict[str, Any]]:
    return {s["entity_id"]: s for s in await hass.all_states()}


async def _wait_shown(
    hass: HassInstance,
    entity_of: dict[home_mix.EntityKey, str],
    want: dict[home_mix.EntityKey, Any],
    timeout: float,
    last: str | None = None,
) -> float:
    """Seconds until every entity shows the value `want` gives it. While `last` (the
    entity of the last message sent) does not, only its state is polled: the whole of
    `/api/states` is thousands of states, which hass and this process would spend the
    measured CPU on."""
    start = time.monotonic()
    pending = dict(entity_of)
    if last is not None:
        key = next(k for k, v in entity_of.items() if v == last)
        while time.monotonic() - start < timeout:
            if home_mix.shows(key.cap, await hass.get_state(last), want[key]):
                break
            await asyncio.sleep(0.02)
    while time.monotonic() - start < timeout:
        states = await _states(hass)
        pending = {
            key: entity_id
            for key, entity_id in pending.items()
            if not home_mix.shows(key.cap, states.get(entity_id), want[key])
        }
        if not pending:
            return time.monotonic() - start
        await asyncio.sleep(0.1)
    raise TimeoutError(
        f"{len(pending)} entities never showed their value, e.g. {next(iter(pending))}"
    )


async def _wait_set_up(hass: HassInstance, count: int, timeout: float) -> float:
    """Seconds until `count` bench entities have a state."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        states = await hass.all_states()
        bench = [
            s["state"]
            for s in states
            if "bench" in s["entity_id"] and s["entity_id"].split(".")[0] != "update"
        ]
        if len(bench) >= count and all(v not in UNSET for v in bench):
            return time.monotonic() - start
        await asyncio.sleep(0.25)
    raise TimeoutError(f"hass did not show {count} entities with a state within {timeout:.0f}s")


async def _blast_polled(
    hass: HassInstance, entity_of: dict[home_mix.EntityKey, str], devices: Devices, rounds: int
) -> float:
    """Publish `rounds` rounds back to back; messages/s until every entity shows its last."""
    await asyncio.sleep(0.5)
    start = time.monotonic()
    sent = await asyncio.to_thread(lambda: sum(devices.publish_round() for _ in range(rounds)))
    await _wait_shown(hass, entity_of, dict(devices.sent), 180, devices.last_entity(entity_of))
    return sent / (time.monotonic() - start)


# A state_changed event as hass frames it (orjson, compact): its data starts with the
# entity id; a bench entity's id holds "bench".
_EVENT = '"event_type":"state_changed"'
_BENCH = re.compile(r',"data":\{"entity_id":"[^"]*bench')


async def _blast_counted(hass: HassInstance, devices: Devices, rounds: int, run: Run) -> None:
    """The same blast while a WebSocket client counts the bench entities' state_changed
    (counted in the raw frames: parsing thousands of states a second here would take
    the CPU hass is being measured on)."""
    events = 0
    last_arrival = 0.0
    async with _websocket(hass) as ws:
        await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "state_changed"})
        await ws.receive_json()
        await asyncio.sleep(0.5)
        expected = len(devices.specs) * rounds
        start = time.monotonic()

        def blast() -> int:
            return sum(devices.publish_round() for _ in range(rounds))

        sender = asyncio.create_task(asyncio.to_thread(blast))
        while events < expected:
            try:
                msg = await ws.receive(timeout=3.0)
            except TimeoutError:
                break
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            found = _count_changed(msg.data)
            if found:
                events += found
                last_arrival = time.monotonic()
        run.sent = await sender
    run.events = events
    run.rate = events / (last_arrival - start) if events else 0.0


def _count_changed(frame: str) -> int:
    """Bench entities' state_changed events (with a new state) in one WebSocket frame."""
    if frame.count(_EVENT) == 0:
        return 0
    parts = frame.split(_EVENT)[1:]
    return sum(1 for part in parts if _BENCH.match(part) and '"new_state":{' in part)


async def _resync(
    hass: HassInstance,
    entity_of: dict[home_mix.EntityKey, str],
    devices: Devices,
    broker: LocalBroker,
) -> tuple[float, LocalBroker]:
    """Restart the broker (no persistence) while the devices hold fresh values: seconds
    from the restart until every entity shows them, and the new broker."""
    devices.refresh()
    start = time.monotonic()
    await broker.stop()
    broker = await start_mosquitto(find_mosquitto() or "mosquitto", "127.0.0.1", broker.port)
    await _wait_shown(hass, entity_of, devices.full, 180)
    return time.monotonic() - start, broker


async def _first_start(
    hass: BenchHass, side: str, specs: list[SimDeviceSpec], port: int, timeout: float
) -> None:
    """Onboarding and config entries (not timed)."""
    await hass.start(timeout=timeout)
    await hass.onboard()
    await hass.ensure_entry("mqtt", [{"broker": "127.0.0.1", "port": port}])
    if side == "ours":
        site_map = yaml.safe_dump(site_map_document(specs), sort_keys=False)
        await hass.ensure_entry(
            "inspextor",
            [
                {"next_step_id": "site"},
                {"name": "Bench home", "base_topic": BASE, "site_map": site_map},
            ],
            title="Bench home",
        )
    elif side == "floor":
        await hass.ensure_entry("bench_floor", [])
    await _wait_set_up(hass, len(home_mix.entity_keys(specs)), timeout)
    await hass.stop(STOP_TIMEOUT)


async def _shapes(
    hass: HassInstance, specs: list[SimDeviceSpec], entity_of: dict[home_mix.EntityKey, str]
) -> dict[str, list[str]]:
    """What each kind's states carry (not timed): the sides must write the same states."""
    kinds = {spec.path: spec.kind for spec in specs}
    states = await _states(hass)
    shapes: dict[str, set[str]] = {}
    for key, entity_id in entity_of.items():
        shape = shapes.setdefault(f"{kinds[key.path]} {key.cap}", set())
        shape.update(states.get(entity_id, {}).get("attributes", {}))
    return {kind: sorted(names) for kind, names in sorted(shapes.items())}


def same_states(sides: dict[str, Side]) -> str:
    """Whether ours and the floor write the same attributes, kind by kind (and where HA's
    MQTT platforms differ): the floor is a floor only for the same states."""
    ours, floor, mqtt = (sides[side].shapes for side in SIDES)
    differ = [kind for kind in ours if ours[kind] != floor.get(kind)]
    mqtt_only = sorted(
        {name for kind in ours for name in set(ours[kind]) ^ set(mqtt.get(kind, []))}
    )
    return (
        "ours and the floor write the same attributes for every kind"
        if not differ
        else f"ours and the floor differ in the attributes of {', '.join(differ)}"
    ) + (f"; HA's MQTT platforms differ in {', '.join(mqtt_only)}" if mqtt_only else "")


def _bytecode_cache(workdir: Path) -> dict[str, str]:
    """hass's environment: compiled modules cached, in one folder for every side and size,
    as an installed Home Assistant has them. Without it (PYTHONDONTWRITEBYTECODE, a venv
    without .pyc) every start compiles HA's modules anew: 30 % of a 5,000-device set-up."""
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(workdir.parent / "pycache")}


async def measure_side(workdir: Path, specs: list[SimDeviceSpec], sizes: Sizes, side: str) -> Side:
    """Every run of one side at one size."""
    result = Side(side, len(specs), len(home_mix.entity_keys(specs)))
    broker: LocalBroker = await _broker()
    hass = BenchHass(workdir, free_port(), log_level="warning", env=_bytecode_cache(workdir))
    if side == "mqtt":
        hass.extra_yaml = home_mix.mqtt_yaml(specs)
    if side == "floor":
        hass.floor_plan = home_mix.floor_plan(specs, sizes.rounds(len(specs)))
    devices = Devices(broker.port, specs, side)
    devices.start()
    try:
        await _first_start(hass, side, specs, broker.port, sizes.setup_timeout)
        for _ in range(sizes.runs):
            run = Run()
            start = time.monotonic()
            await hass.start(timeout=sizes.setup_timeout)
            await _wait_set_up(hass, result.entities, sizes.setup_timeout)
            run.setup_s = time.monotonic() - start
            entity_of = await _entity_map(hass, specs, side)
            if not result.shapes:
                result.shapes = await _shapes(hass, specs, entity_of)
            mpd = sizes.blast_rounds(len(specs))
            run.polled_rate = await _blast_polled(hass, entity_of, devices, mpd)
            await _blast_counted(hass, devices, mpd, run)
            run.resync_s, broker = await _resync(hass, entity_of, devices, broker)
            pid = hass.process.pid if hass.process is not None else None
            run.rss_kib = rss_kib(pid) if pid is not None else 0
            result.runs.append(run)
            if len(result.runs) == sizes.runs and hass.process is not None:
                hass.process.kill()  # nothing is kept: no clean shutdown to wait for
            await hass.stop(STOP_TIMEOUT)
    finally:
        devices.stop()
        await hass.stop()
        await broker.stop()
    return result


async def measure(workdir: Path, sizes: Sizes) -> dict[int, dict[str, Side]]:
    """Every side at every size."""
    results: dict[int, dict[str, Side]] = {}
    for count in sizes.devices:
        specs = home_mix.fleet(count)
        results[count] = {}
        for side in SIDES:
            print(f"    4: {count:,} devices, {side} ...", flush=True)
            results[count][side] = await measure_side(
                workdir / f"{count}-{side}", specs, sizes, side
            )
    return results


def size_label(count: int) -> str:
    """1000 -> "1k", 24 -> "24": the size in a row number."""
    return f"{count / 1000:g}k" if count >= 1000 else str(count)


def _rows(count: int, sides: dict[str, Side]) -> list[Row]:
    ours, floor, mqtt = sides["ours"], sides["floor"], sides["mqtt"]
    n = size_label(count)
    rate, rate_f, rate_m = (s.median("polled_rate") for s in (ours, floor, mqtt))
    setup, setup_f, setup_m = (s.median("setup_s") for s in (ours, floor, mqtt))
    resync, resync_f = ours.median("resync_s"), floor.median("resync_s")
    rss = [s.median("rss_kib") / 1024 / count * 1024 for s in (ours, floor, mqtt)]
    return [
        Row(
            f"4a-{n}",
            f"ingest, msgs/s, {count:,} devices: ours / floor",
            rate,
            rate_f,
            "msgs/s",
            "≥ 0.95× floor",
            rate >= 0.95 * rate_f,
            0,
        ),
        Row(
            f"4a-{n}m",
            f"ingest, msgs/s, {count:,} devices: ours / HA MQTT",
            rate,
            rate_m,
            "msgs/s",
            "≥ 1× HA MQTT",
            rate >= rate_m,
            0,
        ),
        Row(
            f"4a'-{n}",
            "same, counted over WebSocket: ours / floor",
            ours.median("rate"),
            floor.median("rate"),
            "msgs/s",
            "(report)",
            None,
            0,
        ),
        Row(
            f"4b-{n}",
            f"set-up, hass start → all {ours.entities:,} entities have a state: ours / floor",
            setup,
            setup_f,
            "s",
            "≤ 1.1× floor",
            setup <= 1.1 * setup_f,
            1,
        ),
        Row(f"4b-{n}m", "set-up: ours / HA MQTT", setup, setup_m, "s", "(report)", None, 1),
        Row(
            f"4c-{n}",
            "resync after a broker restart, every entity fresh: ours / floor",
            resync,
            resync_f,
            "s",
            "≤ 1.1× floor",
            resync <= 1.1 * resync_f,
            1,
        ),
        Row(
            f"4c-{n}m",
            "resync: ours / HA MQTT",
            resync,
            mqtt.median("resync_s"),
            "s",
            "(report)",
            None,
            1,
        ),
        Row(
            f"4d-{n}",
            "hass RSS per device: ours / floor",
            rss[0],
            rss[1],
            "KiB",
            "(report)",
            None,
            1,
        ),
        Row(
            f"4d-{n}m",
            "hass RSS per device: ours / HA MQTT",
            rss[0],
            rss[2],
            "KiB",
            "(report)",
            None,
            1,
        ),
    ]


def _spreads(count: int, sides: dict[str, Side]) -> str:
    parts = []
    for side in SIDES:
        s = sides[side]
        parts.append(
            f"{side}: ingest {s.spread('polled_rate')} msgs/s, set-up {s.spread('setup_s')} s, "
            f"resync {s.spread('resync_s')} s, state_changed counted "
            f"{'/'.join(f'{r.events:,}' for r in s.runs)} of "
            f"{'/'.join(f'{r.sent:,}' for r in s.runs)} messages"
        )
    return (
        f"{count:,} devices ({sides['ours'].entities:,} entities), runs' range: "
        + "; ".join(parts)
        + f"; states: {same_states(sides)}."
    )


def chart_data(results: dict[int, dict[str, Side]]) -> dict[str, Any]:
    """The figures the chart plots (bench/chart.py), by side and size."""
    return {
        side: {
            str(count): {
                "setup_s": sides[side].median("setup_s"),
                "ingest": sides[side].median("polled_rate"),
                "rss_mib": sides[side].median("rss_kib") / 1024,
            }
            for count, sides in results.items()
        }
        for side in SIDES
    }


# py-spy (100 Hz) of ours and the floor at 5,000 devices, 2026-12-02, load average 5 to 7;
# kept here so that a rerun of the benchmark keeps it in docs/benchmarks.md.
PROFILE = (
    "Where the time goes (py-spy, 100 Hz, 5,000 devices, 2026-12-02, load average 5 to 7). "
    "**Set-up**, ours (1,234 samples) against the floor (1,679): importing Python modules "
    "was 47 % of ours, 28 % of it compiling HA's source on every start, on every side alike "
    "(the venv has no `.pyc`; the benchmark now gives hass a bytecode cache, as an "
    "installed Home Assistant has: ours' 5,000-device set-up went from 10.0/8.4 s to "
    "6.1/7.9 s, the floor's from 10.9/12.3 s to 6.6/6.6 s); the recorder 28 % (floor 31 %); "
    "HA's MQTT client reading the start-up answers 15 % (12 %); of our own code, PyYAML's "
    "pure-Python loader parsing the site map in the event loop was 5.5 % (libyaml now: "
    "3.1 %). **Ingest**, ours (3,063 samples) against the floor (1,550): HA's recorder "
    "thread 63 % against 65 % (SQLAlchemy's commit 36 %/43 %, attribute-hash look-ups "
    "15 %/13 %), HA's MQTT client 24 %/22 %, the message handler 15 %/11 %, of which HA's "
    "`async_write_ha_state` 9 %/10 %; ours' own extras (a `DeviceState` built at every "
    "look-up, 2.8 %; the pending check per write, 1.7 %) are removed; parsing the topic "
    "and payload and dispatching are now about 4 % of the process. Both sides pay the "
    "recorder and the state machine per state written, which is most of the process."
)


async def run(workdir: Path, sizes: Sizes | None = None) -> tuple[Section, dict[str, Any]]:
    """Benchmark 4's rows and notes, and its chart data."""
    sizes = sizes or Sizes()
    results = await measure(workdir, sizes)
    rows = [row for count, sides in results.items() for row in _rows(count, sides)]
    method = [
        "Kinds mixed as in a real home (bench/home_mix.py): per 12 devices 4 dimmable "
        "lights, 2 RGBW lights, 2 shades, 2 motion sensors, 1 Steinel multisensor (4 "
        "entities) and 1 ozone sensor, over 6 areas. Three real `hass` per size, each with "
        "its own Mosquitto, run one after another: ours (the integration, site map entered "
        "in the config flow; devices answer its `ask`), the floor (bench/floor/bench_floor: "
        "same devices, entities and unique ids; first states precomputed; a message is two "
        "dict look-ups, topic then payload bytes, and a state write: no parsing, no "
        "validation, no command tracking), and HA's MQTT platforms in YAML (statuses retained).",
        f"Each size runs {sizes.runs} times (a start of the same configuration each; "
        "onboarding and config entries in a first, untimed start; hass's compiled modules "
        "cached as in an installed Home Assistant). Figures are the medians. Ingest: "
        f"rounds of one status per device back to back (QoS 0), at least "
        f"{sizes.messages_per_device} rounds and {sizes.messages_per_blast:,} messages "
        f"({', '.join(f'{c:,} devices: {sizes.blast_rounds(c)}' for c in sizes.devices)}); "
        "every message changes its entity's state (a motion message flips what the device "
        "last sent), so every side writes one state per message; the entity of the last "
        "message polled until it shows its value, then `/api/states` until every entity "
        "does; rate = messages ÷ (that moment − first publish). Counted: the same again "
        "while a WebSocket client counts `state_changed` (the counts are given below, "
        "against the messages sent). Set-up: from spawning `hass` until every entity has a "
        "state. Resync: Mosquitto stopped and started (no persistence) while the devices "
        "hold new values for every entity; seconds until every entity shows them (ours asks "
        "on reconnect and the devices answer; the floor and HA's MQTT get the devices' "
        "retained statuses; HA's MQTT client retries its connection every 10 s, which sets "
        "most of it). RSS: hass's VmRSS after the resync, per device.",
        *[_spreads(count, sides) for count, sides in results.items()],
        PROFILE,
    ]
    return Section("4. A large home: ingest, set-up, resync, memory", rows, method, []), chart_data(
        results
    )
