"""things_sync through a lossy link: 30 % loss, 10 % duplication, 10 % reordering.

Real UDP sockets on loopback: five simulated controllers (127.0.0.2-6), one lossy link
each, and Home Assistant's side of the site (the integration's engine and socket, as its
config entry runs them). No broker runs in this test: things_sync needs none.
"""

from __future__ import annotations

import asyncio
from collections import Counter
import random
from typing import Any

from custom_components.inspextor.things_sync.engine import Engine
from custom_components.inspextor.things_sync.events import Event
from custom_components.inspextor.things_sync.site import parse_site
from custom_components.inspextor.things_sync.udp import open_endpoint
from devkit.lossy_link import Faults
from tests.helpers.polling import wait_for
from tests.helpers.things_sync import layout, site_text, start_sim_site
from tests.reliability import table

FAULTS = Faults(loss=0.30, duplicate=0.10, reorder=0.10, reorder_delay=0.05)
SETS = 1000
PULSES = 200


async def test_sets_and_pulses_converge_through_a_lossy_link() -> None:
    loop = asyncio.get_running_loop()
    crashes: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: crashes.append(context))
    controllers = layout(5, kinds=2)
    sim = await start_sim_site(controllers, faults=FAULTS, seed=14)
    site = parse_site(site_text(controllers, sim.addresses, ttl="forever"))
    events: list[Event] = []
    endpoint = await open_endpoint(
        Engine(site, clock=loop.time), "127.0.0.1", 0, events.extend, start=False
    )
    sim.connect(endpoint.address)
    endpoint.start()
    try:
        await wait_for(
            lambda: len(endpoint.engine.values) == len(site.things), 30, "the start-up ask"
        )
        rng = random.Random(14)
        outputs = [t for t in site.things.values() if t.direction == "output"]
        pulses = [t for t in site.things.values() if t.direction == "pulse"]
        last: dict[str, Any] = {}
        requested = Counter[str]()
        waits = []
        for n in range(SETS):
            thing = rng.choice(outputs)
            value = rng.random() < 0.5 if thing.type == "bool" else rng.randint(0, 100)
            last[thing.name] = value
            waits.append(endpoint.track(endpoint.engine.set(thing.name, value)))
            if n % 5 == 0:
                fired = rng.choice(pulses)
                requested[fired.name] += 1
                waits.append(endpoint.track(endpoint.engine.pulse(fired.name)))
            if n % 10 == 0:
                await asyncio.sleep(0.02)
        assert len(waits) == SETS + PULSES
        await asyncio.wait_for(asyncio.gather(*waits), timeout=50)
        owners = {c.spec.name: c for c in sim.controllers}
        wrong = [
            name
            for name, value in last.items()
            if owners[site.things[name].owner].things[name].value != value
            or endpoint.engine.values[name] != value
        ]
        fired = Counter[str]()
        for controller in sim.controllers:
            fired.update({t.name: t.pulses for t in controller.things.values() if t.pulses})
        dropped = sum(link.stats.dropped for link in sim.links)
        duplicated = sum(link.stats.duplicated for link in sim.links)
        extra = sum(fired.values()) - PULSES
        table.record(
            "things_sync: 30 % loss, 10 % dup+reorder",
            SETS + PULSES,
            len(wrong),
            max(extra, 0),
            len(crashes),
            f"link dropped {dropped}, duplicated {duplicated}",
        )
        assert wrong == []
        assert fired == requested  # every pulse fired exactly once
        assert crashes == []
    finally:
        endpoint.close()
        await sim.stop()
        loop.set_exception_handler(None)
