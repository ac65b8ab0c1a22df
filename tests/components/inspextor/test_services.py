"""`inspextor.send_command`: validated writes; sensors are refused."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient
import voluptuous as vol

from custom_components.inspextor.const import DOMAIN

from .helpers import FakeDevices, find_device, published


async def _call(hass: HomeAssistant, data: dict[str, Any]) -> None:
    await hass.services.async_call(DOMAIN, "send_command", data, blocking=True)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (
            {"entity_id": "sensor.garden_temperature", "capability": "temperature", "value": 3},
            "not_writable",
        ),
        (
            {"entity_id": "binary_sensor.hall_motion", "capability": "motion", "value": True},
            "not_writable",
        ),
        ({"entity_id": "sensor.lab_ozone", "capability": "ozone", "value": 1}, "not_writable"),
        (
            {"entity_id": "light.kitchen_light", "capability": "color", "value": [1, 2, 3, 4]},
            "not_writable",
        ),
        (
            {"entity_id": "light.kitchen_light", "capability": "brightness", "value": 256},
            "invalid_value",
        ),
        (
            {"entity_id": "light.kitchen_light", "capability": "brightness", "value": "128"},
            "invalid_value",
        ),
        (
            {"entity_id": "cover.bedroom_shade", "capability": "motion", "value": "opening"},
            "invalid_value",
        ),
        ({"entity_id": "light.nope", "capability": "brightness", "value": 1}, "unknown_target"),
        ({"entity_id": "sun.sun", "capability": "brightness", "value": 1}, "unknown_target"),
        ({"device_id": "missing", "capability": "brightness", "value": 1}, "unknown_target"),
    ],
)
async def test_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    data: dict[str, Any],
    key: str,
) -> None:
    """Writes to sensors, bad values and unknown targets fail before anything is sent."""
    before = mqtt_mock.async_publish.call_count
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, data)
    assert err.value.translation_key == key
    assert err.value.translation_domain == DOMAIN
    assert mqtt_mock.async_publish.call_count == before


async def test_sensor_refusal_message(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The refusal reads as a sentence for the user."""
    with pytest.raises(ServiceValidationError, match="temperature of Garden cannot be written"):
        await _call(
            hass,
            {"entity_id": "sensor.garden_temperature", "capability": "temperature", "value": 3},
        )


async def test_needs_a_target(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Without entity or device the call is invalid."""
    with pytest.raises(vol.Invalid):
        await _call(hass, {"capability": "brightness", "value": 1})


async def test_device_and_entity_targets(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    mqtt_mock: MqttMockHAClient,
) -> None:
    """Device and entity targets both write, and the call waits for confirmation."""
    devices = FakeDevices(hass)
    await devices.start()
    shade = find_device(hass, "inspextor:bedroom/shade")
    assert shade is not None
    await _call(hass, {"device_id": shade.id, "capability": "position", "value": 55})
    await _call(
        hass,
        {"entity_id": "light.living_strip", "capability": "color", "value": [9, 8, 7, 6]},
    )
    assert [(p, s, c["value"]) for p, s, c in devices.received] == [
        ("bedroom/shade", "position", 55),
        ("living/2", "C", [9, 8, 7, 6]),
    ]
    assert published(mqtt_mock, "inspextor/living/2/C/command")[0][1:] == (1, False)
    state = hass.states.get("cover.bedroom_shade")
    assert state is not None
    assert state.attributes["current_position"] == 55


async def test_hub_device_and_unloaded_site(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The site's hub device has nothing to write; an unloaded site is named."""
    hub = find_device(hass, "inspextor")
    assert hub is not None
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, {"device_id": hub.id, "capability": "brightness", "value": 1})
    assert err.value.translation_key == "unknown_target"
    await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass, {"entity_id": "light.kitchen_light", "capability": "brightness", "value": 1}
        )
    assert err.value.translation_key == "not_loaded"


async def test_device_gone_from_site(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An entity whose device left the site is refused with the device's path."""
    init_integration.runtime_data.devices.pop("kitchen/1")
    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass, {"entity_id": "light.kitchen_light", "capability": "brightness", "value": 1}
        )
    assert err.value.translation_key == "unknown_device"
