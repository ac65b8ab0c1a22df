"""The bridge against a real broker and the fake HA: activation, ping, sync lanes, resync."""

from __future__ import annotations

import asyncio
import os

import pytest

from cloud_bridge.protocol.packets import ActivationAction, activation_reply
from tests.bridge.bridge_fixtures import (
    CONTRACT,
    BridgeHarness,
    own_entities,
    success_reply,
)
from tests.helpers.polling import wait_for


async def test_receives_only_its_own_topics(harness: BridgeHarness) -> None:
    peer = harness.cloud.transport
    for topic in (
        "inx/activate",
        "inx/ping",
        f"inx/{CONTRACT}/send_sync_query_high",
        "inx/C-other/action",
        "inx/instance/return",
    ):
        await peer.publish(topic, b"{}")
    await peer.publish(f"inx/{CONTRACT}/ping", b"{}")
    await wait_for(lambda: harness.bridge.received, what="the ping reply")
    assert harness.bridge.received == {f"inx/{CONTRACT}/ping": 1}


async def test_activation_succeeds_and_keeps_subscription(harness: BridgeHarness) -> None:
    harness.cloud.activation_replies = [success_reply()]
    outcome = await harness.bridge.activate()
    assert outcome["success"] is True
    assert outcome["attempts"] == 1
    request = harness.cloud.on_topic("inx/activate")[0].json()
    assert request["a"] == "activate"
    assert request["contractID"] == CONTRACT
    status = await harness.bridge.status()
    assert status["activation"]["state"] == "activated"
    assert status["subscription"] == {"state": "active", "expires": "2027-01-01T00:00:00Z"}


async def test_activation_retries_then_succeeds_on_third(harness: BridgeHarness) -> None:
    harness.cloud.activation_replies = [None, None, success_reply()]
    outcome = await harness.bridge.activate()
    assert outcome["success"] is True
    assert outcome["attempts"] == 3
    attempts = [m.json() for m in harness.cloud.on_topic("inx/activate")]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert len({a["req"] for a in attempts}) == 1
    log = await harness.bridge.store.activation_log()
    assert [e["status"] for e in log] == ["sent", "timeout", "sent", "timeout", "sent", "success"]


async def test_activation_fails_after_third_attempt(harness: BridgeHarness) -> None:
    harness.cloud.activation_replies = [None, None, None, success_reply()]
    outcome = await harness.bridge.activate()
    assert outcome["success"] is False
    assert "gave up after 3 attempts" in outcome["reason"]
    assert len(harness.cloud.on_topic("inx/activate")) == 3
    log = await harness.bridge.store.activation_log()
    assert log[-1]["status"] == "gave_up"
    assert (await harness.bridge.status())["activation"]["state"] == "failed"


async def test_failed_reply_is_final_and_deregistration(harness: BridgeHarness) -> None:
    harness.cloud.activation_replies = [
        activation_reply(ActivationAction.ACTIVATE, "", success=False, reason="unknown contract")
    ]
    outcome = await harness.bridge.activate()
    assert (outcome["success"], outcome["attempts"]) == (False, 1)
    assert outcome["reason"] == "unknown contract"
    harness.cloud.activation_replies = [success_reply()]
    outcome = await harness.bridge.deregister()
    assert outcome["success"] is True
    last = harness.cloud.on_topic("inx/activate")[-1].json()
    assert (last["a"], last["ta"]) == ("deregisterInstanceAction", "activate")
    assert (await harness.bridge.status())["activation"]["state"] == "deregistered"


async def test_ping_round_trip(harness: BridgeHarness) -> None:
    result = await harness.bridge.ping_now()
    assert result["ok"] is True
    # measured, and within the ping's own deadline (how fast is a benchmark's question)
    assert 0 <= result["rtt_ms"] < harness.bridge.ping.timeout * 1000
    status = await harness.bridge.status()
    assert status["ping"]["last_rtt_ms"] == result["rtt_ms"]
    harness.cloud.answer_pings = False
    failed = await harness.bridge.ping_now()
    assert failed["ok"] is False
    assert "no reply" in failed["reason"]


async def test_connect_resyncs_structure_and_states(tmp_path, broker, fake_ha) -> None:
    from tests.bridge.bridge_fixtures import start_harness

    fake_ha.add_area("kitchen", "Kitchen")
    fake_ha.add_device("dev1", "Lamp", area_id="kitchen")
    fake_ha.add_entity("light.kitchen", device_id="dev1", platform="inspextor")
    own_entities(fake_ha, "sensor.temp")
    fake_ha.set_state("light.kitchen", "on", {"brightness": 200})
    fake_ha.set_state("sensor.temp", "21.5", {"unit_of_measurement": "°C"})
    fake_ha.set_state("sun.sun", "above_horizon")
    async with start_harness(tmp_path, broker, fake_ha) as h:
        structure = await wait_for(lambda: h.cloud.records("structure"), what="snapshot")
        assert structure[0]["areas"][0]["area_id"] == "kitchen"
        assert structure[0]["entities"][0]["entity_id"] == "light.kitchen"
        high = await wait_for(lambda: h.cloud.records("high"), what="high")
        assert [(r["entity_id"], r["state"]) for r in high] == [("light.kitchen", "on")]
        low = await wait_for(lambda: h.cloud.records("low"), what="low")
        assert [(r["entity_id"], r["state"]) for r in low] == [("sensor.temp", "21.5")]
        # HA restarts: the bridge resyncs everything unconditionally
        before = h.bridge.resyncs
        await fake_ha.drop_connections()
        await wait_for(lambda: h.bridge.resyncs > before, what="resync after HA reconnect")
        await wait_for(lambda: len(h.cloud.records("structure")) >= 2, what="second snapshot")
        await wait_for(lambda: len(h.cloud.records("high")) >= 2, what="states again")


async def test_high_lane_coalesces_and_numbers(harness: BridgeHarness) -> None:
    await wait_for(lambda: harness.bridge.resyncs >= 1, what="initial resync")
    await wait_for(lambda: harness.cloud.records("structure"), what="snapshot")
    own_entities(harness.ha, "light.a", "switch.b")
    await harness.bridge.refresh_scope()
    for level in range(1, 21):
        harness.ha.set_state("light.a", "on", {"brightness": level})
    harness.ha.set_state("switch.b", "off")
    records = await wait_for(
        lambda: [r for r in harness.cloud.records("high") if r["entity_id"] == "light.a"],
        what="light.a",
    )
    await wait_for(
        lambda: any(r["entity_id"] == "switch.b" for r in harness.cloud.records("high")),
        what="switch.b",
    )
    # 20 changes within one window: the cloud got only the newest
    assert len(records) == 1
    assert records[0]["attributes"]["brightness"] == 20
    seqs = [r["seq"] for r in harness.cloud.records("high")]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    packets = [m.json() for m in harness.cloud.messages if "send_sync_query_high" in m.topic]
    assert all(p["ta"] == "send_sync_query_high" for p in packets)
    assert "_D_H_" in packets[-1]["fn"]


async def test_low_lane_batches_in_its_window_in_order(harness: BridgeHarness) -> None:
    await wait_for(lambda: harness.bridge.resyncs >= 1, what="initial resync")
    own_entities(harness.ha, "sensor.power")
    await harness.bridge.refresh_scope()
    for value in range(30):
        harness.ha.set_state("sensor.power", str(value))
    records = await wait_for(
        lambda: (
            [r for r in harness.cloud.records("low") if r["entity_id"] == "sensor.power"]
            if len(harness.cloud.records("low")) >= 30
            else None
        ),
        what="30 readings",
    )
    assert [r["state"] for r in records] == [str(v) for v in range(30)]
    low_packets = [m for m in harness.cloud.messages if m.topic.endswith("_low")]
    assert len(low_packets) == 1  # one batch for the whole window
    header = low_packets[0].json()
    assert (header["seq_first"], header["seq_last"]) == (records[0]["seq"], records[-1]["seq"])
    assert "_D_L_" in header["fn"]


@pytest.mark.parametrize("count", [400])
async def test_every_publish_fits_128_kb(harness: BridgeHarness, count: int) -> None:
    await wait_for(lambda: harness.bridge.resyncs >= 1, what="initial resync")
    own_entities(harness.ha, *(f"sensor.s{i}" for i in range(count)))
    await harness.bridge.refresh_scope()
    for i in range(count):
        harness.ha.set_state(f"sensor.s{i}", "1", {"blob": os.urandom(600).hex()})
    await wait_for(
        lambda: len(harness.cloud.records("low")) >= count, timeout=10, what="all readings"
    )
    sizes = [len(m.payload) for m in harness.cloud.messages]
    assert max(sizes) <= 131_072
    assert len([m for m in harness.cloud.messages if m.topic.endswith("_low")]) > 1


async def test_removed_entity_is_synced_as_null_state(harness: BridgeHarness) -> None:
    await wait_for(lambda: harness.bridge.resyncs >= 1, what="initial resync")
    own_entities(harness.ha, "light.gone")
    harness.ha.set_state("light.gone", "on")
    await wait_for(
        lambda: any(r["entity_id"] == "light.gone" for r in harness.cloud.records("high")),
        what="light.gone on",
    )
    harness.ha.remove_state("light.gone")
    removed = await wait_for(
        lambda: [
            r
            for r in harness.cloud.records("high")
            if r["entity_id"] == "light.gone" and r["state"] is None
        ],
        what="light.gone removed",
    )
    assert removed[0]["attributes"] == {}


async def test_steady_flood_still_leaves_in_one_batch_per_window(harness: BridgeHarness) -> None:
    """Readings that keep coming during a drain wait for the next window (low window 1 s)."""
    await wait_for(lambda: harness.bridge.resyncs >= 1, what="initial resync")
    own_entities(harness.ha, "sensor.flood")
    await harness.bridge.refresh_scope()
    loop = asyncio.get_running_loop()
    started = loop.time()
    value = 0
    while loop.time() - started < 3.5:
        harness.ha.set_state("sensor.flood", str(value))
        value += 1
        await asyncio.sleep(0.005)
    await wait_for(
        lambda: (
            sum(r["entity_id"] == "sensor.flood" for r in harness.cloud.records("low")) >= value
        ),
        what=f"all {value} readings",
    )
    low_packets = [m for m in harness.cloud.messages if m.topic.endswith("_low")]
    # 3.5 s of flood and a 1 s window: about one batch a second, not one per few readings
    assert len(low_packets) <= 6, f"{len(low_packets)} publishes for {value} readings"
