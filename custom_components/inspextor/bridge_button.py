"""Buttons of the cloud bridge: activate, ping now, resync."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .bridge_coordinator import BridgeConfigEntry, BridgeCoordinator
from .bridge_entity import BridgeEntity


@dataclass(frozen=True, kw_only=True)
class BridgeButtonDescription(ButtonEntityDescription):
    """A bridge action, and what pressing it does (shown with the button's attributes)."""

    when_pressed: str


# key = the bridge action (POST /api/<key>)
BUTTONS: tuple[BridgeButtonDescription, ...] = (
    BridgeButtonDescription(
        key="activate",
        translation_key="activate",
        when_pressed=(
            "Activates this home with the InspeXtor cloud. Pressed again while active, it "
            "only asks the cloud to confirm the activation and refreshes the subscription "
            "state and expiry; nothing is deregistered or lost."
        ),
    ),
    BridgeButtonDescription(
        key="ping",
        translation_key="ping",
        when_pressed="Measures the round trip to the cloud now.",
    ),
    BridgeButtonDescription(
        key="resync",
        translation_key="resync",
        when_pressed="Sends the cloud a fresh copy of the devices and states it may see.",
    ),
)


@callback
def add_bridge_buttons(
    hass: HomeAssistant,
    entry: BridgeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the bridge's buttons."""
    async_add_entities(BridgeButton(entry.runtime_data, description) for description in BUTTONS)


class BridgeButton(BridgeEntity, ButtonEntity):
    """Press: POST the action; a failure raises with the bridge's reason."""

    entity_description: BridgeButtonDescription

    def __init__(self, coordinator: BridgeCoordinator, description: BridgeButtonDescription):
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """What pressing the button does (the more-info dialog lists it)."""
        return {"when_pressed": self.entity_description.when_pressed}

    async def async_press(self) -> None:
        """Run the action on the bridge."""
        await self.coordinator.async_action(self.entity_description.key)
