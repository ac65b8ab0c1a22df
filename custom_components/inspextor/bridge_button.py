"""Buttons of the cloud bridge: activate, ping now, resync, rotate the certificate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .bridge_coordinator import BridgeConfigEntry, BridgeCoordinator
from .bridge_entity import BridgeEntity


@dataclass(frozen=True, kw_only=True)
class BridgeButtonDescription(ButtonEntityDescription):
    """A bridge action (POST /api/<action>, the key unless said otherwise), and what
    pressing it does (shown with the button's attributes)."""

    when_pressed: str
    action: str = ""


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
    BridgeButtonDescription(
        key="rotate_certificate",
        translation_key="rotate_certificate",
        entity_category=EntityCategory.CONFIG,
        action="certificate/rotate",
        when_pressed=(
            "Gets a new device certificate now (zero-touch bridges): a new key and "
            "certificate, a trial connection, then the switch; the old certificate stays "
            "in use if any step fails."
        ),
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
        description = self.entity_description
        await self.coordinator.async_action(description.action or description.key)
