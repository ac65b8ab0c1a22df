"""A certificate rotation in the middle of a sync flood and a command stream.

The bridge runs as a process on the dev cloud's mutual-TLS Mosquitto, provisions itself by
claim, and is told to rotate while HA floods it with changes and the cloud sends commands.
Counted: records lost, commands run twice, commands unanswered, and the time the home
had no cloud connection during the switch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers.fake_ha import FakeHA
from tests.helpers.fleet_cloud import TEMPLATE, FleetCloud, running_fleet_cloud
from tests.helpers.mosquitto import mosquitto_path
from tests.helpers.polling import wait_for
from tests.helpers.transport_recorder import listen_to_cloud
from tests.reliability import table
from tests.reliability.harness import (
    CONTRACT,
    BridgeProcess,
    Ledger,
    action,
    bridge_options as plain_options,
    own,
)

pytestmark = pytest.mark.skipif(mosquitto_path() is None, reason="needs mosquitto")
SENSORS = [f"sensor.meter_{i}" for i in range(10)]
LIGHTS = [f"light.room_{i}" for i in range(5)]
AFTER = 20  # commands sent after the rotation has finished
FINAL = {"succeeded", "failed", "rejected", "expired", "duplicate"}


def zero_touch_options(tmp_path: Path, cloud: FleetCloud, fake_ha: FakeHA) -> dict[str, Any]:
    options = plain_options(tmp_path, cloud.broker, fake_ha.url, fake_ha.token)  # type: ignore[arg-type]
    options.update(
        transport="aws_iot",
        endpoint="localhost",
        ca_file=str(cloud.ca_file),
        cert_file=str(tmp_path / "none.pem.crt"),
        key_file=str(tmp_path / "none.pem.key"),
        claim_cert_file=str(cloud.claim_cert),
        claim_key_file=str(cloud.claim_key),
        provisioning_template=TEMPLATE,
        log_level="info",
    )
    return options


async def test_rotation_during_a_sync_flood_and_a_command_stream(
    tmp_path: Path, fake_ha: FakeHA
) -> None:
    own(fake_ha, *SENSORS, *LIGHTS)
    for light in LIGHTS:
        fake_ha.set_state(light, "off", {"brightness": None})
    async with running_fleet_cloud() as cloud:
        ledger = Ledger(cloud.observer("ledger"))
        await listen_to_cloud(ledger.transport, ledger.on_message)
        bridge = BridgeProcess(tmp_path, zero_touch_options(tmp_path, cloud, fake_ha))
        sent: list[tuple[str, str]] = []
        flooding = True
        rotated = asyncio.Event()

        async def flood() -> None:
            k = 0
            while flooding:
                entity = SENSORS[k % len(SENSORS)]
                fake_ha.set_state(entity, str(k))
                sent.append((entity, str(k)))
                k += 1
                await asyncio.sleep(0.01)

        async def commands() -> list[str]:
            """A command every 50 ms from before the rotation until well after it."""
            ids: list[str] = []
            after = 0
            while after < AFTER:
                i = len(ids)
                after += rotated.is_set()
                command_id = f"cmd-rot-{i}"
                ids.append(command_id)
                packet = action(command_id, LIGHTS[i % len(LIGHTS)], "light.toggle")
                await ledger.send(f"inx/{CONTRACT}/action", json.dumps(packet).encode())
                await asyncio.sleep(0.05)
            return ids

        async with aiohttp.ClientSession() as session:
            bridge.start()
            flooder: asyncio.Task[None] | None = None
            try:
                await bridge.ready(session, timeout=60)
                before = await bridge.status(session)
                assert before is not None
                await bridge.api(session, "PUT", "/api/exposure", {"entities": LIGHTS})
                flooder = asyncio.create_task(flood())
                commander = asyncio.create_task(commands())
                await wait_for(lambda: len(ledger.lane("low")) > 50, 30, "the flood flowing")
                code, outcome = await bridge.api(session, "POST", "/api/certificate/rotate")
                rotated.set()
                assert not commander.done()  # the switch happened inside the stream
                ids = await commander
                await asyncio.sleep(1.0)
                flooding = False
                await flooder
                await bridge.drained(session)
                await wait_for(
                    lambda: all(
                        any(r["status"] in FINAL for r in ledger.results_for(c)) for c in ids
                    ),
                    30,
                    "a final result for every command",
                )
                after = await bridge.status(session)
            finally:
                flooding = False
                if flooder is not None:
                    with contextlib.suppress(Exception):
                        await flooder
                bridge.stop()
        await ledger.close()
        retired = list(cloud.fleet.retired)

    assert after is not None
    delivered = {(r["entity_id"], r["state"]) for r in ledger.lane("low")}
    lost = [pair for pair in sent if pair not in delivered]
    unanswered = [c for c in ids if not ledger.results_for(c)]
    finals = {c: {r["status"] for r in ledger.results_for(c)} for c in ids}
    calls = len(fake_ha.calls("light", "toggle"))
    succeeded = sum("succeeded" in statuses for statuses in finals.values())
    offline_ms = after["identity"]["last_switch_offline_ms"]
    print(
        f"\nrotation under load: {len(sent)} records, {len(ids)} commands, "
        f"offline during the switch {offline_ms} ms"
    )
    table.record(
        "certificate rotation during a sync flood and a command stream",
        len(sent) + len(ids),
        len(lost) + len(unanswered),
        max(0, calls - succeeded),
        bridge.crashes,
        f"offline {offline_ms} ms during the switch; {succeeded} commands succeeded",
    )
    assert (code, outcome["ok"]) == (200, True), outcome
    assert after["identity"]["certificate_id"] != before["identity"]["certificate_id"]
    assert retired == [before["identity"]["certificate_id"]]
    assert lost == []
    assert unanswered == []
    assert calls == succeeded == len(ids)  # each ran exactly once
    assert offline_ms is not None
    assert bridge.crashes == 0
