"""The "What the cloud may control" picker: what the cloud can control, named, marked."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from cloud_bridge.protocol.exposure import FORBIDDEN_DOMAINS
from cloud_bridge.protocol.records import CONTROLLABLE_DOMAINS as BRIDGE_CONTROLLABLE
from custom_components.inspextor.const import CONF_EXPOSED_ENTITIES
from custom_components.inspextor.exposure_choices import CONTROLLABLE_DOMAINS

from .bridge_helpers import FakeBridge, bridge_entry


async def _offered(hass: HomeAssistant, entry: MockConfigEntry) -> list[dict[str, Any]]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "exposure"}
    )
    assert result["type"] is FlowResultType.FORM
    key = next(k for k in result["data_schema"].schema if k == CONF_EXPOSED_ENTITIES)
    return list(result["data_schema"].schema[key].config["options"])


async def test_offers_only_what_the_cloud_can_control(
    hass: HomeAssistant, bridge: FakeBridge, entity_registry: er.EntityRegistry
) -> None:
    """Lights and covers by name; sensors, backups and the bridge's own buttons are not offered;
    an unavailable light says so; a chosen entity that is gone stays, marked, to be removed."""
    hass.states.async_set("light.porch", "unavailable", {"friendly_name": "Porch light"})
    hass.states.async_set("light.kitchen_light", "on", {"friendly_name": "Kitchen light"})
    hass.states.async_set("cover.bedroom_shade", "open", {"friendly_name": "Bedroom shade"})
    hass.states.async_set("sensor.backup_backup_manager_state", "idle")
    hass.states.async_set("sensor.office_ozone", "40")
    entry = bridge_entry(exposed=["switch.gone", "light.kitchen_light"])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    own = [e.entity_id for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)]
    assert any(eid.startswith("button.") for eid in own)
    offered = await _offered(hass, entry)
    assert offered == [
        {"value": "cover.bedroom_shade", "label": "Bedroom shade (cover.bedroom_shade)"},
        {"value": "light.kitchen_light", "label": "Kitchen light (light.kitchen_light)"},
        {"value": "light.porch", "label": "Porch light (light.porch), unavailable"},
        {"value": "switch.gone", "label": "switch.gone (not found)"},
    ]


async def test_the_saved_list_keeps_the_users_order(
    hass: HomeAssistant, bridge: FakeBridge
) -> None:
    """Saved as chosen, not re-sorted."""
    hass.states.async_set("light.b", "on")
    hass.states.async_set("light.a", "on")
    entry = bridge_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "exposure"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_EXPOSED_ENTITIES: ["light.b", "light.a"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_EXPOSED_ENTITIES] == ["light.b", "light.a"]
    assert bridge.exposure == ["light.b", "light.a"]


def test_offered_domains_are_the_bridges_controllable_ones() -> None:
    """The picker offers the domains the bridge syncs as controllable, none it refuses."""
    assert CONTROLLABLE_DOMAINS == BRIDGE_CONTROLLABLE
    assert not CONTROLLABLE_DOMAINS & FORBIDDEN_DOMAINS


async def test_our_own_sensors_are_offered_for_rules_only(
    hass: HomeAssistant, bridge: FakeBridge, entity_registry: er.EntityRegistry
) -> None:
    """A cloud rule's trigger must be exposed: InspeXtor's motion sensor is offered, marked
    as usable by rules only; another integration's sensor is not."""
    motion = entity_registry.async_get_or_create(
        "binary_sensor", "inspextor", "inspextor:hall/1:motion", suggested_object_id="hall_motion"
    )
    hass.states.async_set(motion.entity_id, "off", {"friendly_name": "Hall motion"})
    other = entity_registry.async_get_or_create(
        "sensor", "backup", "backup_manager_state", suggested_object_id="backup_state"
    )
    hass.states.async_set(other.entity_id, "idle")
    entry = bridge_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    offered = {option["value"]: option["label"] for option in await _offered(hass, entry)}
    assert offered == {
        motion.entity_id: f"Hall motion ({motion.entity_id}), for rules only",
    }
