"""Shades: confirmed commands, motion while travelling, restored position."""

from __future__ import annotations

import asyncio

from homeassistant.components.cover import (
    ATTR_CURRENT_POSITION,
    ATTR_POSITION,
    DOMAIN as COVER_DOMAIN,
    SERVICE_CLOSE_COVER,
    SERVICE_OPEN_COVER,
    SERVICE_SET_COVER_POSITION,
    SERVICE_STOP_COVER,
)
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_ENTITY_ID, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant, State
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_restore_cache
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from .helpers import FakeDevices, fire_status, next_command
from .snapshot_helpers import SnapshotPlatform

SHADE = "cover.bedroom_shade"
PATH = "bedroom/shade"


def _state(hass: HomeAssistant) -> State:
    state = hass.states.get(SHADE)
    assert state is not None
    return state


async def test_set_position_then_travel(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """The call returns on the immediate echo; opening/closing follow `motion`."""
    fire_status(hass, PATH, "position", 20)
    fire_status(hass, PATH, "motion", "stopped")
    assert _state(hass).state == "open"
    assert _state(hass).attributes[ATTR_DEVICE_CLASS] == "shade"
    call = asyncio.create_task(
        hass.services.async_call(
            COVER_DOMAIN,
            SERVICE_SET_COVER_POSITION,
            {ATTR_ENTITY_ID: SHADE, ATTR_POSITION: 80},
            blocking=True,
        )
    )
    command = await next_command(mqtt_mock, PATH, "position")
    assert command["value"] == 80
    assert _state(hass).attributes["pending"] is True
    # The shade confirms at once with where it is now, then travels.
    fire_status(hass, PATH, "position", 20, command["cid"])
    await call
    assert _state(hass).attributes[ATTR_CURRENT_POSITION] == 20
    assert _state(hass).attributes["pending"] is False
    fire_status(hass, PATH, "motion", "opening")
    fire_status(hass, PATH, "position", 50)
    assert _state(hass).state == "opening"
    assert _state(hass).attributes[ATTR_CURRENT_POSITION] == 50
    fire_status(hass, PATH, "position", 80)
    fire_status(hass, PATH, "motion", "stopped")
    assert _state(hass).state == "open"
    fire_status(hass, PATH, "motion", "closing")
    assert _state(hass).state == "closing"
    fire_status(hass, PATH, "position", 0)
    fire_status(hass, PATH, "motion", "stopped")
    assert _state(hass).state == "closed"


async def test_open_close_stop(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Open is position 100, close 0, stop is `motion: stop`."""
    devices = FakeDevices(hass)
    devices.values[(PATH, "motion")] = "stopped"
    await devices.start()
    for service in (SERVICE_OPEN_COVER, SERVICE_CLOSE_COVER, SERVICE_STOP_COVER):
        await hass.services.async_call(
            COVER_DOMAIN, service, {ATTR_ENTITY_ID: SHADE}, blocking=True
        )
    assert [(sub, payload["value"]) for _, sub, payload in devices.received] == [
        ("position", 100),
        ("position", 0),
        ("motion", "stop"),
    ]
    assert _state(hass).state == "closed"
    assert _state(hass).attributes["pending"] is False


async def test_position_restored_until_device_reports(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, mock_config_entry: MockConfigEntry
) -> None:
    """After an HA restart the last position shows until the shade reports."""
    mock_restore_cache(hass, [State(SHADE, "open", {ATTR_CURRENT_POSITION: 42})])
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert _state(hass).attributes[ATTR_CURRENT_POSITION] == 42
    assert _state(hass).state == "open"
    fire_status(hass, PATH, "position", 7)
    assert _state(hass).attributes[ATTR_CURRENT_POSITION] == 7


async def test_no_restored_position(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Without history or report the shade is unknown."""
    assert _state(hass).state == STATE_UNKNOWN
    assert ATTR_CURRENT_POSITION not in _state(hass).attributes


async def test_all_entities(snapshot_site: SnapshotPlatform) -> None:
    """Every cover (shade) of a site with every kind: registry entry, state, device.

    Version-independent as snapshot_helpers.py says: no areas, shared fields only.
    """
    await snapshot_site(Platform.COVER)
