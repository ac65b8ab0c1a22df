"""Numbers of a things_sync site: numeric outputs within the site file's min and max."""

from __future__ import annotations

from homeassistant.components.number import NumberEntity, NumberMode

from .things_entity import ThingEntity, is_kind, things_platform
from .things_site import ThingsSite
from .things_sync.site import Direction, Thing, ValueType


class ThingNumber(ThingEntity, NumberEntity):
    """An int or float output."""

    _attr_mode = NumberMode.BOX

    def __init__(self, things: ThingsSite, thing: Thing) -> None:
        super().__init__(things, thing)
        self._attr_native_min_value = thing.minimum if thing.minimum is not None else -1e9
        self._attr_native_max_value = thing.maximum if thing.maximum is not None else 1e9
        self._attr_native_step = 1 if thing.type is ValueType.INT else 0.1
        self._attr_native_unit_of_measurement = thing.unit

    @property
    def native_value(self) -> float | None:
        """The owner's last reported value."""
        value = self.reported
        return value if isinstance(value, int | float) else None

    async def async_set_native_value(self, value: float) -> None:
        """Set it and wait for the owner's reply."""
        await self.things.async_set(
            self.thing.name, round(value) if self.thing.type is ValueType.INT else value
        )


add_things_numbers = things_platform(
    is_kind(Direction.OUTPUT, ValueType.INT, ValueType.FLOAT), ThingNumber
)
