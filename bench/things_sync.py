"""Benchmark 7: things_sync (contract 3) on loopback UDP, beside MQTT through Mosquitto.

8a/b set → reply p50/p99: the integration's engine and socket setting an output of a
     simulated controller, one set at a time; baseline: one command → echo round trip over
     MQTT through a real Mosquitto (TCP_NODELAY on both sides, bench/nagle.py's hop).
8c/d bytes and datagrams on the wire per confirmed change (set + reply), counted by a
     fault-free link; baseline: contract 2's command + status publishes (payload + topic).
8e   time to converge: 200 sets across 5 controllers through a link with 30 % loss (each
     way), 10 % duplication and reordering; baseline: the same sets with no faults.
8f   start-up resync: 1,000 things on 20 controllers all known; baseline: the same ask
     sent one message per datagram (no lists).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import json
import time
from typing import Any

from bench import nagle
from bench.report import Row, Section
from bench.stats import percentile
from custom_components.inspextor.things_sync import wire
from custom_components.inspextor.things_sync.engine import Engine
from custom_components.inspextor.things_sync.site import Site, parse_site
from custom_components.inspextor.things_sync.udp import Endpoint, open_endpoint
from devkit.devcloud.broker import find_mosquitto, start_mosquitto
from devkit.devstack.stack import free_port
from devkit.lossy_link import Faults
from tests.helpers.things_sync import SimSite, layout, site_text, start_sim_site

LOSSY = Faults(loss=0.30, duplicate=0.10, reorder=0.10, reorder_delay=0.05)


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much to measure."""

    sets: int = 1000
    mqtt_rounds: int = 1000
    converge_sets: int = 200
    resync_controllers: int = 20
    resync_per: int = 50  # things per controller: 1,000 in all


class UnbatchedEngine(Engine):
    """The baseline of 8f: every message in its own datagram."""

    def _flush(self) -> list[tuple[tuple[str, int], bytes]]:
        out: list[tuple[tuple[str, int], bytes]] = []
        for name, messages in self._outbox.items():
            controller = self.site.controllers[name]
            out.extend(((controller.host, controller.port), wire.dumps([m])) for m in messages)
        self._outbox.clear()
        return out


async def _site(
    controllers: int, per: int, faults: Faults | None, engine: type[Engine] = Engine
) -> tuple[SimSite, Endpoint, Site]:
    loop = asyncio.get_running_loop()
    shape = layout(controllers, per=per)
    sim = await start_sim_site(shape, faults=faults, seed=7)
    site = parse_site(site_text(shape, sim.addresses, ttl="forever"))
    endpoint = await open_endpoint(
        engine(site, clock=loop.time), "127.0.0.1", 0, lambda _events: None, start=False
    )
    sim.connect(endpoint.address)
    return sim, endpoint, site


async def _known(endpoint: Endpoint, total: int, timeout: float = 120) -> float:
    started = time.monotonic()
    endpoint.start()
    while len(endpoint.engine.values) < total:
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{len(endpoint.engine.values)} of {total} things known")
        await asyncio.sleep(0.005)
    return time.monotonic() - started


async def _sequential_sets(endpoint: Endpoint, sets: int) -> list[float]:
    samples = []
    for n in range(sets):
        start = time.monotonic()
        await endpoint.track(endpoint.engine.set("pi0_dimmer0", n % 100))
        samples.append(time.monotonic() - start)
    return samples


async def set_reply(sets: int) -> list[float]:
    """Round trips (s) of sequential sets, HA and the controller talking directly."""
    sim, endpoint, site = await _site(1, 6, None)
    try:
        await _known(endpoint, len(site.things))
        return await _sequential_sets(endpoint, sets)
    finally:
        endpoint.close()
        await sim.stop()


async def wire_cost(sets: int) -> tuple[float, float]:
    """(bytes, datagrams) per confirmed change, counted by a fault-free link."""
    sim, endpoint, site = await _site(1, 6, Faults())
    try:
        await _known(endpoint, len(site.things))
        link = sim.links[0]
        bytes_before, count_before = link.stats.bytes, link.stats.forwarded
        await _sequential_sets(endpoint, sets)
        await asyncio.sleep(0.1)  # let the last reply pass the link
        return (link.stats.bytes - bytes_before) / sets, (
            link.stats.forwarded - count_before
        ) / sets
    finally:
        endpoint.close()
        await sim.stop()


async def converge(sets: int, faults: Faults | None) -> float:
    """Seconds from the first of `sets` sets to the last confirmation (5 controllers)."""
    sim, endpoint, site = await _site(5, 6, faults)
    try:
        await _known(endpoint, len(site.things))
        outputs = [t for t in site.things.values() if t.direction == "output"]
        started = time.monotonic()
        waits = []
        for n in range(sets):
            thing = outputs[n % len(outputs)]
            value = n % 2 == 0 if thing.type == "bool" else n % 100
            waits.append(endpoint.track(endpoint.engine.set(thing.name, value)))
        await asyncio.wait_for(asyncio.gather(*waits), timeout=120)
        return time.monotonic() - started
    finally:
        endpoint.close()
        await sim.stop()


async def resync(controllers: int, per: int, engine: type[Engine]) -> tuple[float, int]:
    """(seconds until every thing is known, things)."""
    sim, endpoint, site = await _site(controllers, per, None, engine)
    try:
        return await _known(endpoint, len(site.things)), len(site.things)
    finally:
        endpoint.close()
        await sim.stop()


async def mqtt_round_trips(rounds: int) -> list[float]:
    """Command → echo over Mosquitto, TCP_NODELAY on both sides."""
    binary = find_mosquitto()
    if binary is None:
        raise RuntimeError("mosquitto is not installed")
    broker = await start_mosquitto(binary, "127.0.0.1", free_port(), nodelay=True)
    try:
        return await nagle._measure(broker.port, True, rounds)
    finally:
        await broker.stop()


def mqtt_bytes_per_change() -> float:
    """Contract 2: command publish + confirming status publish, topic + payload."""
    topic = "inspextor/b5ea3f/42/M/"
    cid = "0123456789abcdef"
    command = len(topic + "command") + len(json.dumps({"value": 55, "cid": cid}))
    status = len(topic + "status") + len(json.dumps({"value": 55, "cid": cid}))
    return float(command + status)


async def run(sizes: Sizes) -> Section:
    """All of benchmark 7."""
    ours = await set_reply(sizes.sets)
    per_bytes, per_messages = await wire_cost(min(sizes.sets, 200))
    mqtt = await mqtt_round_trips(sizes.mqtt_rounds)
    lossy = await converge(sizes.converge_sets, LOSSY)
    clean = await converge(sizes.converge_sets, None)
    batched, things = await resync(sizes.resync_controllers, sizes.resync_per, Engine)
    unbatched, _ = await resync(sizes.resync_controllers, sizes.resync_per, UnbatchedEngine)
    return Section("8. things_sync", rows=_rows(sizes, locals()), method=_method(things))


def _rows(sizes: Sizes, m: dict[str, Any]) -> list[Row]:
    ours, mqtt = m["ours"], m["mqtt"]
    p50, p99 = percentile(ours, 50) * 1000, percentile(ours, 99) * 1000
    return [
        Row("8a", f"set → reply p50, loopback ({sizes.sets} sets) vs MQTT command → echo",
            p50, percentile(mqtt, 50) * 1000, "ms", "(report)", None, 2),
        Row("8b", "set → reply p99", p99, percentile(mqtt, 99) * 1000, "ms", "(report)", None, 2),
        Row("8c", "bytes on the wire per confirmed change (set + reply; MQTT: topic + payload)",
            m["per_bytes"], mqtt_bytes_per_change(), "B", "(report)", None, 0),
        Row("8d", "datagrams per confirmed change (MQTT: 2 publishes, 2 PUBACKs at QoS 1)",
            m["per_messages"], 4.0, "msgs", "(report)", None, 2),
        Row("8e", f"{sizes.converge_sets} sets on 5 controllers converge: 30 % loss, 10 % "
            "dup + reorder (baseline: no faults)", m["lossy"] * 1000, m["clean"] * 1000, "ms",
            "(report)", None, 0),
        Row("8f", f"start-up resync, {m['things']} things on {sizes.resync_controllers} "
            "controllers (baseline: one message per datagram)", m["batched"] * 1000,
            m["unbatched"] * 1000, "ms", "(report)", None, 0),
    ]  # fmt: skip


def _method(things: int) -> list[str]:
    return [
        "8: the integration's things_sync engine and socket (custom_components/inspextor/"
        "things_sync) against the simulator's controllers (devkit/simulator/things_sync), "
        "real UDP on 127.0.0.x; losses and duplicates from devkit/lossy_link.py. 8a/b's "
        "baseline is bench/nagle.py's MQTT hop on a real Mosquitto with TCP_NODELAY; 8c's "
        f"MQTT bytes count topic + JSON payload of contract 2's command and status. 8f: {things} "
        "things, asks batched into ≤ 1,400-byte lists vs one per datagram.",
        "8e: the sets go round robin over the 10 outputs of 5 controllers, all at once; a set "
        "of a thing still pending replaces it (newest value), so the figure is the time until "
        "every caller has its confirmation. Backoff 0.5 s doubling to a 3 s cap, ±25 % jitter.",
        "8a/b measure the transports (no Home Assistant on either side). Section 8 can be "
        "refreshed alone (`python -m bench --only 8`): its rows may be from a later run than "
        "the machine line above.",
    ]
