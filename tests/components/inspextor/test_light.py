"""Lights: state from statuses, confirmed commands, last brightness, RGBW."""

from __future__ import annotations

import asyncio

from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_COLOR_MODE,
    ATTR_RGBW_COLOR,
    ATTR_SUPPORTED_COLOR_MODES,
    DOMAIN as LIGHT_DOMAIN,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from .helpers import FakeDevices, fire_status, next_command, published
from .snapshot_helpers import SnapshotPlatform

KITCHEN = "light.kitchen_light"
STRIP = "light.living_strip"


async def test_state_follows_status(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Brightness 0 is off; anything else is on with that brightness; modes are explicit."""
    state = hass.states.get(KITCHEN)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert state.attributes[ATTR_SUPPORTED_COLOR_MODES] == ["brightness"]
    fire_status(hass, "kitchen/1", "M", 128)  # site-wide code M = brightness
    await hass.async_block_till_done()
    state = hass.states.get(KITCHEN)
    assert state is not None
    assert state.state == "on"
    assert state.attributes[ATTR_BRIGHTNESS] == 128
    assert state.attributes[ATTR_COLOR_MODE] == "brightness"
    assert state.attributes["pending"] is False
    fire_status(hass, "kitchen/1", "brightness", 0)  # the capability name works too
    await hass.async_block_till_done()
    state = hass.states.get(KITCHEN)
    assert state is not None
    assert state.state == "off"


async def test_turn_on_waits_for_confirmation(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """The command is QoS 1, not retained, has a cid; pending until the echo."""
    call = asyncio.create_task(
        hass.services.async_call(
            LIGHT_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: KITCHEN, ATTR_BRIGHTNESS: 99},
            blocking=True,
        )
    )
    command = await next_command(mqtt_mock, "kitchen/1", "M")
    assert command["value"] == 99
    assert len(command["cid"]) == 32
    ((_, qos, retain),) = published(mqtt_mock, "inspextor/kitchen/1/M/command")
    assert qos == 1
    assert retain is False
    state = hass.states.get(KITCHEN)
    assert state is not None
    assert state.attributes[ATTR_BRIGHTNESS] == 99  # the target, shown while pending
    assert state.attributes["pending"] is True
    assert not call.done()
    fire_status(hass, "kitchen/1", "M", 99, command["cid"])
    await call
    state = hass.states.get(KITCHEN)
    assert state is not None
    assert state.attributes["pending"] is False
    assert state.attributes[ATTR_BRIGHTNESS] == 99


async def test_turn_on_without_brightness_restores_last(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Turning on without brightness goes to the last non-zero one (255 when none)."""
    devices = FakeDevices(hass)
    await devices.start()
    await hass.services.async_call(
        LIGHT_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: KITCHEN}, blocking=True
    )
    assert devices.received[-1][2]["value"] == 255
    fire_status(hass, "kitchen/1", "M", 77)
    await hass.async_block_till_done()
    await hass.services.async_call(
        LIGHT_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: KITCHEN}, blocking=True
    )
    assert devices.received[-1][2]["value"] == 0
    state = hass.states.get(KITCHEN)
    assert state is not None
    assert state.state == "off"
    await hass.services.async_call(
        LIGHT_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: KITCHEN}, blocking=True
    )
    assert devices.received[-1][2]["value"] == 77
    await hass.services.async_call(
        LIGHT_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: KITCHEN, ATTR_BRIGHTNESS: 12}, blocking=True
    )
    await hass.services.async_call(
        LIGHT_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: KITCHEN}, blocking=True
    )
    await hass.services.async_call(
        LIGHT_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: KITCHEN}, blocking=True
    )
    assert devices.received[-1][2]["value"] == 12


async def test_rgbw_light(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """RGBW colour on its own subtopic; colour while off also turns the light on."""
    state = hass.states.get(STRIP)
    assert state is not None
    assert state.attributes[ATTR_SUPPORTED_COLOR_MODES] == ["rgbw"]
    assert "min_mireds" not in state.attributes
    fire_status(hass, "living/2", "C", [1, 2, 3, 4])
    fire_status(hass, "living/2", "M", 0)
    await hass.async_block_till_done()
    state = hass.states.get(STRIP)
    assert state is not None
    assert state.state == "off"
    devices = FakeDevices(hass)
    await devices.start()
    await hass.services.async_call(
        LIGHT_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: STRIP, ATTR_RGBW_COLOR: (255, 0, 10, 20)},
        blocking=True,
    )
    sent = {
        (sub, payload["value"] if sub == "M" else tuple(payload["value"]))
        for _, sub, payload in devices.received
    }
    assert sent == {("C", (255, 0, 10, 20)), ("M", 255)}
    state = hass.states.get(STRIP)
    assert state is not None
    assert state.state == "on"
    assert state.attributes[ATTR_RGBW_COLOR] == (255, 0, 10, 20)
    assert state.attributes[ATTR_COLOR_MODE] == "rgbw"
    # On already: a colour alone sends only the colour.
    devices.received.clear()
    await hass.services.async_call(
        LIGHT_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: STRIP, ATTR_RGBW_COLOR: (0, 0, 0, 255)},
        blocking=True,
    )
    assert [(sub, p["value"]) for _, sub, p in devices.received] == [("C", [0, 0, 0, 255])]


async def test_malformed_status_keeps_state(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A brightness out of range is malformed: the light keeps its last good state."""
    fire_status(hass, "kitchen/1", "M", 40)
    fire_status(hass, "kitchen/1", "M", 300)
    fire_status(hass, "kitchen/1", "M", True)
    await hass.async_block_till_done()
    state = hass.states.get(KITCHEN)
    assert state is not None
    assert state.attributes[ATTR_BRIGHTNESS] == 40
    assert init_integration.runtime_data.states["kitchen/1"].malformed == 2


async def test_all_entities(snapshot_site: SnapshotPlatform) -> None:
    """Every light of a site with every kind: registry entry, state, device.

    Version-independent as snapshot_helpers.py says: no areas, shared fields only.
    """
    await snapshot_site(Platform.LIGHT)
