"""Binary sensors of a things_sync site: bool inputs its controllers report."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity

from .things_entity import ThingEntity, is_kind, things_platform
from .things_site import ThingsSite
from .things_sync.site import Direction, Thing, ValueType


class ThingBinarySensor(ThingEntity, BinarySensorEntity):
    """A bool input."""

    def __init__(self, things: ThingsSite, thing: Thing) -> None:
        super().__init__(things, thing)
        classes = {member.value: member for member in BinarySensorDeviceClass}
        self._attr_device_class = classes.get(thing.device_class or "")

    @property
    def is_on(self) -> bool | None:
        """The owner's last report."""
        value = self.reported
        return value if isinstance(value, bool) else None


add_things_binary_sensors = things_platform(
    is_kind(Direction.INPUT, ValueType.BOOL), ThingBinarySensor
)
