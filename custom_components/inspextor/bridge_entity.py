"""Base of the cloud bridge's entities: one device, state from the coordinator."""

from __future__ import annotations

from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .bridge_coordinator import BridgeCoordinator


class BridgeEntity(CoordinatorEntity[BridgeCoordinator]):
    """An entity of the bridge's device; unavailable while the bridge does not answer."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: BridgeCoordinator, key: str) -> None:
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.identifier}:{key}"
        self._attr_device_info = coordinator.device_info
