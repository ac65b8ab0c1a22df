"""Setup, unload, reload and device removal of a site."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient, WebSocketGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.inspextor.const import CONF_ENTRY_TYPE, DOMAIN

from .helpers import find_device, fire_raw, fire_status
from .snapshot_helpers import device_fields


async def test_setup_creates_entities_and_devices(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Every kind becomes its entities, below the site's hub device."""
    assert init_integration.state is ConfigEntryState.LOADED
    entity_ids = {
        entry.entity_id
        for entry in er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
    }
    assert entity_ids == {
        "light.kitchen_light",
        "light.living_strip",
        "cover.bedroom_shade",
        "binary_sensor.hall_motion",
        "binary_sensor.garden_motion",
        "sensor.garden_illuminance",
        "sensor.garden_temperature",
        "sensor.garden_humidity",
        "sensor.lab_ozone",
    }
    light = entity_registry.async_get("light.kitchen_light")
    assert light is not None
    assert light.unique_id == "inspextor:kitchen/1:brightness"
    hub = find_device(hass, "inspextor")
    kitchen = find_device(hass, "inspextor:kitchen/1")
    assert hub is not None
    assert kitchen is not None
    assert kitchen.via_device_id == hub.id
    assert kitchen.area_id == "kitchen"
    assert kitchen.name == "Kitchen light"
    assert kitchen.manufacturer == "InspeXtor"


async def test_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Unloading stops the dispatch; entities become unavailable."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    fire_status(hass, "kitchen/1", "M", 10)
    await hass.async_block_till_done()
    state = hass.states.get("light.kitchen_light")
    assert state is not None
    assert state.state == "unavailable"


async def test_unknown_entry_type_fails(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, mock_config_entry: MockConfigEntry
) -> None:
    """An entry type this version does not know is a setup error, not a crash."""
    entry = MockConfigEntry(
        domain=DOMAIN, data={**mock_config_entry.data, CONF_ENTRY_TYPE: "bridge"}
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR


@pytest.mark.parametrize("site_map", ["devices: {a: {name: A, kind: toaster}}"])
async def test_invalid_stored_site_map_fails(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, mock_config_entry: MockConfigEntry
) -> None:
    """A site map broken outside the flow is a setup error naming the device."""
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert "a: kind 'toaster' is unknown" in (mock_config_entry.reason or "")


async def test_mqtt_not_set_up_is_not_ready(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """Without an MQTT entry the site retries later."""
    mock_config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_options_change_reloads(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Editing the site map in the options adds the new device without a restart."""
    hass.config_entries.async_update_entry(
        init_integration,
        options={
            **init_integration.options,
            "site_map": "devices: {porch/9: {name: Porch, kind: light}}",
        },
    )
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get("light.porch") is not None
    assert init_integration.runtime_data.devices.keys() == {"porch/9"}


async def test_remove_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Only devices gone from both the site map and announcements can be removed."""
    assert await async_setup_component(hass, "config", {})
    fire_raw(
        hass,
        "inspextor/attic/7/announce",
        '{"name": "Attic", "kind": "light"}',
    )
    await hass.async_block_till_done()
    attic = find_device(hass, "inspextor:attic/7")
    kitchen = find_device(hass, "inspextor:kitchen/1")
    hub = find_device(hass, "inspextor")
    assert attic
    assert kitchen
    assert hub
    client = await hass_ws_client(hass)

    async def remove(device_id: str) -> bool:
        # The UI's "delete device" on an entry; the command both HA versions serve (the
        # plugin's remove_device helper sends different commands in 2025.4 and 2026.x).
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": init_integration.entry_id,
                "device_id": device_id,
            }
        )
        response = await client.receive_json()
        return bool(response["success"])

    assert not await remove(kitchen.id)  # still in the site map
    assert not await remove(hub.id)
    assert not await remove(attic.id)  # still announced
    fire_raw(hass, "inspextor/attic/7/announce", b"")  # the device cleared its announcement
    await hass.async_block_till_done()
    assert await remove(attic.id)
    assert find_device(hass, "inspextor:attic/7") is None
    assert "attic/7" not in init_integration.runtime_data.devices


async def test_devices(
    hass: HomeAssistant, init_integration: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """The hub and one device per site-map entry, in its area (the kitchen light's).

    Fields both HA versions have (snapshot_helpers.device_fields); no entity ids.
    """
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), init_integration.entry_id)
    fields = sorted((device_fields(hass, d.id) for d in devices), key=lambda d: d["identifiers"])
    assert fields == snapshot
