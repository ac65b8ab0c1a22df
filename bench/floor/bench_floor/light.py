"""Floor lights: brightness only (color mode BRIGHTNESS)."""

from __future__ import annotations

from typing import Any, ClassVar

from homeassistant.components.light import ColorMode, LightEntity
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .entity import FloorEntity, setup_platform


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, add: AddEntitiesCallback
) -> None:
    """Set up the floor's lights."""
    setup_platform(hass, entry, add, "light", FloorLight)


class FloorLight(FloorEntity, LightEntity):
    """A light whose brightness comes from the plan."""

    _attr_color_mode = ColorMode.BRIGHTNESS
    _attr_supported_color_modes: ClassVar[set[ColorMode]] = {ColorMode.BRIGHTNESS}

    def floor_apply(self, value: Any) -> None:
        self._attr_brightness = value
        self._attr_is_on = value > 0
