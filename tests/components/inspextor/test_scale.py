"""A thousand devices share one subscription (no per-entity subscriptions)."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_mqtt_message
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.inspextor.const import (
    CONF_BASE_TOPIC,
    CONF_ENTRY_TYPE,
    CONF_SITE_MAP,
    DOMAIN,
)

from .helpers import fire_status

KINDS = ("light", "rgbw_light", "shade", "motion", "steinel", "ozone")
ENTITIES_PER_KIND = {"light": 1, "rgbw_light": 1, "shade": 1, "motion": 1, "steinel": 4, "ozone": 1}


async def test_thousand_devices_one_subscription(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """1,000 devices: exactly one subscription for the site, and dispatch still works."""
    devices = {
        f"floor{i // 100}/dev{i}": {"name": f"Device {i}", "kind": KINDS[i % len(KINDS)]}
        for i in range(1000)
    }
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="big",
        data={CONF_ENTRY_TYPE: "site", CONF_BASE_TOPIC: "inspextor"},
        options={CONF_SITE_MAP: json.dumps({"devices": devices})},
    )
    before = mqtt_mock.async_subscribe.call_count
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    ours = [call.args[0] for call in mqtt_mock.async_subscribe.call_args_list[before:]]
    assert ours == ["inspextor/#"]
    expected = sum(ENTITIES_PER_KIND[spec["kind"]] for spec in devices.values())
    assert len(hass.states.async_all()) == expected
    fire_status(hass, "floor9/dev996", "brightness", 17)  # 996 % 6 == 0: a light
    state = hass.states.get("light.device_996")
    assert state is not None
    assert state.attributes["brightness"] == 17


async def test_thousand_announced_devices_join_live(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """1,000 retained announcements: every device joins without a restart or a new subscription."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="inspextor",
        data={CONF_ENTRY_TYPE: "site", CONF_BASE_TOPIC: "inspextor"},
        options={CONF_SITE_MAP: ""},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    before = mqtt_mock.async_subscribe.call_count
    for i in range(1000):
        async_fire_mqtt_message(
            hass,
            f"inspextor/f{i // 100}/d{i}/announce",
            json.dumps({"name": f"Announced {i}", "kind": "light"}),
            retain=True,
        )
    await hass.async_block_till_done()
    assert len(hass.states.async_entity_ids("light")) == 1000
    assert mqtt_mock.async_subscribe.call_count == before
    assert entry.runtime_data is not None
    assert len(entry.runtime_data.devices) == 1000
