"""A site's lights: `light` (brightness) and `rgbw_light` (brightness and RGBW colour)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any

from homeassistant.components.light import ATTR_BRIGHTNESS, ATTR_RGBW_COLOR, LightEntity
from homeassistant.components.light.const import ColorMode
from homeassistant.core import callback
from homeassistant.helpers.entity import Entity

from .entity import InspextorEntity
from .site import InspextorSite
from .sitemap import DeviceSpec, Kind

FULL_BRIGHTNESS = 255


def entities(site: InspextorSite, spec: DeviceSpec) -> Iterable[Entity]:
    """The light of a `light` or `rgbw_light` device."""
    if spec.kind in (Kind.LIGHT, Kind.RGBW_LIGHT):
        yield InspextorLight(site, spec)


class InspextorLight(InspextorEntity, LightEntity):
    """A dimmable light, or an RGBW light (explicit colour modes, no colour temperature)."""

    _attr_name = None
    _attr_translation_key = "light"

    def __init__(self, site: InspextorSite, spec: DeviceSpec) -> None:
        super().__init__(site, spec, "brightness")
        self._rgbw = spec.kind is Kind.RGBW_LIGHT
        mode = ColorMode.RGBW if self._rgbw else ColorMode.BRIGHTNESS
        self._attr_color_mode = mode
        self._attr_supported_color_modes = {mode}
        self._commanded = ("brightness", "color") if self._rgbw else ("brightness",)
        self._last_brightness = FULL_BRIGHTNESS

    @callback
    def _handle_update(self) -> None:
        if reported := self.site.reported(self.path, "brightness"):
            self._last_brightness = reported
        super()._handle_update()

    @property
    def brightness(self) -> int | None:
        """Brightness 0..255 (pending target while a command is unconfirmed)."""
        value = self.site.value(self.path, "brightness")
        return value if isinstance(value, int) else None

    @property
    def is_on(self) -> bool | None:
        """On when brightness is above zero; unknown before the first report."""
        brightness = self.brightness
        return None if brightness is None else brightness > 0

    @property
    def rgbw_color(self) -> tuple[int, int, int, int] | None:
        """The RGBW colour of an RGBW light."""
        value = self.site.value(self.path, "color")
        if not self._rgbw or not isinstance(value, list):
            return None
        red, green, blue, white = value
        return (red, green, blue, white)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn on: brightness and/or colour; without brightness, the last non-zero one."""
        commands: list[Coroutine[Any, Any, None]] = []
        if self._rgbw and (rgbw := kwargs.get(ATTR_RGBW_COLOR)) is not None:
            commands.append(self._command("color", [int(part) for part in rgbw]))
        brightness = kwargs.get(ATTR_BRIGHTNESS)
        if brightness is None and not (commands and self.is_on):
            brightness = self._last_brightness
        if brightness is not None:
            brightness = int(brightness)
            if brightness > 0:
                self._last_brightness = brightness
            commands.append(self._command("brightness", brightness))
        await asyncio.gather(*commands)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn off (brightness 0)."""
        await self._command("brightness", 0)
