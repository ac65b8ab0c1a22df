"""A site's shades (cover): position with confirmation, motion while travelling, restored."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from homeassistant.components.cover import (
    ATTR_CURRENT_POSITION,
    ATTR_POSITION,
    CoverDeviceClass,
    CoverEntity,
    CoverEntityFeature,
)
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.restore_state import RestoreEntity

from .entity import InspextorEntity
from .site import InspextorSite
from .sitemap import DeviceSpec, Kind


def entities(site: InspextorSite, spec: DeviceSpec) -> Iterable[Entity]:
    """The cover of a shade."""
    if spec.kind is Kind.SHADE:
        yield InspextorShade(site, spec)


class InspextorShade(InspextorEntity, CoverEntity, RestoreEntity):
    """A shade: 100 is fully open."""

    _attr_name = None
    _attr_translation_key = "shade"
    _attr_device_class = CoverDeviceClass.SHADE
    _attr_supported_features = (
        CoverEntityFeature.OPEN
        | CoverEntityFeature.CLOSE
        | CoverEntityFeature.STOP
        | CoverEntityFeature.SET_POSITION
    )
    _commanded = ("position", "motion")

    def __init__(self, site: InspextorSite, spec: DeviceSpec) -> None:
        super().__init__(site, spec, "position")
        self._restored_position: int | None = None

    async def async_added_to_hass(self) -> None:
        """Restore the last position until the device reports one."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None:
            position = last.attributes.get(ATTR_CURRENT_POSITION)
            if isinstance(position, int) and 0 <= position <= 100:
                self._restored_position = position

    @property
    def current_cover_position(self) -> int | None:
        """Position 0..100 as reported, the pending target, or the restored one."""
        value = self.site.value(self.path, "position")
        return value if isinstance(value, int) else self._restored_position

    @property
    def is_closed(self) -> bool | None:
        """Closed at position 0."""
        position = self.current_cover_position
        return None if position is None else position == 0

    @property
    def is_opening(self) -> bool:
        """The device reports `motion: opening`."""
        return bool(self.site.value(self.path, "motion") == "opening")

    @property
    def is_closing(self) -> bool:
        """The device reports `motion: closing`."""
        return bool(self.site.value(self.path, "motion") == "closing")

    async def async_open_cover(self, **kwargs: Any) -> None:
        """Open fully; returns once the device confirmed the command."""
        await self._command("position", 100)

    async def async_close_cover(self, **kwargs: Any) -> None:
        """Close fully; returns once the device confirmed the command."""
        await self._command("position", 0)

    async def async_set_cover_position(self, **kwargs: Any) -> None:
        """Move to a position; returns once the device confirmed the command."""
        await self._command("position", int(kwargs[ATTR_POSITION]))

    async def async_stop_cover(self, **kwargs: Any) -> None:
        """Stop where it is."""
        await self._command("motion", "stop")
