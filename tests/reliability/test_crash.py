"""kill -9 the bridge at random points of a sync flood, 20 times; nothing is lost."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
import random
import sqlite3

import aiohttp

from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker
from tests.helpers.polling import wait_for
from tests.reliability import table
from tests.reliability.harness import BridgeProcess, bridge_options, own, start_ledger

KILLS = 20
SEED = 7
SENSORS = [f"sensor.power_{i}" for i in range(20)]
LIGHTS = [f"light.lamp_{i}" for i in range(5)]


def numbered(db: Path, lane: str) -> int:
    """The last seq the bridge gave a record of `lane` (every seq up to it was used)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        row = conn.execute("SELECT last FROM seq WHERE lane = ?", (lane,)).fetchone()
    return int(row[0]) if row else 0


async def test_sigkill_during_flood_loses_and_duplicates_nothing(
    tmp_path: Path, broker: Broker, fake_ha: FakeHA
) -> None:
    rng = random.Random(SEED)
    own(fake_ha, *SENSORS, *LIGHTS)
    for light in LIGHTS:
        fake_ha.set_state(light, "off", {"brightness": None})
    ledger = await start_ledger(broker)
    bridge = BridgeProcess(tmp_path, bridge_options(tmp_path, broker, fake_ha.url, fake_ha.token))
    changes = 0
    flooding = True

    async def flood() -> None:
        nonlocal changes
        k = 0
        while flooding:
            fake_ha.set_state(SENSORS[k % len(SENSORS)], str(k))
            if k % 7 == 0:
                light = LIGHTS[k % len(LIGHTS)]
                fake_ha.set_state(light, "on", {"brightness": k % 256})
            k += 1
            changes += 1
            if k % 5 == 0:
                await asyncio.sleep(0.01)

    kill_points: list[float] = []
    async with aiohttp.ClientSession() as session:
        flooder = asyncio.create_task(flood())
        try:
            for _ in range(KILLS):
                bridge.start()
                await bridge.ready(session)
                point = rng.uniform(0.05, 1.5)
                kill_points.append(point)
                await asyncio.sleep(point)
                bridge.kill()
                await asyncio.sleep(rng.uniform(0.0, 0.3))  # HA goes on while it is down
        finally:
            flooding = False
            await flooder
        for i, light in enumerate(LIGHTS):  # the final word of HA on every light
            fake_ha.set_state(light, "on" if i % 2 else "off", {"brightness": 10 + i})
        bridge.start()
        try:
            await bridge.ready(session)
            await bridge.drained(session)
            status = await bridge.status(session)
        finally:
            bridge.stop()
    assert status is not None
    last_low, last_high = numbered(bridge.db, "low"), numbered(bridge.db, "high")
    expected = {light: fake_ha.states[light]["state"] for light in LIGHTS}
    with contextlib.suppress(AssertionError):
        await wait_for(
            lambda: (
                ledger.seqs("low") >= set(range(1, last_low + 1))
                and ledger.latest_states() == expected
            ),
            timeout=10,
            what="the ledger to catch up",
        )
    await ledger.close()
    missing_low = set(range(1, last_low + 1)) - ledger.seqs("low")
    missing_high = set(range(1, last_high + 1)) - ledger.seqs("high")
    wrong_lights = {
        light
        for light in LIGHTS
        if ledger.latest_states().get(light) != fake_ha.states[light]["state"]
    }
    lost = len(missing_low) + len(wrong_lights)
    table.record(
        "bridge SIGKILL during a sync flood",
        KILLS,
        lost,
        len(ledger.conflicts),
        bridge.crashes,
        f"{changes} HA changes, {last_low} low + {last_high} high records numbered, "
        f"{ledger.redelivered} redeliveries ignored by seq",
    )
    assert status["outbox"]["dropped_low"] == 0
    assert not missing_low, f"low records numbered but never at the cloud: {sorted(missing_low)}"
    # coalesced high records may be superseded in the outbox, but the newest state arrives
    assert not wrong_lights, {e: ledger.latest_states().get(e) for e in wrong_lights}
    latest = {r["entity_id"]: r for r in ledger.lane("high")}
    for light in LIGHTS:
        assert latest[light]["attributes"] == fake_ha.states[light]["attributes"]
    assert not ledger.conflicts, f"seqs reused for different records: {ledger.conflicts[:5]}"
    assert bridge.crashes == 0
    assert last_low > 300  # the flood really went through the outbox
    del missing_high  # high seqs are coalesced away before sending; not a loss
