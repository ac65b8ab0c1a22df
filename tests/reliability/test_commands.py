"""Commands under faults: 1,000 redeliveries, replays across a restart, HA down or restarting."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from tests.helpers.fake_ha import FakeHA
from tests.helpers.mosquitto import Broker
from tests.helpers.polling import wait_for
from tests.reliability import table
from tests.reliability.harness import (
    CONTRACT,
    BridgeProcess,
    action,
    bridge_options,
    own,
    start_ledger,
)

ACTION_TOPIC = f"inx/{CONTRACT}/action"
FINAL = {"succeeded", "failed", "rejected", "expired", "duplicate"}
COPIES = 1000


async def test_one_command_delivered_1000_times_runs_once(
    tmp_path: Path, broker: Broker, fake_ha: FakeHA
) -> None:
    own(fake_ha, "light.desk")
    fake_ha.set_state("light.desk", "off", {"brightness": None})
    ledger = await start_ledger(broker)
    bridge = BridgeProcess(tmp_path, bridge_options(tmp_path, broker, fake_ha.url, fake_ha.token))
    # The longest TTL allowed: the replays come after 1,000 copies and a restart, which on a
    # loaded CI can take longer than the usual 30 s, and must still be answered duplicate.
    packet = json.dumps(action("cmd-dup-1", "light.desk", "light.turn_on", ttl=300)).encode()
    async with aiohttp.ClientSession() as session:
        bridge.start()
        try:
            await bridge.ready(session)
            assert (
                await bridge.api(session, "PUT", "/api/exposure", {"entities": ["light.desk"]})
            )[0] == 200
            for _ in range(COPIES):  # QoS 1 redelivery as the cloud broker would do it
                await ledger.send(ACTION_TOPIC, packet)
            await wait_for(
                lambda: len(ledger.results_for("cmd-dup-1")) >= COPIES + 1,
                timeout=180,
                what="a result for every copy",
            )
            bridge.kill()  # replay across a restart, after an unclean stop
            bridge.start()
            await bridge.ready(session)
            for _ in range(10):
                await ledger.send(ACTION_TOPIC, packet)
            await wait_for(
                lambda: len(ledger.results_for("cmd-dup-1")) >= COPIES + 11,
                timeout=60,
                what="the replays' results",
            )
        finally:
            bridge.stop()
    await ledger.close()
    statuses = [r["status"] for r in ledger.results_for("cmd-dup-1")]
    calls = len(fake_ha.calls("light", "turn_on"))
    table.record(
        "same command delivered 1,010 times (QoS 1, replay after SIGKILL)",
        COPIES + 10,
        int(statuses.count("succeeded") == 0),
        max(0, calls - 1),
        bridge.crashes,
        f"{statuses.count('duplicate')} answered duplicate, {calls} HA service call(s)",
    )
    assert calls == 1
    assert statuses.count("accepted") == 1
    assert statuses.count("succeeded") == 1
    assert statuses.count("duplicate") == COPIES + 9
    assert bridge.crashes == 0


async def test_commands_while_ha_is_down_are_answered_never_run_late(
    tmp_path: Path, broker: Broker, fake_ha: FakeHA
) -> None:
    own(fake_ha, "light.desk", "sensor.temp")
    fake_ha.add_area("study", "Study")
    fake_ha.set_state("light.desk", "off", {"brightness": None})
    ledger = await start_ledger(broker)
    bridge = BridgeProcess(tmp_path, bridge_options(tmp_path, broker, fake_ha.url, fake_ha.token))
    ids = [f"cmd-down-{i}" for i in range(10)]
    async with aiohttp.ClientSession() as session:
        bridge.start()
        try:
            await bridge.ready(session)
            await bridge.api(session, "PUT", "/api/exposure", {"entities": ["light.desk"]})
            await wait_for(lambda: ledger.lane("structure"), what="the first snapshot")
            snapshots = len(ledger.lane("structure"))
            await fake_ha.stop()  # HA restarts
            await bridge.wait_status(session, lambda s: not s["ha_connected"], what="HA down")
            for i, command_id in enumerate(ids):
                ttl = 2 if i % 2 else 30
                packet = action(command_id, "light.desk", "light.turn_on", ttl=ttl)
                await ledger.send(ACTION_TOPIC, json.dumps(packet).encode())
            await wait_for(
                lambda: all(any(r["status"] in FINAL for r in ledger.results_for(c)) for c in ids),
                what="a final result for every command sent while HA is down",
            )
            await asyncio.sleep(2.5)  # the short TTLs run out while HA is still away
            await fake_ha.start()
            await bridge.ready(session)
            # resubscribed and resynced: a new snapshot, and live changes flow again
            await wait_for(lambda: len(ledger.lane("structure")) > snapshots, what="a new snapshot")
            fake_ha.set_state("sensor.temp", "22.5")
            await wait_for(
                lambda: any(r["state"] == "22.5" for r in ledger.lane("low")),
                what="a change after the restart",
            )
            await asyncio.sleep(1.0)  # would any of them run late?
        finally:
            bridge.stop()
    await ledger.close()
    finals = {c: [r for r in ledger.results_for(c) if r["status"] in FINAL] for c in ids}
    unanswered = [c for c, results in finals.items() if not results]
    calls = fake_ha.calls("light", "turn_on")
    table.record(
        "HA restart with 10 commands in flight (5 with TTL 2 s)",
        len(ids),
        len(unanswered),
        0,
        bridge.crashes,
        f"answered: {sorted({r[0]['status'] for r in finals.values() if r})}, "
        f"{len(calls)} executed after HA came back",
    )
    assert not unanswered
    for results in finals.values():
        assert results[0]["status"] == "failed", results
        assert isinstance(results[0]["reason"], str), results
        assert results[0]["reason"], results
    assert calls == []  # nothing ran after HA came back, least of all past its TTL
