"""Buttons of a things_sync site: pulses, fired once however often they are repeated."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity

from .things_entity import ThingEntity, is_kind, things_platform
from .things_sync.site import Direction, ValueType


class ThingButton(ThingEntity, ButtonEntity):
    """A pulse."""

    async def async_press(self) -> None:
        """Fire the pulse and wait for the owner's acknowledgement."""
        await self.things.async_pulse(self.thing.name)


add_things_buttons = things_platform(is_kind(Direction.PULSE, ValueType.BOOL), ThingButton)
