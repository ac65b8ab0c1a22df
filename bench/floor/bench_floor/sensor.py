"""Floor sensors: illuminance, temperature, humidity, ozone."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorEntity, SensorStateClass
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .entity import FloorEntity, setup_platform


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, add: AddEntitiesCallback
) -> None:
    """Set up the floor's sensors."""
    setup_platform(hass, entry, add, "sensor", FloorSensor)


class FloorSensor(FloorEntity, SensorEntity):
    """A reading from the plan."""

    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, item: dict[str, Any]) -> None:
        self._attr_device_class = item["cap"]  # type: ignore[assignment]
        self._attr_native_unit_of_measurement = item["unit"]
        super().__init__(item)

    def floor_apply(self, value: Any) -> None:
        self._attr_native_value = value
