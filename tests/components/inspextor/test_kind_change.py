"""A device that announces another kind: HA follows at once for an announced device; a
mapped device keeps the site map's kind and a repair names both kinds."""

from __future__ import annotations

import asyncio
import json
import logging

from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_SUPPORTED_COLOR_MODES,
    DOMAIN as LIGHT_DOMAIN,
    ColorMode,
)
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.inspextor.const import DOMAIN
from custom_components.inspextor.kind_mismatch import mismatch_issue_id

from .helpers import find_device, fire_raw, fire_status, next_command, published


def _announce(hass: HomeAssistant, path: str, **fields: object) -> None:
    fire_raw(hass, f"inspextor/{path}/announce", json.dumps(fields))


def _registry_ids(hass: HomeAssistant, entry: MockConfigEntry, device: str) -> set[str]:
    registry = er.async_get(hass)
    return {
        e.entity_id
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.unique_id.startswith(f"inspextor:{device}:")
    }


async def test_a_dimmable_light_reflashed_as_rgbw_light_becomes_one_at_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Same entity id (and registry entry), RGBW colour mode, the new model, asked again."""
    caplog.set_level(logging.WARNING)
    _announce(hass, "x/1", name="X", kind="light")
    await hass.async_block_till_done()
    fire_status(hass, "x/1", "brightness", 40)
    registry = er.async_get(hass)
    before = registry.async_get("light.x")
    assert before is not None
    state = hass.states.get("light.x")
    assert state is not None
    assert state.attributes[ATTR_SUPPORTED_COLOR_MODES] == [ColorMode.BRIGHTNESS]

    _announce(hass, "x/1", name="X", kind="rgbw_light", subtopics={"C": "color"})
    await hass.async_block_till_done()

    state = hass.states.get("light.x")
    assert state is not None
    assert state.attributes[ATTR_SUPPORTED_COLOR_MODES] == [ColorMode.RGBW]
    assert state.state == "unknown"  # the dimmable light's brightness is forgotten
    after = registry.async_get("light.x")
    assert after is not None
    assert after.id == before.id  # the user's settings of the entity stay
    device = find_device(hass, "inspextor:x/1")
    assert device is not None
    assert device.model == "RGBW light"
    assert len(published(mqtt_mock, "inspextor/x/1/ask")) == 2  # asked again for its state
    fire_status(hass, "x/1", "brightness", 200)
    fire_status(hass, "x/1", "C", [1, 2, 3, 4])
    state = hass.states.get("light.x")
    assert state is not None
    assert state.attributes["rgbw_color"] == (1, 2, 3, 4)
    assert "x/1 (X) changed its kind from light to rgbw_light" in caplog.text


async def test_a_light_reflashed_as_shade_loses_its_light_and_gets_a_cover(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The light leaves HA and the entity registry; the cover follows the device."""
    _announce(hass, "x/2", name="Terrace", kind="light")
    await hass.async_block_till_done()
    assert _registry_ids(hass, init_integration, "x/2") == {"light.terrace"}

    _announce(hass, "x/2", name="Terrace", kind="shade")
    await hass.async_block_till_done()

    assert hass.states.get("light.terrace") is None
    assert _registry_ids(hass, init_integration, "x/2") == {"cover.terrace"}
    fire_status(hass, "x/2", "position", 30)
    state = hass.states.get("cover.terrace")
    assert state is not None
    assert state.attributes["current_position"] == 30
    device = find_device(hass, "inspextor:x/2")
    assert device is not None
    assert device.model == "Shade"

    # twice in a row: only the last kind stays; its motion keeps the Steinel's entity id
    _announce(hass, "x/2", name="Terrace", kind="steinel")
    await hass.async_block_till_done()
    _announce(hass, "x/2", name="Terrace", kind="steinel")  # the same again: nothing changes
    _announce(hass, "x/2", name="Terrace", kind="motion")
    await hass.async_block_till_done()
    assert _registry_ids(hass, init_integration, "x/2") == {"binary_sensor.terrace_motion"}
    assert hass.states.get("cover.terrace") is None
    assert hass.states.get("sensor.terrace_temperature") is None
    fire_raw(hass, "inspextor/x/2/motion/status", "true")
    state = hass.states.get("binary_sensor.terrace_motion")
    assert state is not None
    assert state.state == "on"

    # three kinds in a row, before any replacement finished: the last one wins
    for kind in ("shade", "steinel", "light"):
        _announce(hass, "x/2", name="Terrace", kind=kind)
    await hass.async_block_till_done()
    assert _registry_ids(hass, init_integration, "x/2") == {"light.terrace"}
    assert hass.states.get("binary_sensor.terrace_motion") is None


async def test_a_command_waiting_when_the_kind_changes_fails_at_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """The caller learns at once that its command no longer applies, not after retries."""
    _announce(hass, "x/3", name="Porch", kind="light")
    await hass.async_block_till_done()
    call = asyncio.create_task(
        hass.services.async_call(
            LIGHT_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: "light.porch", ATTR_BRIGHTNESS: 99},
            blocking=True,
        )
    )
    await next_command(mqtt_mock, "x/3", "M")  # the site's default subtopic of brightness
    _announce(hass, "x/3", name="Porch", kind="shade")
    with pytest.raises(HomeAssistantError) as err:
        await call
    assert err.value.translation_key == "device_changed_kind"
    assert err.value.translation_placeholders == {"device": "Porch", "capability": "brightness"}
    assert init_integration.runtime_data.commands.pending == {}


async def test_a_mapped_device_announcing_another_kind_keeps_the_map_and_says_so(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The site map wins; a repair and a warning name the device and both kinds."""
    caplog.set_level(logging.WARNING)
    issue_id = mismatch_issue_id(init_integration.entry_id)
    _announce(hass, "kitchen/1", name="Kitchen light", kind="shade")
    await hass.async_block_till_done()

    state = hass.states.get("light.kitchen_light")
    assert state is not None
    assert hass.states.get("cover.kitchen_light") is None
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "kind_mismatch"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["devices"] == (
        "Kitchen light (kitchen/1): the site map says light, the device announces shade"
    )
    assert "kitchen/1 (Kitchen light) announces itself as shade" in caplog.text
    assert "the site map says light" in caplog.text

    _announce(hass, "kitchen/1", name="Kitchen light", kind="light")  # re-flashed back
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    _announce(hass, "bedroom/shade", name="Bedroom shade", kind="light")
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    fire_raw(hass, "inspextor/bedroom/shade/announce", "")  # the announcement is cleared
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_the_mismatch_repair_goes_with_the_site(
    hass: HomeAssistant, init_integration: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    """Unloading the site deletes its repair; a new start raises it again if still true."""
    _announce(hass, "lab/o3", name="Lab ozone", kind="steinel")
    await hass.async_block_till_done()
    issue_id = mismatch_issue_id(init_integration.entry_id)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
