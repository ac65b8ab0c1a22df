"""Buttons of the cloud bridge: activate, ping now, resync."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .bridge_coordinator import BridgeConfigEntry, BridgeCoordinator
from .bridge_entity import BridgeEntity

# key = the bridge action (POST /api/<key>)
BUTTONS: tuple[ButtonEntityDescription, ...] = (
    ButtonEntityDescription(key="activate", translation_key="activate"),
    ButtonEntityDescription(key="ping", translation_key="ping"),
    ButtonEntityDescription(key="resync", translation_key="resync"),
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

    def __init__(self, coordinator: BridgeCoordinator, description: ButtonEntityDescription):
        super().__init__(coordinator, description.key)
        self.entity_description = description

    async def async_press(self) -> None:
        """Run the action on the bridge."""
        await self.coordinator.async_action(self.entity_description.key)
