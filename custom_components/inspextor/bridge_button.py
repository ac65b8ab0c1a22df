"""Buttons of the cloud bridge: activate, ping now, resync, rotate the certificate."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .bridge_coordinator import BridgeConfigEntry, BridgeCoordinator
from .bridge_entity import BridgeEntity


@dataclass(frozen=True, kw_only=True)
class BridgeButtonDescription(ButtonEntityDescription):
    """A button that POSTs /api/<action> (the key unless said otherwise)."""

    action: str = ""


BUTTONS: tuple[BridgeButtonDescription, ...] = (
    BridgeButtonDescription(key="activate", translation_key="activate"),
    BridgeButtonDescription(key="ping", translation_key="ping"),
    BridgeButtonDescription(key="resync", translation_key="resync"),
    BridgeButtonDescription(
        key="rotate_certificate",
        translation_key="rotate_certificate",
        entity_category=EntityCategory.CONFIG,
        action="certificate/rotate",
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

    async def async_press(self) -> None:
        """Run the action on the bridge."""
        description = self.entity_description
        await self.coordinator.async_action(description.action or description.key)
