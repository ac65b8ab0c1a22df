"""The whole system as real processes: the site broker goes away, then hass restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import json
from pathlib import Path
import time

import paho.mqtt.publish as mqtt_publish
import pytest

from devkit.devcloud.broker import start_local_broker
from devkit.devstack.stack import Stack, StackConfig
from tests.e2e.conftest import cloud_entity, command_until_final, devcloud, wait_for_entities
from tests.helpers.mosquitto import mosquitto_path
from tests.helpers.polling import wait_for
from tests.reliability import table

LIGHT = "light.kitchen_light"
DEVICE_COMMAND = "inspextor/b5ea3f/42/M/command"  # the kitchen light's own topic


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    config = StackConfig.for_tests(
        tmp_path / "stack", sensor_interval=5.0, bridge_options={"high_window": 0.2}
    )
    running = Stack(config)
    await running.start()
    try:
        await wait_for_entities(running, [LIGHT])
        await running.set_exposure([LIGHT])  # as the user does: the integration's options
        yield running
    finally:
        await running.stop()


async def device_switch(stack: Stack, brightness: int) -> None:
    """Switch the light at the device itself (a wall switch), not through HA."""
    await asyncio.to_thread(
        mqtt_publish.single,
        DEVICE_COMMAND,
        json.dumps({"value": brightness, "cid": "wall-switch"}),
        qos=1,
        hostname="127.0.0.1",
        port=stack.config.site_port,
    )


async def cloud_brightness(stack: Stack) -> int | None:
    entity = await cloud_entity(stack, LIGHT)
    return (entity or {}).get("attributes", {}).get("brightness")


async def poll(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> float:
    """Await `check()` until true; returns the seconds it took (for the table)."""
    started = time.monotonic()
    await wait_for(check, timeout, what, interval=0.2)
    return time.monotonic() - started


async def test_site_broker_outage_then_hass_restart(stack: Stack) -> None:
    # 1. The site broker (devices and HA's MQTT) stops for 5 s and comes back on its port.
    await device_switch(stack, 21)
    await poll(lambda: _equals(cloud_brightness(stack), 21), 15, "the change before")
    assert stack.site_broker is not None
    await stack.site_broker.stop()
    await asyncio.sleep(5)
    stack.site_broker = await start_local_broker(port=stack.config.site_port)

    # HA's MQTT client and the simulator reconnect and resubscribe by themselves
    async def switched() -> bool:
        await device_switch(stack, 77)
        return await _equals(cloud_brightness(stack), 77)

    site_recovery = await poll(switched, 90, "a device change after the site broker restart")
    table.record(
        "site broker (HA's MQTT, devices) down 5 s",
        1,
        0,
        0,
        0,
        f"a device change reached the cloud {site_recovery:.1f} s after the broker was back",
    )

    # 2. hass restarts; commands sent while it is down are answered, none runs later.
    _, before = await devcloud(stack, "GET", f"/api/homes/{stack.config.contract_id}/entities")
    assert stack.hass is not None
    await stack.hass.stop()
    down = await command_until_final(stack, "light.turn_off", LIGHT, {}, timeout=30)
    await stack.hass.start()

    async def resynced() -> bool:
        _, now = await devcloud(stack, "GET", f"/api/homes/{stack.config.contract_id}/entities")
        _, bridge = await stack.bridge_api("GET", "/api/status")
        return bool(
            bridge["ha_connected"] and (now["structure_seq"] or 0) > (before["structure_seq"] or 0)
        )

    ha_recovery = await poll(resynced, 120, "the bridge back on HA with a new snapshot")
    await wait_for_entities(stack, [LIGHT], timeout=60)
    state = await stack.hass.get_state(LIGHT)
    after = await command_until_final(stack, "light.turn_on", LIGHT, {"brightness": 128})
    answered = [r["status"] for r in down["results"]]
    table.record(
        "hass restart (real stack), a command sent while it is down",
        1,
        0 if answered and answered[-1] == "failed" else 1,
        0,
        0,
        f"answered {answered} ({down['results'][-1]['reason']}); "
        f"resynced {ha_recovery:.1f} s after hass was back",
    )
    assert answered[-1] == "failed", down
    assert down["results"][-1]["reason"]
    assert state is not None
    assert state["state"] == "on"  # the turn_off sent while HA was down never ran later
    assert [r["status"] for r in after["results"]][-1] == "succeeded", after["results"]
    await poll(lambda: _equals(cloud_brightness(stack), 128), 15, "the command's effect")


async def _equals(value: Awaitable[object], expected: object) -> bool:
    return await value == expected
