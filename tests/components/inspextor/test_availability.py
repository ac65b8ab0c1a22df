"""Availability from the retained topic, and malformed or foreign messages."""

from __future__ import annotations

import logging

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from .helpers import fire_availability, fire_raw, fire_status, published

KITCHEN = "light.kitchen_light"


def _state(hass: HomeAssistant, entity_id: str = KITCHEN) -> str:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def test_availability_both_ways_logged_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Offline makes the device's entities unavailable; online brings them back."""
    caplog.set_level(logging.INFO, logger="custom_components.inspextor")
    fire_status(hass, "garden/steinel", "temperature", 20)
    fire_status(hass, "kitchen/1", "M", 5)
    fire_availability(hass, "garden/steinel", False)
    fire_availability(hass, "garden/steinel", False)  # retained again after a reconnect
    for entity_id in ("sensor.garden_temperature", "binary_sensor.garden_motion"):
        assert _state(hass, entity_id) == STATE_UNAVAILABLE
    assert _state(hass) == "on"
    assert published(mqtt_mock, "inspextor/garden/steinel/ask") == []
    fire_availability(hass, "garden/steinel", True)
    fire_availability(hass, "garden/steinel", True)
    assert _state(hass, "sensor.garden_temperature") == "20"
    await hass.async_block_till_done()
    # Back online: the device is asked once what changed while it was away.
    assert len(published(mqtt_mock, "inspextor/garden/steinel/ask")) == 1
    messages = [r.getMessage() for r in caplog.records if "garden/steinel" in r.getMessage()]
    assert messages == [
        "Device inspextor/garden/steinel is unavailable",
        "Device inspextor/garden/steinel is available again",
    ]


async def test_offline_device_refuses_commands(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A command to an offline device fails at once with a translated error."""
    from homeassistant.exceptions import HomeAssistantError

    fire_availability(hass, "kitchen/1", False)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "inspextor",
            "send_command",
            {"entity_id": KITCHEN, "capability": "brightness", "value": 3},
            blocking=True,
        )
    assert err.value.translation_key == "device_offline"


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"\xff\xfe", "not UTF-8"),
        ("[1, 2]", "JSON array"),
        ('{"val": 3}', "no value"),
        ('{"value": "bright"}', "is not a valid brightness"),
    ],
)
async def test_malformed_counted_and_logged_once(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    payload: bytes | str,
    problem: str,
) -> None:
    """Malformed payloads never raise; counted per device, one warning then debug."""
    caplog.set_level(logging.DEBUG, logger="custom_components.inspextor")
    for _ in range(3):
        fire_raw(hass, "inspextor/kitchen/1/M/status", payload)
    fire_raw(hass, "inspextor/kitchen/1/availability", "maybe")
    site = init_integration.runtime_data
    assert site.states["kitchen/1"].malformed == 4
    assert site.states["living/2"].malformed == 0
    records = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert [r.levelno for r in records] == [logging.WARNING] + [logging.DEBUG] * 3
    assert problem in records[0].getMessage()
    fire_status(hass, "kitchen/1", "M", 9)  # good messages still work
    assert _state(hass) == "on"


@pytest.mark.parametrize(
    "topic",
    [
        "inspextor/kitchen/1/M/weird",
        "inspextor/status",
        "inspextor//x/status",
        "inspextor/availability",
        "inspextor/unknown/dev/M/status",
        "inspextor/kitchen/1/Z/status",
    ],
)
async def test_foreign_topics_ignored(
    hass: HomeAssistant, init_integration: MockConfigEntry, topic: str
) -> None:
    """Topics outside the protocol, unknown devices and subtopics are counted, not errors."""
    site = init_integration.runtime_data
    before = site.ignored_messages
    fire_raw(hass, topic, '{"value": 1}')
    assert site.ignored_messages == before + 1
    assert all(state.malformed == 0 for state in site.states.values())


async def test_per_device_ask_and_commands_are_not_statuses(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Another controller's command or a per-device ask does not change state."""
    fire_raw(hass, "inspextor/kitchen/1/M/command", '{"value": 200, "cid": "x"}')
    fire_raw(hass, "inspextor/kitchen/1/ask", '{"cid": "x"}')
    fire_raw(hass, "inspextor/ask", "not json")
    assert _state(hass) == "unknown"
