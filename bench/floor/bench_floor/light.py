"""Floor lights: the states ours writes (colour mode BRIGHTNESS or RGBW, `pending`)."""

from __future__ import annotations

from typing import Any, ClassVar

from homeassistant.components.light import ColorMode, LightEntity
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .entity import PENDING, FloorEntity, setup_platform


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, add: AddEntitiesCallback
) -> None:
    """Set up the floor's lights."""
    setup_platform(hass, entry, add, "light", FloorLight)


class FloorLight(FloorEntity, LightEntity):
    """A light whose brightness comes from the plan."""

    _attr_extra_state_attributes: ClassVar[dict[str, Any]] = PENDING

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__(item)
        mode = ColorMode.RGBW if item["kind"] == "rgbw_light" else ColorMode.BRIGHTNESS
        self._attr_color_mode = mode
        self._attr_supported_color_modes = {mode}

    def floor_apply(self, value: Any) -> None:
        self._attr_brightness = value
        self._attr_is_on = value > 0
