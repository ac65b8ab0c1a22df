"""Fix flows of the repair issues: "certificate rotation due" runs the rotation."""

from __future__ import annotations

from typing import Any

from homeassistant import data_entry_flow
from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .bridge_coordinator import BridgeCoordinator
from .bridge_repairs import ISSUE_ROTATION_DUE


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
    entry_id = (data or {}).get("entry_id")
    entry = hass.config_entries.async_get_entry(str(entry_id)) if entry_id else None
    if not issue_id.startswith(ISSUE_ROTATION_DUE) or entry is None:
        raise data_entry_flow.UnknownFlow(issue_id)
    coordinator: BridgeCoordinator = entry.runtime_data
    return RotateCertificateFlow(coordinator)
