"""Binary sensor of the cloud bridge: connected to the cloud."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .bridge_coordinator import BridgeConfigEntry
from .bridge_entity import BridgeEntity
from .payload import as_bool

CLOUD_CONNECTED = BinarySensorEntityDescription(
    key="cloud_connected",
    translation_key="cloud_connected",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)


@callback
def add_bridge_binary_sensors(
    hass: HomeAssistant,
    entry: BridgeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the bridge's cloud connectivity."""
    async_add_entities([BridgeCloudConnected(entry.runtime_data, CLOUD_CONNECTED.key)])


class BridgeCloudConnected(BridgeEntity, BinarySensorEntity):
    """On while the bridge is connected to the cloud."""

    entity_description = CLOUD_CONNECTED

    @property
    def is_on(self) -> bool | None:
        """`cloud_connected` of the last status."""
        return as_bool(self.coordinator.data.get("cloud_connected"))
