"""A 5,000-entity home: its structure snapshot goes to the contents store whole, the
structure lane carries a reference, and the dev cloud follows it and shows every entity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cloud_bridge.protocol.packing import unpack
from cloud_bridge.store_channel.backend import FolderStore
from devkit.devcloud import ContractSpec, DevCloud
from tests.bridge.bridge_fixtures import CONTRACT, INSTANCE, PASSWORD, start_harness
from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker
from tests.helpers.polling import wait_for

ENTITIES = 5000
STORE_OPTIONS = {"store_channel": True, "store_poll_interval": 3600, "store_status_interval": 0}


def _large_home(fake_ha: FakeHA) -> None:
    for area in range(25):
        fake_ha.add_area(f"area_{area}", f"Room {area}")
    for device in range(ENTITIES // 5):
        fake_ha.add_device(f"dev_{device}", f"Sensor box {device}", area_id=f"area_{device % 25}")
    for index in range(ENTITIES):
        entity_id = f"sensor.box_{index // 5}_reading_{index % 5}"
        fake_ha.add_entity(
            entity_id, device_id=f"dev_{index // 5}", name=f"Reading {index}", platform="inspextor"
        )
        fake_ha.set_state(entity_id, str(index), {"unit_of_measurement": "lx"})


@pytest.fixture
async def cloud(broker: Broker, tmp_path: Path) -> AsyncIterator[DevCloud]:
    running = DevCloud(broker.host, broker.port, tmp_path / "devcloud.sqlite3")
    await running.start([ContractSpec.parse(f"{CONTRACT}:{INSTANCE}:{PASSWORD}:active:2030-01-01")])
    contents = FolderStore(tmp_path / "stores" / "inspextor" / "contents")
    running.attach_stores({"contents": contents}, "inspextor")
    yield running
    await running.stop()


async def test_a_large_snapshot_goes_by_reference_and_the_cloud_shows_all_of_it(
    tmp_path: Path, broker: Broker, fake_ha: FakeHA, cloud: DevCloud
) -> None:
    _large_home(fake_ha)
    async with start_harness(tmp_path, broker, fake_ha, **STORE_OPTIONS) as harness:
        assert harness.bridge.sync.offload is not None
        await harness.bridge.resync()

        await wait_for_entities(cloud, ENTITIES)
        assert cloud.desk is not None
        assert cloud.desk.followed >= 1
        shown = (await cloud.entities(CONTRACT))["entities"]
        assert {e["entity_id"] for e in shown} == {e["entity_id"] for e in fake_ha.entities}
        structure = [
            record
            for received in harness.cloud.on_topic(f"inx/{CONTRACT}/send_sync_query_high")
            for record in unpack(received.payload)
            if record["lane"] == "structure"
        ]
        assert structure
        assert all(r["kind"] == "snapshot_ref" for r in structure)
        assert structure[-1]["counts"]["entities"] == ENTITIES
        packets = harness.cloud.on_topic(f"inx/{CONTRACT}/send_sync_query_high")
        assert max(len(p.payload) for p in packets) <= 128 * 1024


async def wait_for_entities(cloud: DevCloud, count: int, timeout: float = 60.0) -> None:
    async def all_shown() -> bool:
        return len((await cloud.entities(CONTRACT))["entities"]) == count

    await wait_for(all_shown, timeout, f"the dev cloud to show {count} entities")
