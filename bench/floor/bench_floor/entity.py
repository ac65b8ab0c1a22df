"""The floor's entity: unknown until its first message, then the precomputed state."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback

# Ours' lights and shades carry `pending` (a command awaits its confirmation): false here,
# as in ours when nothing was commanded, so that every side writes the same state.
PENDING: dict[str, Any] = {"pending": False}


class FloorEntity(Entity):
    """Shared by every platform: unique id, device, first state, and floor_set."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, item: dict[str, Any]) -> None:
        self._attr_unique_id = item["unique_id"]
        self._attr_name = item["name"]
        info = DeviceInfo(identifiers={("bench_floor", item["device"])}, name=item["device_name"])
        if item["area"]:
            info["suggested_area"] = item["area"]
        self._attr_device_info = info

    def floor_apply(self, value: Any) -> None:
        """Take a precomputed value (platforms override)."""
        raise NotImplementedError

    def floor_set(self, value: Any) -> None:
        """A message came: show its precomputed value."""
        self.floor_apply(value)
        self.async_write_ha_state()


def setup_platform(
    hass: HomeAssistant,
    entry: ConfigEntry,
    add: AddEntitiesCallback,
    platform: str,
    cls: type[FloorEntity],
) -> None:
    """Add this platform's entities and route their topics to them."""
    plan = entry.runtime_data
    entities = []
    for item in plan.by_platform.get(platform, []):
        entity = cls(item)
        states = {key.encode(): value for key, value in item["values"].items()}
        plan.route[item["topic"]] = (entity, states)
        entities.append(entity)
    add(entities)
