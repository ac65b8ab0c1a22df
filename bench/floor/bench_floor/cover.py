"""Floor shades: the states ours writes (position, its features, `pending`)."""

from __future__ import annotations

from typing import Any, ClassVar

from homeassistant.components.cover import CoverDeviceClass, CoverEntity, CoverEntityFeature
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .entity import PENDING, FloorEntity, setup_platform


async def async_setup_entry(
    hass: HomeAssistant, entry: ConfigEntry, add: AddEntitiesCallback
) -> None:
    """Set up the floor's shades."""
    setup_platform(hass, entry, add, "cover", FloorShade)


class FloorShade(FloorEntity, CoverEntity):
    """A shade whose position comes from the plan."""

    _attr_device_class = CoverDeviceClass.SHADE
    _attr_supported_features = (
        CoverEntityFeature.OPEN
        | CoverEntityFeature.CLOSE
        | CoverEntityFeature.STOP
        | CoverEntityFeature.SET_POSITION
    )
    _attr_is_opening = False
    _attr_is_closing = False
    _attr_extra_state_attributes: ClassVar[dict[str, Any]] = PENDING

    def floor_apply(self, value: Any) -> None:
        self._attr_current_cover_position = value
        self._attr_is_closed = value == 0
