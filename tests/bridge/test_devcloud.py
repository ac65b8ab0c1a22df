"""The dev cloud: rules, activation, ping, sync ingest and command tracking on real MQTT."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
import secrets
import sqlite3

import pytest

from cloud_bridge.protocol.action_packets import CommandStatus, parse_command
from cloud_bridge.protocol.packets import ActivationAction, encode
from cloud_bridge.protocol.records import Lane
from devkit.devcloud import ContractSpec, DevCloud
from devkit.devcloud.store import Store
from tests.helpers.devcloud_fixtures import cloud, home
from tests.helpers.devcloud_home import KITCHEN_STRUCTURE, PASSWORD, Home
from tests.helpers.polling import wait_for
from tests.helpers.sim_fixtures import broker, observer
from tests.helpers.sim_observer import Observer

__all__ = ["broker", "cloud", "home", "observer"]


async def test_rules_republish_unchanged(home: Home, observer: Observer) -> None:
    home.activate()
    home.ping(1)
    activate = await observer.wait_topic("inx/activate/cloud")
    ping = await observer.wait_topic("inx/ping/cloud")
    assert activate.payload == observer.on("inx/activate")[0].payload
    assert ping.payload == observer.on("inx/ping")[0].payload


async def test_activation_succeeds(cloud: DevCloud, home: Home, observer: Observer) -> None:
    req = home.activate()
    reply = (await observer.wait_topic("inx/C1/activate", req=req)).json
    assert reply == {
        "a": "activate",
        "req": req,
        "status": "success",
        "reason": None,
        "subscription": {"state": "active", "expires": "2027-01-01T00:00:00Z"},
    }
    homes = {c.contract_id: c.as_json() for c in await cloud.contracts()}
    assert homes["C1"]["activated"] is True
    log = await cloud.store.run(Store.activation_log, "C1")
    assert [(e["action"], e["status"], e["req"]) for e in log] == [("activate", "success", req)]


async def test_expired_contract_refused(observer: Observer, cloud: DevCloud) -> None:
    home = Home(observer, "C2", "I2", "pw2")
    req = home.activate()
    reply = (await observer.wait_topic("inx/C2/activate", req=req)).json
    assert reply["status"] == "failed"
    assert reply["reason"] == "subscription is expired"
    assert reply["subscription"] == {"state": "expired", "expires": "2024-06-30T00:00:00Z"}


async def test_wrong_password_and_unknown_contract_refused(
    observer: Observer, cloud: DevCloud
) -> None:
    req = Home(observer, "C1", "I1", "wrong").activate()
    reply = (await observer.wait_topic("inx/C1/activate", req=req)).json
    assert reply["status"] == "failed"
    assert "password" in reply["reason"]
    # A refused home learns nothing about the contract.
    assert reply["subscription"] == {"state": "none", "expires": None}
    assert not (await cloud.store.run(Store.contract, "C1")).activated  # type: ignore[union-attr]

    req = Home(observer, "C9", "I9", "x").activate()
    reply = (await observer.wait_topic("inx/C9/activate", req=req)).json
    assert (reply["status"], reply["reason"]) == ("failed", "unknown contract")

    observer.publish("inx/activate", "not json")
    observer.publish("inx/activate", {"c": "Sync", "a": "bogus", "ta": "activate"})
    await wait_for(lambda: cloud.rejected_packets == 2)


async def test_deregistration(cloud: DevCloud, home: Home, observer: Observer) -> None:
    req = home.activate()
    await observer.wait_topic("inx/C1/activate", req=req)
    req = home.activate(ActivationAction.DEREGISTER)
    reply = (await observer.wait_topic("inx/C1/activate", req=req)).json
    assert reply["a"] == "deregisterInstanceAction"
    assert reply["status"] == "success"
    homes = {c.contract_id: c.as_json() for c in await cloud.contracts()}
    assert homes["C1"]["activated"] is False


async def test_ping_reply(cloud: DevCloud, home: Home, observer: Observer) -> None:
    home.ping(17)
    reply = (await observer.wait_topic("inx/C1/ping")).json
    request = observer.on("inx/ping")[0].json
    assert reply["contract_id"] == "C1"
    assert reply["time"] == request["time"]
    assert reply["seq"] == 17
    assert reply["status"] == "ok"
    assert reply["server_time"].endswith("Z")
    assert (await cloud.store.run(Store.contract, "C1")).last_ping is not None  # type: ignore[union-attr]

    observer.publish("inx/ping", {"contract_id": "C9", "time": "x", "seq": 1})
    observer.publish("inx/ping", {"time": "no contract"})
    await wait_for(lambda: cloud.rejected_packets == 1)
    await asyncio.sleep(0.1)
    assert not observer.on("inx/C9/ping")


async def test_sync_ingest_is_idempotent_and_ordered(
    cloud: DevCloud, home: Home, observer: Observer
) -> None:
    events = cloud.listen()
    home.send(
        Lane.STRUCTURE,
        [
            home.structure(
                areas=KITCHEN_STRUCTURE["areas"],
                devices=KITCHEN_STRUCTURE["devices"],
                entities=KITCHEN_STRUCTURE["entities"],
            )
        ],
    )
    packets = home.send(
        Lane.HIGH,
        [
            home.state(Lane.HIGH, "light.kitchen", "on", seq=5, brightness=128),
            home.state(Lane.HIGH, "cover.living_shade", "open", seq=6, current_position=100),
        ],
    )
    # QoS 1 may deliver twice: the same packet again changes nothing.
    for packet in packets:
        observer.publish(home.topics.sync_high, packet)
    # An older record arriving late is recorded as applied but never overwrites.
    home.send(Lane.HIGH, [home.state(Lane.HIGH, "light.kitchen", "off", seq=3)])
    low = [
        home.state(Lane.LOW, "sensor.hall_temperature", f"{20 + i}", seq=i + 1) for i in range(3)
    ]
    home.send(Lane.LOW, low)
    home.send(Lane.LOW, low[:1])
    await wait_for(lambda: events.qsize() >= 7)
    await asyncio.sleep(0.2)
    assert events.qsize() == 7  # 1 structure + 3 high + 3 low; duplicates not applied

    entities = {e["entity_id"]: e for e in (await cloud.entities("C1"))["entities"]}
    assert entities["light.kitchen"]["state"] == "on"
    assert entities["light.kitchen"]["attributes"] == {"brightness": 128}
    assert entities["light.kitchen"]["area"] == "Kitchen"
    assert entities["cover.living_shade"]["area"] == "Living room"  # through its device
    assert entities["cover.living_shade"]["name"] == "Living shade"
    assert entities["sensor.hall_temperature"]["state"] == "22"
    history = await cloud.store.run(Store.history, "C1", "sensor.hall_temperature")
    assert [h["state"] for h in history] == ["22", "21", "20"]

    # A removed entity (state null) disappears from the cloud's latest state.
    home.send(Lane.HIGH, [home.state(Lane.HIGH, "cover.living_shade", None, seq=7)])
    await wait_for(lambda: events.qsize() >= 8)
    entities = {e["entity_id"]: e for e in (await cloud.entities("C1"))["entities"]}
    assert entities["cover.living_shade"]["state"] is None


async def test_structure_snapshot_in_chunks_is_merged(
    cloud: DevCloud, home: Home, observer: Observer
) -> None:
    events = cloud.listen()
    entities = [{"entity_id": f"light.l{i}", "name": secrets.token_hex(200)} for i in range(60)]
    snapshot = home.structure(areas=[], devices=[], entities=entities)
    packets = home.send(Lane.STRUCTURE, [snapshot], max_bytes=4000)
    assert len(packets) > 1
    await wait_for(lambda: events.qsize() == 1)
    home_entities = (await cloud.entities("C1"))["entities"]
    assert {e["entity_id"] for e in home_entities} == {f"light.l{i}" for i in range(60)}
    # A newer snapshot replaces the copy.
    home.send(Lane.STRUCTURE, [home.structure(entities=entities[:2])])
    await wait_for(lambda: events.qsize() == 2)
    assert len((await cloud.entities("C1"))["entities"]) == 2


async def test_sync_refused_without_the_right_password(
    cloud: DevCloud, home: Home, observer: Observer
) -> None:
    intruder = Home(observer, "C1", "I1", "guess")
    intruder.send(Lane.HIGH, [intruder.state(Lane.HIGH, "light.kitchen", "on")])
    wrong_topic = home.packets(Lane.HIGH, [home.state(Lane.HIGH, "light.kitchen", "on")])[0]
    observer.publish("inx/C3/send_sync_query_high", wrong_topic)
    observer.publish(home.topics.sync_low, b"{")
    await wait_for(lambda: cloud.rejected_packets == 3)
    assert (await cloud.entities("C1"))["entities"] == []


async def test_command_results_are_tracked(cloud: DevCloud, home: Home, observer: Observer) -> None:
    command_id = await cloud.send_command(
        "C1", "cover.set_cover_position", "cover.living_shade", {"position": 40}, origin="mobile"
    )
    sent = await observer.wait_topic("inx/C1/action", id=command_id)
    command = parse_command(sent.payload)
    assert (command.service, command.entity_id, command.data) == (
        "cover.set_cover_position",
        "cover.living_shade",
        {"position": 40},
    )
    assert command.origin == "mobile"
    assert command.ttl == 30

    home.result(command_id, CommandStatus.ACCEPTED)
    home.result(command_id, CommandStatus.IN_PROGRESS)
    state = {
        "entity_id": "cover.living_shade",
        "state": "open",
        "attributes": {"current_position": 40},
    }
    home.result(command_id, CommandStatus.SUCCEEDED, state=state)
    home.result("cmd-unknown", CommandStatus.SUCCEEDED)
    observer.publish(
        "inx/instance/return", {"c": "Command", "a": "result", "id": command_id, "status": "great"}
    )

    async def done() -> bool:
        tracked = await cloud.command(command_id)
        return tracked is not None and len(tracked["results"]) == 3

    await wait_for(done)
    tracked = await cloud.command(command_id)
    assert tracked is not None
    assert [r["status"] for r in tracked["results"]] == ["accepted", "in_progress", "succeeded"]
    assert tracked["results"][-1]["state"]["attributes"] == {"current_position": 40}
    assert tracked["final"] is True
    await wait_for(lambda: cloud.rejected_packets == 1)
    assert await cloud.command("cmd-unknown") is None

    with pytest.raises(KeyError):
        await cloud.send_command("C9", "light.turn_on", "light.x")
    with pytest.raises(ValueError, match="origin"):
        await cloud.send_command("C1", "light.turn_on", "light.x", origin="martians")


async def test_password_is_stored_hashed(cloud: DevCloud, tmp_path: Path) -> None:
    def dump() -> str:
        with sqlite3.connect(tmp_path / "devcloud.sqlite3") as db:
            return json.dumps([list(map(str, r)) for r in db.execute("SELECT * FROM contracts")])

    text = await asyncio.to_thread(dump)
    assert "C1" in text
    assert PASSWORD not in text


def test_contract_spec_parsing() -> None:
    spec = ContractSpec.parse("C:I:P:expired:2025-02-03")
    assert (spec.state, spec.expires) == ("expired", "2025-02-03T00:00:00Z")
    assert ContractSpec.parse("C:I:P").state == "active"
    with pytest.raises(ValueError, match="C:INSTANCE:PASSWORD"):
        ContractSpec.parse("C:I")
    with pytest.raises(ValueError, match="active, expired or none"):
        ContractSpec.parse("C:I:P:paused")


async def test_ignores_foreign_packets(cloud: DevCloud, observer: Observer) -> None:
    observer.publish("inx/C1/send_sync_query_high", encode({"c": "Sync", "a": "setQueryFile"}))
    await wait_for(lambda: cloud.rejected_packets == 1)
