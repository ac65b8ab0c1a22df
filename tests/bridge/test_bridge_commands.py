"""Commands from the cloud through a running bridge to the fake HA and back."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from cloud_bridge.protocol.action_packets import action_packet
from tests.bridge.bridge_fixtures import (
    CONTRACT,
    PASSWORD,
    BridgeHarness,
    RateCounter,
)
from tests.helpers.polling import wait_for


def action(command_id: str, **overrides: Any) -> dict[str, Any]:
    packet = action_packet(
        command_id=command_id,
        contract_id=CONTRACT,
        service="light.turn_on",
        entity_id="light.kitchen",
        data={"brightness": 128},
        iat=time.time(),
        ttl=30,
        origin="mobile",
    )
    return {**packet, **overrides}


async def final(h: BridgeHarness, command_id: str, count: int = 1) -> list[dict[str, Any]]:
    terminal = {"succeeded", "failed", "rejected", "expired", "duplicate"}
    return await wait_for(
        lambda: (
            h.cloud.results(command_id)
            if sum(r["status"] in terminal for r in h.cloud.results(command_id)) >= count
            else None
        ),
        what=f"result of {command_id}",
    )


async def test_allowed_command_runs_and_reports_state(harness: BridgeHarness) -> None:
    harness.ha.set_state("light.kitchen", "off", {"brightness": None})
    await harness.bridge.set_exposure(["light.kitchen"])
    await harness.cloud.send_action(action("c1"))
    results = await final(harness, "c1")
    assert [r["status"] for r in results] == ["accepted", "succeeded"]
    assert results[-1]["state"]["state"] == "on"
    assert results[-1]["state"]["attributes"]["brightness"] == 128
    assert results[-1]["iid"] == "home-1"
    call = harness.ha.calls("light", "turn_on")[0]
    assert call.target == {"entity_id": "light.kitchen"}
    raw = harness.cloud.on_topic("inx/instance/return")
    assert all(PASSWORD.encode() not in m.payload for m in raw)


async def test_command_for_unavailable_or_missing_entity_fails_without_a_call(
    harness: BridgeHarness,
) -> None:
    """HA silently skips unavailable entities: the cloud must hear failed, not succeeded."""
    harness.ha.set_state("light.kitchen", "unavailable")
    await harness.bridge.set_exposure(["light.kitchen", "light.gone"])
    await harness.cloud.send_action(action("u1"))
    results = await final(harness, "u1")
    assert [r["status"] for r in results] == ["accepted", "failed"]
    assert "unavailable" in results[-1]["reason"]
    await harness.cloud.send_action(action("u2", target={"entity_id": "light.gone"}))
    results = await final(harness, "u2")
    assert [r["status"] for r in results] == ["accepted", "failed"]
    assert "does not exist" in results[-1]["reason"]
    assert harness.ha.service_calls == []


async def test_not_exposed_command_is_rejected_and_not_run(harness: BridgeHarness) -> None:
    harness.ha.set_state("lock.front", "locked")
    await harness.bridge.set_exposure(["light.kitchen"])
    await harness.cloud.send_action(
        action("c2", service="lock.unlock", target={"entity_id": "lock.front"}, data={})
    )
    results = await final(harness, "c2")
    assert [r["status"] for r in results] == ["rejected"]
    assert "not exposed" in results[0]["reason"]
    await harness.cloud.send_action(
        action("c3", service="homeassistant.restart", target={"entity_id": "light.kitchen"})
    )
    results = await final(harness, "c3")
    assert results[0]["status"] == "rejected"
    assert harness.ha.service_calls == []


async def test_expired_command_is_never_executed(harness: BridgeHarness) -> None:
    await harness.bridge.set_exposure(["light.kitchen"])
    await harness.cloud.send_action(action("c4", iat=time.time() - 120, ttl=30))
    results = await final(harness, "c4")
    assert [r["status"] for r in results] == ["expired"]
    assert "expired" in results[0]["reason"]
    assert harness.ha.service_calls == []


async def test_small_clock_skew_is_tolerated(harness: BridgeHarness) -> None:
    harness.ha.set_state("light.kitchen", "off")
    await harness.bridge.set_exposure(["light.kitchen"])
    await harness.cloud.send_action(action("c4b", iat=time.time() - 32, ttl=30))
    results = await final(harness, "c4b")
    assert results[-1]["status"] == "succeeded"


async def test_duplicate_is_recognised(harness: BridgeHarness) -> None:
    harness.ha.set_state("light.kitchen", "off")
    await harness.bridge.set_exposure(["light.kitchen"])
    packet = action("c5")
    await harness.cloud.send_action(packet)
    await final(harness, "c5")
    await harness.cloud.send_action(packet)
    results = await final(harness, "c5", count=2)
    assert [r["status"] for r in results] == ["accepted", "succeeded", "duplicate"]
    assert len(harness.ha.calls("light", "turn_on")) == 1


async def test_malformed_and_other_contract(harness: BridgeHarness) -> None:
    await harness.bridge.set_exposure(["light.kitchen"])
    await harness.cloud.send_action(action("c6", ttl="soon"))
    results = await final(harness, "c6")
    assert results[0]["status"] == "rejected"
    assert "ttl must be a number" in results[0]["reason"]
    await harness.cloud.send_action(b"not json at all")
    await harness.cloud.send_action(action("c7", cid="C-other"))
    await harness.cloud.send_action(json.dumps({"c": "Command", "cid": CONTRACT}).encode())
    await wait_for(
        lambda: (
            harness.bridge.commands.handled.get("other_contract")
            and harness.bridge.commands.handled.get("dropped") == 2
        ),
        what="ignored commands",
    )
    assert harness.cloud.results("c7") == []
    assert harness.ha.service_calls == []


async def test_failing_service_reports_ha_message(harness: BridgeHarness) -> None:
    harness.ha.set_state("light.kitchen", "off")
    harness.ha.fail_service("light", "turn_on", "Light is unreachable")
    await harness.bridge.set_exposure(["light.kitchen"])
    await harness.cloud.send_action(action("c8"))
    results = await final(harness, "c8")
    assert [r["status"] for r in results] == ["accepted", "failed"]
    assert "Light is unreachable" in results[-1]["reason"]
    assert results[-1]["state"]["state"] == "off"


async def test_cover_reports_progress_then_final_position(harness: BridgeHarness) -> None:
    harness.ha.set_state("cover.shade", "closed", {"current_position": 0})
    await harness.bridge.set_exposure(["cover.shade"])
    await harness.cloud.send_action(
        action(
            "c9",
            service="cover.set_cover_position",
            target={"entity_id": "cover.shade"},
            data={"position": 60},
        )
    )
    results = await final(harness, "c9")
    assert [r["status"] for r in results] == ["accepted", "in_progress", "succeeded"]
    assert results[-1]["state"]["attributes"]["current_position"] == 60
    assert results[-1]["state"]["state"] not in ("opening", "closing")


async def test_command_flood_stays_under_100_publishes_per_second(
    harness: BridgeHarness, broker
) -> None:
    harness.ha.set_state("light.kitchen", "off")
    await harness.bridge.set_exposure(["light.kitchen"])
    counter = RateCounter(broker, "inx/instance/return")
    try:
        await counter.ready()
        count = 120
        await asyncio.gather(*(harness.cloud.send_action(action(f"f{i}")) for i in range(count)))
        await counter.collect(2 * count)  # accepted + succeeded for each
        assert counter.busiest_second() <= 100
        assert len(harness.ha.calls("light", "turn_on")) == count
    finally:
        counter.close()


async def test_a_rule_command_without_the_rule_handler_fails_with_the_reason(
    harness: BridgeHarness,
) -> None:
    """A bridge built without HA's automation API (`automations=None`) says so."""
    from cloud_bridge.protocol.rule_packets import rule_packet

    await harness.bridge.set_exposure(["light.kitchen"])
    await harness.cloud.send_action(
        rule_packet(command_id="r1", contract_id=CONTRACT, op="list", iat=time.time())
    )
    results = await final(harness, "r1")
    assert [(r["status"], r["reason"]) for r in results] == [
        ("accepted", None),
        ("failed", "rules are not available here"),
    ]
