"""End to end: the bridge entry in the real hass follows the real bridge; HA owns the exposure."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from devkit.devstack.stack import Stack
from tests.e2e.conftest import EXPOSED

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

CONNECTED = "binary_sensor.inspextor_cloud_bridge_cloud_connected"
ACTIVATION = "sensor.inspextor_cloud_bridge_activation_state"
ACTIVATE = "button.inspextor_cloud_bridge_activate"


async def _wait_state(stack: Stack, entity_id: str, wanted: str, timeout: float = 40) -> None:
    """Poll HA's REST API until `entity_id` is `wanted` (the bridge is polled every 15 s)."""
    assert stack.hass is not None
    deadline = time.monotonic() + timeout
    state: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        state = await stack.hass.get_state(entity_id)
        if state is not None and state["state"] == wanted:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"{entity_id} never became {wanted!r}: {state}")


async def test_bridge_device_shows_activation(stack: Stack) -> None:
    """Pressing Activate in HA activates the real bridge; its device shows the outcome."""
    assert stack.hass is not None
    assert stack.hass.credentials is not None
    await _wait_state(stack, CONNECTED, "on")
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
        session.post(
            f"{stack.hass_url}/api/services/button/press",
            json={"entity_id": ACTIVATE},
            headers={"Authorization": f"Bearer {stack.hass.credentials.token}"},
        ) as resp,
    ):
        assert resp.status == 200, await resp.text()
    await _wait_state(stack, ACTIVATION, "activated")
    await _wait_state(stack, CONNECTED, "on")
    _, status = await stack.bridge_api("GET", "/api/status")
    assert status["activation"]["state"] == "activated"


async def test_exposure_comes_from_the_options_in_ha(stack: Stack) -> None:
    """The bridge enforces exactly what the bridge entry's options chose (set by the fixture)."""
    status, body = await stack.bridge_api("GET", "/api/exposure")
    assert status == 200, body
    assert sorted(body["entities"]) == sorted(EXPOSED)
    await stack.set_exposure([*EXPOSED, "light.living_room_strip"])
    try:
        _, body = await stack.bridge_api("GET", "/api/exposure")
        assert sorted(body["entities"]) == sorted([*EXPOSED, "light.living_room_strip"])
    finally:
        await stack.set_exposure(EXPOSED)
    _, body = await stack.bridge_api("GET", "/api/exposure")
    assert sorted(body["entities"]) == sorted(EXPOSED)
