"""Self-announcing devices join the site without a restart; the site map wins."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from .helpers import find_device, fire_availability, fire_raw, fire_status, published


def _announce(hass: HomeAssistant, path: str, **fields: object) -> None:
    fire_raw(hass, f"inspextor/{path}/announce", json.dumps(fields))


async def test_announced_device_added_live(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    mqtt_mock: MqttMockHAClient,
) -> None:
    """A new announced Steinel gets its four entities and reports at once."""
    fire_availability(hass, "porch/s", True, retain=True)  # may arrive before the announcement
    _announce(
        hass,
        "porch/s",
        name="Porch",
        kind="steinel",
        area="Porch",
        subtopics={"T": "temperature"},
        model="IS 3360",
        sw_version=2.1,
    )
    await hass.async_block_till_done()
    for entity_id in (
        "binary_sensor.porch_motion",
        "sensor.porch_illuminance",
        "sensor.porch_temperature",
        "sensor.porch_humidity",
    ):
        assert hass.states.get(entity_id) is not None, entity_id
    # The new device is asked for its statuses at once.
    assert len(published(mqtt_mock, "inspextor/porch/s/ask")) == 1
    fire_status(hass, "porch/s", "T", 12.5)
    state = hass.states.get("sensor.porch_temperature")
    assert state is not None
    assert state.state == "12.5"
    device = find_device(hass, "inspextor:porch/s")
    assert device is not None
    assert (device.model, device.sw_version, device.area_id) == ("IS 3360", "2.1", "porch")
    # The same announcement again (retained, after a reconnect) adds nothing.
    _announce(hass, "porch/s", name="Porch", kind="steinel")
    await hass.async_block_till_done()
    assert len(hass.states.async_entity_ids("sensor")) == 7


async def test_site_map_wins(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """An announcement of a mapped device changes nothing."""
    _announce(hass, "kitchen/1", name="Something else", kind="ozone")
    await hass.async_block_till_done()
    site = init_integration.runtime_data
    assert site.devices["kitchen/1"].name == "Kitchen light"
    assert "kitchen/1" in site.announced
    assert hass.states.get("sensor.something_else_ozone") is None
    state = hass.states.get("light.kitchen_light")
    assert state is not None


async def test_announced_device_changes(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """New subtopics apply at once (a new kind too: test_kind_change.py)."""
    _announce(hass, "x/1", name="X", kind="light")
    await hass.async_block_till_done()
    _announce(hass, "x/1", name="X", kind="light", subtopics={"B": "brightness"})
    fire_status(hass, "x/1", "B", 33)
    state = hass.states.get("light.x")
    assert state is not None
    assert state.attributes["brightness"] == 33


@pytest.mark.parametrize(
    "payload",
    [
        "[]",
        "{not json",
        b"\xff",
        '{"name": "Y", "kind": "toaster"}',
        '{"name": "", "kind": "light"}',
        '{"name": "Y", "kind": "light", "subtopics": {"ask": "brightness"}}',
    ],
)
async def test_bad_announcement_is_malformed(
    hass: HomeAssistant, init_integration: MockConfigEntry, payload: str | bytes
) -> None:
    """A broken announcement is counted for that path and adds nothing."""
    fire_raw(hass, "inspextor/y/2/announce", payload)
    await hass.async_block_till_done()
    site = init_integration.runtime_data
    assert "y/2" not in site.devices
    assert site.states["y/2"].malformed == 1
