"""What a user reads in HA's dialogs and device pages, as HA's own translation loader gives it."""

from __future__ import annotations

import json

from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.inspextor.const import DOMAIN

from .helpers import fire_raw


async def _title(hass: HomeAssistant, step_id: str) -> tuple[str, str]:
    texts = await async_get_translations(hass, "en", "options", [DOMAIN])
    prefix = f"component.{DOMAIN}.options.step.{step_id}"
    return texts.get(f"{prefix}.title", ""), texts.get(f"{prefix}.description", "")


async def test_each_options_dialog_has_its_own_title(
    hass: HomeAssistant, init_integration: MockConfigEntry, init_bridge: MockConfigEntry
) -> None:
    """The bridge's Configure dialog is titled for the bridge, the site's for the site."""
    site = await hass.config_entries.options.async_init(init_integration.entry_id)
    bridge = await hass.config_entries.options.async_init(init_bridge.entry_id)
    assert site["type"] is FlowResultType.FORM
    assert bridge["type"] is FlowResultType.MENU
    site_title, site_text = await _title(hass, site["step_id"])
    bridge_title, bridge_text = await _title(hass, bridge["step_id"])
    assert site_title == "InspeXtor site options"
    assert bridge_title == "InspeXtor cloud bridge options"
    assert "site map" in site_text
    assert "site" not in bridge_text


async def test_ozone_sensor_takes_the_device_name(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """ "Lab ozone", not "Lab ozone Ozone"."""
    state = hass.states.get("sensor.lab_ozone")
    assert state is not None
    assert state.attributes["friendly_name"] == "Lab ozone"


async def test_models_read_as_words(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    mqtt_mock: MqttMockHAClient,
) -> None:
    """Each kind's model in words; an announced device's own model when it gives one."""
    fire_raw(
        hass,
        "inspextor/porch/s/announce",
        json.dumps({"name": "Porch", "kind": "steinel", "model": "IR Quattro HD"}),
    )
    await hass.async_block_till_done()
    models = {
        device.name: device.model
        for device in dr.async_entries_for_config_entry(device_registry, init_integration.entry_id)
    }
    assert models == {
        "Home": "Site",
        "Kitchen light": "Dimmable light",
        "Living strip": "RGBW light",
        "Bedroom shade": "Shade",
        "Hall motion": "Motion sensor",
        "Garden": "Steinel multisensor",
        "Lab ozone": "Ozone sensor",
        "Porch": "IR Quattro HD",
    }


async def test_bridge_form_suggests_a_host(hass: HomeAssistant) -> None:
    """The host field is not empty: it suggests this machine, where a hand-run bridge listens."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "bridge"}
    )
    host = next(key for key in result["data_schema"].schema if key == CONF_HOST)
    assert host.description == {"suggested_value": "127.0.0.1"}
    texts = await async_get_translations(hass, "en", "config", [DOMAIN])
    hint = texts[f"component.{DOMAIN}.config.step.bridge.data_description.host"]
    assert "python -m cloud_bridge" in hint
