"""Command confirmation: resend with the latest target, final failure, stale echoes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from homeassistant.components.light import ATTR_BRIGHTNESS, DOMAIN as LIGHT_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from tests.helpers.polling import wait_for

from .helpers import fire_status, next_command, published

KITCHEN = "light.kitchen_light"
TOPIC = "inspextor/kitchen/1/M/command"


def _turn_on(hass: HomeAssistant, brightness: int) -> asyncio.Task[object]:
    return asyncio.create_task(
        hass.services.async_call(
            LIGHT_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: KITCHEN, ATTR_BRIGHTNESS: brightness},
            blocking=True,
        )
    )


async def _advance(hass: HomeAssistant, seconds: float) -> None:
    """Fire the timers due within `seconds` (no block_till_done: a service call waits)."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await asyncio.sleep(0)


def _brightness(hass: HomeAssistant) -> tuple[object, object]:
    state = hass.states.get(KITCHEN)
    assert state is not None
    return state.attributes.get(ATTR_BRIGHTNESS), state.attributes.get("pending")


async def test_resend_carries_latest_target(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """A newer target replaces the pending one; the resend sends it with a new cid."""
    first = _turn_on(hass, 100)
    cmd1 = await next_command(mqtt_mock, "kitchen/1", "M", 1)
    second = _turn_on(hass, 150)
    cmd2 = await next_command(mqtt_mock, "kitchen/1", "M", 2)
    assert cmd2["value"] == 150
    assert _brightness(hass) == (150, True)
    # The device applied the first command late: a status, not a confirmation.
    fire_status(hass, "kitchen/1", "M", 100, cmd1["cid"])
    assert _brightness(hass) == (150, True)
    await _advance(hass, 3.1)
    cmd3 = await next_command(mqtt_mock, "kitchen/1", "M", 3)
    assert cmd3["value"] == 150
    assert len({cmd1["cid"], cmd2["cid"], cmd3["cid"]}) == 3
    fire_status(hass, "kitchen/1", "M", 150, cmd3["cid"])
    await asyncio.gather(first, second)
    assert _brightness(hass) == (150, False)
    stats = init_integration.runtime_data.commands.stats
    assert (stats.sent, stats.resends, stats.confirmed, stats.failures) == (3, 1, 1, 0)


async def test_final_failure_shows_reported_state(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """After the last try the call raises a translated error; the entity shows the truth."""
    fire_status(hass, "kitchen/1", "M", 40)
    await hass.async_block_till_done()
    call = _turn_on(hass, 200)
    await next_command(mqtt_mock, "kitchen/1", "M", 1)
    # A status without cid does not confirm.
    fire_status(hass, "kitchen/1", "M", 40)
    await _advance(hass, 3.1)
    await next_command(mqtt_mock, "kitchen/1", "M", 2)
    await _advance(hass, 3.1)
    await next_command(mqtt_mock, "kitchen/1", "M", 3)
    assert _brightness(hass) == (200, True)
    assert not call.done()
    await _advance(hass, 3.1)
    with pytest.raises(HomeAssistantError) as err:
        await call
    assert err.value.translation_key == "command_failed"
    assert err.value.translation_domain == "inspextor"
    assert str(err.value) == "Kitchen light did not confirm the brightness command after 3 tries"
    assert _brightness(hass) == (40, False)
    assert len(published(mqtt_mock, TOPIC)) == 3
    stats = init_integration.runtime_data.commands.stats
    assert (stats.resends, stats.failures) == (2, 1)
    # A late echo after the failure is only a status.
    fire_status(hass, "kitchen/1", "M", 200, "f" * 32)
    assert _brightness(hass) == (200, False)


async def test_publish_error_is_retried(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """A publish that fails (broker gone) is resent by the timer like a lost one."""
    real = mqtt_mock.async_publish.side_effect
    mqtt_mock.async_publish.side_effect = HomeAssistantError("not connected")
    call = _turn_on(hass, 10)
    await wait_for(lambda: published(mqtt_mock, TOPIC))
    await asyncio.sleep(0)
    mqtt_mock.async_publish.side_effect = real
    await _advance(hass, 3.1)
    command = await next_command(mqtt_mock, "kitchen/1", "M", 2)
    fire_status(hass, "kitchen/1", "M", 10, command["cid"])
    await call
    assert _brightness(hass) == (10, False)


async def test_unload_fails_pending_command(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """Unloading the site ends a waiting call with an error instead of hanging."""
    call = _turn_on(hass, 10)
    await next_command(mqtt_mock, "kitchen/1", "M")
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(HomeAssistantError) as err:
        await call
    assert err.value.translation_key == "site_unloaded"


async def test_cancelled_caller_does_not_break_command(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """A caller that gives up does not cancel the command for the others."""
    call = _turn_on(hass, 10)
    command = await next_command(mqtt_mock, "kitchen/1", "M")
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert _brightness(hass) == (10, True)
    fire_status(hass, "kitchen/1", "M", 10, command["cid"])
    assert _brightness(hass) == (10, False)
