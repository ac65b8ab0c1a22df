"""Entity ids users get on HA 2025.4 and 2026.x (custom_components/inspextor/README.md).

HA 2026 builds new ids from area, device and entity name. A device whose name already
starts with its area keeps the id HA 2025 gives it (no `light.kitchen_kitchen_light`);
every other device gets HA's own id. Entities are looked up through the registry.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.inspextor.const import DOMAIN

# HA 2026 puts the area in new ids; 2025.4 has no entity name parts.
AREA_IN_NEW_IDS = hasattr(er, "EntityNamePart")

SITE_MAP = """
devices:
  kitchen/1:
    name: Kitchen light
    kind: light
    area: Kitchen
  kitchen/2:
    name: Ceiling
    kind: light
    area: Kitchen
  kitchen/3:
    name: Kitchenette lamp
    kind: light
    area: Kitchen
  garden/steinel:
    name: garden sensor
    kind: steinel
    area: Garden
"""


@pytest.fixture
def site_map() -> str:
    """Devices named with and without their area."""
    return SITE_MAP


def _entity_id(hass: HomeAssistant, domain: str, unique_id: str) -> str | None:
    return er.async_get(hass).async_get_entity_id(domain, DOMAIN, unique_id)


async def test_area_named_devices_keep_their_ids(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """'Kitchen light' in Kitchen is light.kitchen_light; its sensors keep their names."""
    assert _entity_id(hass, "light", "inspextor:kitchen/1:brightness") == "light.kitchen_light"
    for sensor in ("illuminance", "temperature", "humidity"):
        entity_id = _entity_id(hass, "sensor", f"inspextor:garden/steinel:{sensor}")
        assert entity_id == f"sensor.garden_sensor_{sensor}"
        assert hass.states.get(entity_id) is not None


async def test_other_devices_get_has_ids(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A name that does not start with the area word gets HA's own id."""
    ceiling = _entity_id(hass, "light", "inspextor:kitchen/2:brightness")
    lamp = _entity_id(hass, "light", "inspextor:kitchen/3:brightness")
    if AREA_IN_NEW_IDS:
        assert (ceiling, lamp) == ("light.kitchen_ceiling", "light.kitchen_kitchenette_lamp")
    else:
        assert (ceiling, lamp) == ("light.ceiling", "light.kitchenette_lamp")
    assert hass.states.get(ceiling) is not None


async def test_registered_ids_are_kept(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, init_integration: MockConfigEntry
) -> None:
    """An id the user changed survives a reload: only new entities get suggested ids."""
    registry = er.async_get(hass)
    registry.async_update_entity("light.kitchen_light", new_entity_id="light.worktop")
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert _entity_id(hass, "light", "inspextor:kitchen/1:brightness") == "light.worktop"
    assert hass.states.get("light.worktop") is not None
    assert hass.states.get("light.kitchen_light") is None
