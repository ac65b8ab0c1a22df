"""The cloud broker goes away under load; the outbox fills to its cap; the disk fills up."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
import os
from pathlib import Path
import subprocess
import time

import aiohttp
import pytest

from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker
from tests.helpers.polling import wait_for
from tests.reliability import table
from tests.reliability.harness import (
    BridgeProcess,
    Ledger,
    bridge_options,
    own,
    start_ledger,
)
from tests.reliability.test_crash import numbered

# The issue asks for 60 s; RELIABILITY_OUTAGE shortens it for a quick local run.
OUTAGE = float(os.environ.get("RELIABILITY_OUTAGE", "60"))
SENSORS = [f"sensor.meter_{i}" for i in range(10)]
LIGHTS = [f"light.room_{i}" for i in range(10)]


async def test_cloud_broker_outage_under_load(
    tmp_path: Path, broker: Broker, fake_ha: FakeHA
) -> None:
    own(fake_ha, *SENSORS, *LIGHTS)
    ledger = await start_ledger(broker)
    bridge = BridgeProcess(tmp_path, bridge_options(tmp_path, broker, fake_ha.url, fake_ha.token))
    flooding = True

    async def flood() -> None:
        k = 0
        while flooding:
            fake_ha.set_state(SENSORS[k % len(SENSORS)], str(k))
            fake_ha.set_state(LIGHTS[k % len(LIGHTS)], "on", {"brightness": k % 256})
            k += 1
            await asyncio.sleep(0.02)

    async with aiohttp.ClientSession() as session:
        bridge.start()
        flooder = asyncio.create_task(flood())
        try:
            await bridge.ready(session)
            await wait_for(lambda: ledger.lane("low"), what="readings before the outage")
            broker.stop()
            down_at = time.monotonic()
            await bridge.wait_status(session, lambda s: not s["cloud_connected"], what="offline")
            await asyncio.sleep(OUTAGE / 2)
            own(fake_ha, "light.added_during_outage")  # a structure change while offline
            fake_ha.set_state("light.added_during_outage", "on")
            await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - down_at)))
            backlog = await bridge.status(session)
            broker.restart()
            up_at = time.monotonic()
            await bridge.wait_status(
                session, lambda s: s["cloud_connected"], timeout=130, what="reconnected"
            )
            reconnect = time.monotonic() - up_at
            flooding = False
            await flooder
            await bridge.drained(session)
            status = await bridge.status(session)
        finally:
            flooding = False
            with contextlib.suppress(Exception):
                await flooder
            bridge.stop()
    assert backlog is not None
    assert status is not None
    last_low = numbered(bridge.db, "low")
    expected = {e: fake_ha.states[e]["state"] for e in [*LIGHTS, "light.added_during_outage"]}
    with contextlib.suppress(AssertionError):
        await wait_for(
            lambda: (
                ledger.seqs("low") >= set(range(1, last_low + 1))
                and all(ledger.latest_states().get(e) == s for e, s in expected.items())
            ),
            what="the ledger to catch up",
        )
    await ledger.close()
    missing = set(range(1, last_low + 1)) - ledger.seqs("low")
    wrong = [e for e, s in expected.items() if ledger.latest_states().get(e) != s]
    after = [(t, lane) for t, lane, _ in ledger.arrivals if t >= up_at]
    first = {
        lane: min((t for t, ln in after if ln == lane), default=None)
        for lane in ("structure", "high", "low")
    }
    in_order = None not in first.values() and first["structure"] <= first["high"] <= first["low"]
    table.record(
        f"cloud broker down {OUTAGE:g} s under load",
        1,
        len(missing) + len(wrong),
        len(ledger.conflicts),
        bridge.crashes,
        f"backlog {backlog['outbox']}; reconnected {reconnect:.1f} s after the broker; "
        f"drained structure, high, low in order: {in_order}",
    )
    assert backlog["outbox"]["low"] > 100
    assert backlog["outbox"]["structure"] >= 1
    assert not missing, sorted(missing)[:20]
    assert not wrong, wrong
    assert not ledger.conflicts
    assert status["outbox"]["dropped_low"] == 0
    # the backlog drains in lane priority order
    assert first["structure"] is not None
    assert first["high"] is not None
    assert first["low"] is not None
    assert first["structure"] <= first["high"] <= first["low"], first
    snapshot = ledger.lane("structure")[-1]
    assert "light.added_during_outage" in [e["entity_id"] for e in snapshot["entities"]]


async def test_outbox_at_its_cap_drops_oldest_low_never_high(
    tmp_path: Path, persistent_broker: Broker, fake_ha: FakeHA
) -> None:
    broker = persistent_broker
    lights = [f"light.bulk_{i}" for i in range(300)]
    own(fake_ha, "sensor.flow", *lights)
    ledger = await start_ledger(broker)
    bridge = BridgeProcess(
        tmp_path,
        bridge_options(tmp_path, broker, fake_ha.url, fake_ha.token, low_capacity=1000),
    )
    async with aiohttp.ClientSession() as session:
        bridge.start()
        try:
            await bridge.ready(session)
            await wait_for(lambda: ledger.lane("structure"), what="the first snapshot")
            broker.stop()
            await bridge.wait_status(session, lambda s: not s["cloud_connected"], what="offline")
            for k in range(1500):
                fake_ha.set_state("sensor.flow", str(k))
                if k < len(lights):
                    fake_ha.set_state(lights[k], "on", {"brightness": k % 256})
                if k % 50 == 0:
                    await asyncio.sleep(0.01)
            full = await bridge.wait_status(
                session,
                lambda s: s["outbox"]["dropped_low"] >= 500 and s["outbox"]["high"] >= 300,
                what="a full low lane",
            )
            broker.restart()
            await bridge.drained(session, timeout=90)
        finally:
            bridge.stop()
    expected = {light: "on" for light in lights}
    with contextlib.suppress(AssertionError):
        await wait_for(
            lambda: all(ledger.latest_states().get(e) == s for e, s in expected.items()),
            what="the ledger to catch up",
        )
    await ledger.close()
    readings = {int(r["state"]) for r in ledger.lane("low") if r["entity_id"] == "sensor.flow"}
    lost_high = [e for e, s in expected.items() if ledger.latest_states().get(e) != s]
    table.record(
        "outbox at its cap (1,000 low rows) while offline",
        1500 + len(lights),
        len(lost_high) + len(set(range(501, 1500)) - readings),
        len(ledger.conflicts),
        bridge.crashes,
        f"low dropped oldest-first and counted: {full['outbox']['dropped_low']}; "
        f"high kept {full['outbox']['high']}",
    )
    assert full["outbox"]["low"] == 1000
    assert full["outbox"]["dropped_low"] == 500
    assert full["outbox"]["high"] == 300
    assert not lost_high
    # the newest readings stayed (one earlier row shares the lane), the oldest went
    assert readings >= set(range(501, 1500))
    assert not readings & set(range(1, 499))


def big_readings(ledger: Ledger) -> set[str]:
    """The readings of the full-disk test's sensors that reached the cloud."""
    return {r["state"] for r in ledger.lane("low") if r["entity_id"].startswith("sensor.big_")}


@contextlib.contextmanager
def tmpfs(mount: Path, options: str) -> Iterator[Path]:
    """A real tmpfs with `options` mounted on `mount` (which must exist), lazily unmounted
    after; the test is skipped where mounting is not allowed."""
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({options}) here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real, small filesystem (tmpfs, 8 MB) for the data folder; skipped where not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    with tmpfs(mount, "size=8m"):
        yield mount


async def test_full_disk_and_read_only_data_folder(
    tmp_path: Path, persistent_broker: Broker, fake_ha: FakeHA, small_disk: Path
) -> None:
    broker = persistent_broker  # the ledger must not miss what is sent before it is back
    sensors = [f"sensor.big_{i}" for i in range(20)]
    own(fake_ha, *sensors, "light.keep")
    ledger = await start_ledger(broker)
    options = bridge_options(tmp_path, broker, fake_ha.url, fake_ha.token)
    options["data_dir"] = str(small_disk / "data")
    bridge = BridgeProcess(tmp_path, options)
    blob = "x" * 8000
    async with aiohttp.ClientSession() as session:
        bridge.start()
        try:
            await bridge.ready(session)
            broker.stop()
            await bridge.wait_status(session, lambda s: not s["cloud_connected"], what="offline")
            for k in range(1500):  # ~12 MB of readings into an 8 MB disk
                fake_ha.set_state(sensors[k % 20], str(k), {"blob": blob})
                if k % 20 == 0:
                    await asyncio.sleep(0.02)
            fake_ha.set_state("light.keep", "on", {"brightness": 7})
            full = await bridge.wait_status(
                session,
                lambda s: (s["last_error"] or {}).get("code") == "storage_full",
                what="a clear disk-full error",
            )
            broker.restart()
            await bridge.wait_status(session, lambda s: s["cloud_connected"], timeout=90)
            fake_ha.set_state("light.keep", "off", {"brightness": None})
            # Draining sent readings frees pages in the database (secure_delete off, so a
            # delete needs almost no room, and the reserve lets the WAL checkpoint finish);
            # the writer's retries then get the readings held in memory in, batch by batch.
            await wait_for(
                lambda: ledger.latest_states().get("light.keep") == "off",
                timeout=30,
                what="changes flowing again",
            )
            after = await bridge.wait_status(
                session,
                lambda s: s["last_error"] is None and not any(s["outbox"].values()),
                timeout=60,
                what="the error cleared and the outbox drained",
            )
            with contextlib.suppress(AssertionError):  # the observer lags the PUBACKs
                await wait_for(lambda: len(big_readings(ledger)) >= 1500, what="the ledger")
            alive = bridge.running
        finally:
            bridge.stop()
    await ledger.close()
    lost = 1500 - len(big_readings(ledger) & {str(k) for k in range(1500)})
    table.record(
        "full disk (8 MB tmpfs) while offline, then back online",
        1501,
        lost,
        len(ledger.conflicts),
        bridge.crashes,
        f"error: {full['last_error']['code']}; stayed up: {alive}; drained and cleared "
        f"the error without anyone freeing space: {after['last_error'] is None}",
    )
    assert "full" in full["last_error"]["reason"]
    assert lost == 0  # every reading kept in memory while the disk was full got through
    assert alive
    assert bridge.crashes == 0


@pytest.mark.parametrize("kind", ["read-only mount", "a file, not a folder"])
async def test_unusable_data_folder_gives_a_clear_error_and_the_bridge_stays_up(
    tmp_path: Path, broker: Broker, fake_ha: FakeHA, kind: str
) -> None:
    data = tmp_path / "data"
    unusable = contextlib.ExitStack()
    if kind == "read-only mount":
        data.mkdir()
        unusable.enter_context(tmpfs(data, "size=1m,ro"))
    else:
        data.write_text("not a folder")
    own(fake_ha, "light.mem")
    fake_ha.set_state("light.mem", "on")
    ledger = await start_ledger(broker)
    options = bridge_options(tmp_path, broker, fake_ha.url, fake_ha.token)
    bridge = BridgeProcess(tmp_path, options)
    status = None
    try:
        async with aiohttp.ClientSession() as session:
            bridge.start()
            try:
                status = await bridge.wait_status(
                    session,
                    lambda s: s["cloud_connected"] and s["ha_connected"],
                    what="the bridge up despite its data folder",
                )
                fake_ha.set_state("light.mem", "off")
                await wait_for(
                    lambda: ledger.latest_states().get("light.mem") == "off",
                    what="syncing from memory",
                )
            finally:
                bridge.check_alive()
                bridge.stop()
    finally:
        unusable.close()
        await ledger.close()
    table.record(
        f"data folder is {kind}",
        1,
        0,
        0,
        bridge.crashes,
        f"error: {(status or {}).get('last_error')}".replace(str(tmp_path), "<tmp>")[:90],
    )
    assert status is not None
    assert status["last_error"]["code"] == "storage_readonly"
    assert "read-only" in status["last_error"]["reason"]
