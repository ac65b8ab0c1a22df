"""The sync scope end to end: fake HA → bridge → real Mosquitto → cloud peer."""

from __future__ import annotations

import json

from cloud_bridge.protocol.records import Lane
from tests.bridge.bridge_fixtures import (
    BridgeHarness,
    own_entities,
    start_harness,
)
from tests.helpers.polling import wait_for

AUTH = {"Authorization": "Bearer local-api-token"}


def everything_sent(h: BridgeHarness) -> str:
    """Every record the cloud broker carried, as one text to search."""
    return json.dumps(h.cloud.records())


async def test_only_own_entities_and_their_structure_reach_the_cloud(
    tmp_path, broker, fake_ha
) -> None:
    fake_ha.add_area("kitchen", "Kitchen")
    fake_ha.add_area("secret_room", "Secret room")
    fake_ha.add_device("d-lamp", "Lamp", area_id="kitchen")
    fake_ha.add_device("d-phone", "Anna's phone", area_id="secret_room")
    own_entities(fake_ha, "light.lamp", "sensor.lamp_power", device_id="d-lamp")
    fake_ha.add_entity("person.x", platform="person")
    fake_ha.add_entity("device_tracker.phone", device_id="d-phone", platform="mobile_app")
    fake_ha.add_entity("sensor.backup_state", platform="backup")
    fake_ha.set_state("light.lamp", "on", {"brightness": 10})
    fake_ha.set_state("sensor.lamp_power", "4.5")
    fake_ha.set_state("person.x", "home", {"latitude": 52.1})
    fake_ha.set_state("device_tracker.phone", "home")
    fake_ha.set_state("sensor.backup_state", "idle")
    async with start_harness(tmp_path, broker, fake_ha) as h:
        snapshot = (await wait_for(lambda: h.cloud.records("structure"), what="snapshot"))[0]
        assert [e["entity_id"] for e in snapshot["entities"]] == [
            "light.lamp",
            "sensor.lamp_power",
        ]
        assert [d["id"] for d in snapshot["devices"]] == ["d-lamp"]
        assert [a["area_id"] for a in snapshot["areas"]] == ["kitchen"]
        await wait_for(lambda: h.cloud.records("low"), what="the lamp's power reading")
        high_seq = await h.bridge.store.last_seq(Lane.HIGH)
        low_seq = await h.bridge.store.last_seq(Lane.LOW)
        for i in range(50):
            fake_ha.set_state("person.x", "away", {"latitude": 40 + i})
            fake_ha.set_state("sensor.backup_state", f"step {i}")
        fake_ha.set_state("light.lamp", "off")
        await wait_for(
            lambda: any(r.get("state") == "off" for r in h.cloud.records("high")),
            what="the lamp's change",
        )
        # out-of-scope changes were never numbered, i.e. never written to the outbox
        assert await h.bridge.store.last_seq(Lane.HIGH) == high_seq + 1
        assert await h.bridge.store.last_seq(Lane.LOW) == low_seq
        assert h.bridge.scope_refreshes == 0  # known entities need no registry refresh
        sent = everything_sent(h)
        for private in ("person.x", "device_tracker.phone", "backup", "secret_room", "Anna"):
            assert private not in sent


async def test_new_inspextor_entity_appears_after_a_debounced_refresh(
    harness: BridgeHarness,
) -> None:
    await wait_for(lambda: harness.bridge.resyncs >= 1, what="initial resync")
    harness.ha.add_device("d-new", "New dimmer")
    for i in range(5):
        own_entities(harness.ha, f"light.new_{i}", device_id="d-new")
        harness.ha.set_state(f"light.new_{i}", "on", {"brightness": i})
    harness.ha.add_entity("switch.foreign_new", platform="tplink")
    harness.ha.set_state("switch.foreign_new", "on")
    high = await wait_for(
        lambda: (
            {r["entity_id"] for r in harness.cloud.records("high")}
            if len(harness.cloud.records("high")) >= 5
            else None
        ),
        what="the new lights",
    )
    assert high == {f"light.new_{i}" for i in range(5)}
    snapshot = await wait_for(
        lambda: [s for s in harness.cloud.records("structure") if s["devices"]], what="snapshot"
    )
    assert [d["id"] for d in snapshot[-1]["devices"]] == ["d-new"]
    assert harness.bridge.scope_refreshes == 1  # six unseen entities, one refresh
    # now known: a second change of the foreign switch causes no refresh
    harness.ha.set_state("switch.foreign_new", "off")
    harness.ha.set_state("light.new_0", "off")
    await wait_for(
        lambda: any(r["state"] == "off" for r in harness.cloud.records("high")),
        what="light.new_0 off",
    )
    assert harness.bridge.scope_refreshes == 1
    assert "switch.foreign_new" not in everything_sent(harness)


async def test_exposing_a_foreign_entity_brings_it_in_and_unexposing_removes_it(
    tmp_path, broker, fake_ha
) -> None:
    fake_ha.add_device("d-plug", "Plug")
    fake_ha.add_entity("switch.y", device_id="d-plug", platform="tplink")
    fake_ha.set_state("switch.y", "on")
    async with start_harness(tmp_path, broker, fake_ha) as h:
        await wait_for(lambda: h.cloud.records("structure"), what="first snapshot")
        fake_ha.set_state("switch.y", "off")
        url = h.api_url + "/api/exposure"
        async with h.session.put(url, json={"entities": ["switch.y"]}, headers=AUTH) as resp:
            assert resp.status == 200
        states = await wait_for(lambda: h.cloud.records("high"), what="switch.y state")
        assert [(r["entity_id"], r["state"]) for r in states] == [("switch.y", "off")]
        snapshot = await wait_for(
            lambda: [s for s in h.cloud.records("structure") if s["entities"]], what="snapshot"
        )
        assert [e["entity_id"] for e in snapshot[-1]["entities"]] == ["switch.y"]
        assert [d["id"] for d in snapshot[-1]["devices"]] == ["d-plug"]
        fake_ha.set_state("switch.y", "on")
        await wait_for(lambda: len(h.cloud.records("high")) >= 2, what="switch.y on")
        async with h.session.put(url, json={"entities": []}, headers=AUTH) as resp:
            assert resp.status == 200
        removed = await wait_for(
            lambda: [r for r in h.cloud.records("high") if r["state"] is None], what="removal"
        )
        assert removed[0]["entity_id"] == "switch.y"
        assert h.cloud.records("structure")[-1]["entities"] == []
        count = len(h.cloud.records("high"))
        fake_ha.set_state("switch.y", "off")
        fake_ha.set_state("light.marker", "on")  # unseen, not ours: refresh, nothing sent
        await wait_for(lambda: h.bridge.scope_refreshes >= 3, what="the refresh")
        await h.bridge.sync.flush()
        assert len(h.cloud.records("high")) == count


async def test_exposure_change_while_ha_is_away_applies_to_the_last_registry(
    tmp_path, broker, fake_ha
) -> None:
    fake_ha.add_entity("switch.y", platform="tplink")
    fake_ha.set_state("switch.y", "on")
    async with start_harness(tmp_path, broker, fake_ha) as h:
        await wait_for(lambda: h.cloud.records("structure"), what="first snapshot")
        await fake_ha.stop()
        await wait_for(lambda: not h.bridge.ha.connected, what="HA gone")
        assert await h.bridge.set_exposure(["switch.y"]) == ["switch.y"]
        snapshot = await wait_for(
            lambda: [s for s in h.cloud.records("structure") if s["entities"]], what="snapshot"
        )
        assert [e["entity_id"] for e in snapshot[-1]["entities"]] == ["switch.y"]
        await fake_ha.start()
        states = await wait_for(lambda: h.cloud.records("high"), timeout=10, what="state")
        assert [(r["entity_id"], r["state"]) for r in states] == [("switch.y", "on")]
