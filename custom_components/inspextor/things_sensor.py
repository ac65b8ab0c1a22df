"""Sensors of a things_sync site: numeric and text inputs its controllers report."""

from __future__ import annotations

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass

from .things_entity import ThingEntity, is_kind, things_platform
from .things_site import ThingsSite
from .things_sync.site import Direction, Thing, ValueType


class ThingSensor(ThingEntity, SensorEntity):
    """An int, float or str input."""

    def __init__(self, things: ThingsSite, thing: Thing) -> None:
        super().__init__(things, thing)
        if thing.type is not ValueType.STR:
            classes = {member.value: member for member in SensorDeviceClass}
            self._attr_device_class = classes.get(thing.device_class or "")
            self._attr_state_class = SensorStateClass.MEASUREMENT
            self._attr_native_unit_of_measurement = thing.unit

    @property
    def native_value(self) -> str | int | float | None:
        """The owner's last report."""
        value = self.reported
        return None if value is None or isinstance(value, bool) else value


add_things_sensors = things_platform(
    is_kind(Direction.INPUT, ValueType.INT, ValueType.FLOAT, ValueType.STR), ThingSensor
)
