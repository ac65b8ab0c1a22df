"""A resync reaches the cloud at once, low lane included, whatever its batching window.

Each bridge here batches sensor readings for LOW_WINDOW seconds; the cloud must hold the
resync's readings long before that (the deadline is a quarter of it). Without sending a
resync's backlog at once, a small home's first sync waited the whole window.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.bridge.bridge_fixtures import BridgeHarness, own_entities, start_harness
from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker, running_broker
from tests.helpers.polling import wait_for

LOW_WINDOW = 120
DEADLINE = LOW_WINDOW / 4
SENSORS = [f"sensor.room{i}_temperature" for i in range(5)]


def readings(h: BridgeHarness) -> dict[str, str]:
    """The newest reading the cloud holds per sensor."""
    return {str(r["entity_id"]): str(r["state"]) for r in h.cloud.records("low")}


def holds(h: BridgeHarness, value: str) -> bool:
    """The cloud holds `value` for every sensor."""
    held = readings(h)
    return all(held.get(sensor) == value for sensor in SENSORS)


def seed(fake_ha: FakeHA, value: str) -> None:
    own_entities(fake_ha, *SENSORS)
    for sensor in SENSORS:
        fake_ha.set_state(sensor, value, {"unit_of_measurement": "°C"})


@pytest.fixture
def persistent_broker() -> Iterator[Broker]:
    """A broker that keeps the cloud peer's session across a restart."""
    with running_broker(persistent=True) as running:
        yield running


async def test_first_sync_sends_every_reading_at_once(tmp_path, broker, fake_ha) -> None:
    seed(fake_ha, "20.5")
    async with start_harness(tmp_path, broker, fake_ha, low_window=LOW_WINDOW) as h:
        await wait_for(lambda: holds(h, "20.5"), timeout=DEADLINE, what="every reading")
        assert h.cloud.records("structure"), "the snapshot went first"


async def test_home_assistant_reconnect_resync_is_sent_at_once(tmp_path, broker, fake_ha) -> None:
    seed(fake_ha, "20.5")
    async with start_harness(tmp_path, broker, fake_ha, low_window=LOW_WINDOW) as h:
        await wait_for(lambda: holds(h, "20.5"), timeout=DEADLINE, what="first readings")
        before = h.bridge.resyncs
        await fake_ha.stop()
        await wait_for(lambda: not h.bridge.ha.connected, what="HA gone")
        for sensor in SENSORS:  # changed while the bridge could not see it
            fake_ha.set_state(sensor, "22.0", {"unit_of_measurement": "°C"})
        await fake_ha.start()
        await wait_for(lambda: h.bridge.resyncs > before, timeout=DEADLINE, what="resync")
        await wait_for(lambda: holds(h, "22.0"), timeout=DEADLINE, what="the resync's readings")


async def test_cloud_reconnect_sends_the_backlog_at_once(
    tmp_path, persistent_broker, fake_ha
) -> None:
    seed(fake_ha, "20.5")
    async with start_harness(tmp_path, persistent_broker, fake_ha, low_window=LOW_WINDOW) as h:
        await wait_for(lambda: holds(h, "20.5"), timeout=DEADLINE, what="first readings")
        persistent_broker.stop()
        await wait_for(lambda: not h.bridge.link.online, what="the cloud gone")
        for sensor in SENSORS:  # read while the cloud is away: queued in the outbox
            fake_ha.set_state(sensor, "23.5", {"unit_of_measurement": "°C"})
        await wait_for(
            lambda: h.bridge.sync.store.low_queued >= len(SENSORS), what="readings queued"
        )
        persistent_broker.restart()
        await wait_for(lambda: holds(h, "23.5"), timeout=DEADLINE, what="the backlog")
