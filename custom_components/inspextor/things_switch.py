"""Switches of a things_sync site: bool outputs, confirmed by their owner's reply."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity

from .things_entity import ThingEntity, is_kind, things_platform
from .things_sync.site import Direction, ValueType


class ThingSwitch(ThingEntity, SwitchEntity):
    """A bool output; shows the owner's state, not the wish."""

    @property
    def is_on(self) -> bool | None:
        """The owner's last reported state."""
        value = self.reported
        return value if isinstance(value, bool) else None

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Set it and wait for the owner's reply (a translated error after the TTL)."""
        await self.things.async_set(self.thing.name, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Clear it and wait for the owner's reply."""
        await self.things.async_set(self.thing.name, False)


add_things_switches = things_platform(is_kind(Direction.OUTPUT, ValueType.BOOL), ThingSwitch)
