"""Floor motion sensors."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .entity import FloorEntity, setup_platform


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, add: AddEntitiesCallback
) -> None:
    """Set up the floor's motion sensors."""
    setup_platform(hass, entry, add, "binary_sensor", FloorMotion)


class FloorMotion(FloorEntity, BinarySensorEntity):
    """Motion from the plan."""

    _attr_device_class = BinarySensorDeviceClass.MOTION

    def floor_apply(self, value: Any) -> None:
        self._attr_is_on = bool(value)
