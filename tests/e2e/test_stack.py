"""End to end: the cloud and the mobile app drive a simulated home through a real hass.

Real processes only: two Mosquitto brokers, the device simulator, `hass` with the
integration, the bridge and the dev cloud playing AWS IoT Core and the InspeXtor cloud.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import paho.mqtt.publish as mqtt_publish
import pytest

from devkit.devstack.procs import ManagedProcess
from devkit.devstack.stack import Stack
from tests.e2e.conftest import (
    EXPIRED_CONTRACT,
    cloud_entity,
    command_until_final,
    devcloud,
    payload_value,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

KITCHEN_STATUS = "inspextor/b5ea3f/42/M/status"


def statuses(command: dict[str, object]) -> list[str]:
    """The statuses the cloud received for a command, in arrival order."""
    return [r["status"] for r in command["results"]]  # type: ignore[index,union-attr]


async def test_activation_succeeds(stack: Stack) -> None:
    """The demo home activates against its active contract; the cloud reports it."""
    status, result = await stack.bridge_api("POST", "/api/activate")
    assert status == 200, result
    assert result["success"] is True
    assert result["subscription_state"] == "active"
    _, bridge = await stack.bridge_api("GET", "/api/status")
    assert bridge["cloud_connected"] is True
    assert bridge["subscription"]["state"] == "active"


async def test_expired_contract_is_refused(stack: Stack) -> None:
    """A second home whose contract expired is refused, with the reason, by the CLI."""
    options = {
        **stack.bridge_options(),
        "contract_id": EXPIRED_CONTRACT,
        "instance_id": "home-2",
        "client_id": "home-2",
        "instance_password": "expired-pass",
        "api_port": stack.config.bridge_port + 1,
        "api_token": "second-bridge-token",
        "data_dir": str(stack.config.workdir / "bridge-expired"),
    }
    (stack.config.workdir / "bridge-expired").mkdir(exist_ok=True)
    options_file = stack.config.workdir / "expired.json"
    options_file.write_text(json.dumps(options))
    second = ManagedProcess.python_module(
        "expired bridge",
        "cloud_bridge",
        ["run", "--config", str(options_file)],
        stack.logs / "bridge-expired.log",
        None,
    )
    await second.start()
    try:
        await stack.wait_http(
            f"http://127.0.0.1:{options['api_port']}/api/status", second, "second-bridge-token"
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cloud_bridge",
            "activate",
            "--config",
            str(options_file),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        text = out.decode()
        assert proc.returncode == 3, text
        assert "expired" in text.lower(), text
    finally:
        await second.stop()


async def test_mobile_command_turns_the_light_on(stack: Stack, site_observer_factory) -> None:
    """A mobile command reaches the simulated light; the result carries the new state."""
    seen = site_observer_factory(stack.config.site_port, KITCHEN_STATUS)
    command = await command_until_final(
        stack, "light.turn_on", "light.kitchen_light", {"brightness": 128}
    )
    assert statuses(command)[0] == "accepted"
    assert statuses(command)[-1] == "succeeded", command
    final = command["results"][-1]
    assert final["state"]["state"] == "on"
    assert final["state"]["attributes"]["brightness"] == 128
    # The simulated device itself reported the brightness it was told.
    assert any(payload_value(p) == 128 for _, p in seen.matching(KITCHEN_STATUS))


async def test_a_change_made_at_the_device_reaches_the_cloud(
    stack: Stack, site_observer_factory
) -> None:
    """A wall-switch change on the device (not through HA) shows in the cloud's copy.

    How fast is benchmark 2's figure (rows 2a/2b, p99 under 1 s beside the baseline);
    a loaded CI machine cannot time it, so here it only has to arrive.
    """
    seen = site_observer_factory(stack.config.site_port, KITCHEN_STATUS)
    before = len(seen.matching(KITCHEN_STATUS))
    # The device is switched locally (not through HA): a command straight to the device.
    await asyncio.to_thread(
        mqtt_publish.single,
        "inspextor/b5ea3f/42/M/command",
        json.dumps({"value": 37, "cid": "wall-switch"}),
        qos=1,
        hostname="127.0.0.1",
        port=stack.config.site_port,
    )
    deadline = time.monotonic() + 60
    while len(seen.matching(KITCHEN_STATUS)) == before and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert len(seen.matching(KITCHEN_STATUS)) > before, "the device never reported the change"
    device_time = seen.matching(KITCHEN_STATUS)[-1][0]
    entity = None
    while time.monotonic() < device_time + 60:
        entity = await cloud_entity(stack, "light.kitchen_light")
        if entity and (entity.get("attributes") or {}).get("brightness") == 37:
            break
        await asyncio.sleep(0.05)
    print(f"device status -> cloud copy: {(time.monotonic() - device_time) * 1000:.0f} ms")
    assert entity is not None
    assert entity["attributes"]["brightness"] == 37


async def test_command_for_unexposed_entity_is_rejected(
    stack: Stack, site_observer_factory
) -> None:
    """The living-room strip is not exposed: rejected with a reason, device untouched."""
    strip = "inspextor/b5ea3f/43/+/status"
    seen = site_observer_factory(stack.config.site_port, strip)
    command = await command_until_final(
        stack, "light.turn_on", "light.living_room_strip", {"brightness": 200}
    )
    assert statuses(command) == ["rejected"], command
    assert "expos" in (command["results"][0]["reason"] or "").lower()
    await asyncio.sleep(0.5)
    assert seen.messages == []
    assert stack.hass is not None
    state = await stack.hass.get_state("light.living_room_strip")
    assert state is not None
    assert state["state"] == "off"


async def test_shade_reports_in_progress_then_succeeded(stack: Stack) -> None:
    """A slow shade: accepted, in_progress while it travels, then succeeded at 100 %."""
    command = await command_until_final(
        stack, "cover.set_cover_position", "cover.bedroom_shade", {"position": 100}, timeout=45
    )
    assert statuses(command) == ["accepted", "in_progress", "succeeded"], command
    final = command["results"][-1]["state"]
    assert final["state"] == "open"
    assert final["attributes"]["current_position"] == 100


async def test_deregistration_then_reactivation(stack: Stack) -> None:
    """Deregistration succeeds and is logged; activating again restores the home."""
    status, result = await stack.bridge_api("POST", "/api/deregister")
    assert status == 200, result
    assert result["success"] is True
    _, homes = await devcloud(stack, "GET", "/api/homes")
    home = next(h for h in homes if h["contract_id"] == stack.config.contract_id)
    assert home["activated"] is False, home
    status, result = await stack.bridge_api("POST", "/api/activate")
    assert status == 200
    assert result["success"] is True
