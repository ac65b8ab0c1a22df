"""Repair flows: announced devices gone for days are removed or kept."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult

from .const import is_site_entry
from .stale_devices import StaleDevices


class StaleDevicesFlow(RepairsFlow):
    """Remove the devices (and their retained announcements) or keep them."""

    def __init__(self, entry_id: str) -> None:
        self._entry_id = entry_id

    def _tracker(self) -> StaleDevices | None:
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or not is_site_entry(entry) or entry.state is not ConfigEntryState.LOADED:
            return None
        return entry.runtime_data.stale_devices

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Open the choice."""
        return await self.async_step_stale_devices()

    async def async_step_stale_devices(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """Name the devices; remove or keep."""
        if (tracker := self._tracker()) is None or not (stale := tracker.stale()):
            return self.async_abort(reason="nothing_stale")
        return self.async_show_menu(
            step_id="stale_devices",
            menu_options=["remove", "keep"],
            description_placeholders=tracker.placeholders(stale),
        )

    async def async_step_remove(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Remove them."""
        if (tracker := self._tracker()) is not None:
            await tracker.async_remove()
        return self.async_create_entry(data={})

    async def async_step_keep(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        """Keep them."""
        if (tracker := self._tracker()) is not None:
            tracker.keep()
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The fix flow of a stale-devices issue (the only fixable issue)."""
    return StaleDevicesFlow(str((data or {}).get("entry_id", "")))
