"""Fix flows of the repair issues: announced devices gone for days are removed or kept;
"certificate rotation due" runs the rotation."""

from __future__ import annotations

from typing import Any

from homeassistant import data_entry_flow
from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult
from homeassistant.exceptions import HomeAssistantError

from .bridge_coordinator import BridgeCoordinator
from .bridge_repairs import ISSUE_ROTATION_DUE
from .const import is_site_entry
from .stale_devices import ISSUE_STALE_DEVICES, StaleDevices


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


class RotateCertificateFlow(ConfirmRepairFlow):
    """Confirm, then have the bridge rotate its certificate now."""

    def __init__(self, coordinator: BridgeCoordinator) -> None:
        super().__init__()
        self.coordinator = coordinator

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        """Rotate on confirmation; a failure is shown with the bridge's reason."""
        if user_input is None:
            return await super().async_step_confirm()  # the form, with the issue's date
        try:
            await self.coordinator.async_action("certificate/rotate")
        except HomeAssistantError as err:
            return self.async_abort(
                reason="rotation_failed", description_placeholders={"reason": str(err)}
            )
        return self.async_create_entry(data={})


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The flow for a fixable issue of this integration."""
    entry_id = str((data or {}).get("entry_id", ""))
    if issue_id.startswith(ISSUE_STALE_DEVICES):
        return StaleDevicesFlow(entry_id)
    entry = hass.config_entries.async_get_entry(entry_id) if entry_id else None
    if not issue_id.startswith(ISSUE_ROTATION_DUE) or entry is None:
        raise data_entry_flow.UnknownFlow(issue_id)
    coordinator: BridgeCoordinator = entry.runtime_data
    return RotateCertificateFlow(coordinator)
