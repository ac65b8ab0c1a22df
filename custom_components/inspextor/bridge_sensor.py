"""Sensors of the cloud bridge: activation, subscription and certificate expiry, ping,
outbox, last error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .bridge_api import parse_timestamp
from .bridge_coordinator import BridgeConfigEntry, BridgeCoordinator
from .bridge_entity import BridgeEntity
from .payload import as_number

# The bridge's activation states (cloud_bridge/activation.py); anything else is unknown.
ACTIVATION_STATES = ["never", "activated", "deregistered", "failed"]
MAX_STATE_LENGTH = 255


def _activation(status: dict[str, Any]) -> str | None:
    state = (status.get("activation") or {}).get("state")
    return state if state in ACTIVATION_STATES else None


# What a user reads: each lane's queue in its own words and unit (the bridge's status
# names them structure, high and low).
LANES: tuple[tuple[str, str], ...] = (
    ("structure", "changes"),
    ("high", "changes"),
    ("low", "readings"),
)
NO_ERROR = "No error"


def _lane(lane: str) -> Callable[[dict[str, Any]], StateType]:
    return lambda status: as_number((status.get("outbox") or {}).get(lane))


def _last_error(status: dict[str, Any]) -> str | None:
    """The last error's reason; "No error" when the bridge reports none."""
    error = status.get("last_error")
    return NO_ERROR if error is None else _reason(error)


# The parts of the bridge that report their own error, most severe first (the bridge's
# `errors` in /api/status; `last_error` is the first of them that failed).
BRIDGE_PARTS = ("storage", "cloud", "ha", "activation", "store_channel")


def _last_error_attributes(status: dict[str, Any]) -> dict[str, Any]:
    error = status.get("last_error")
    errors = status.get("errors")
    parts = {
        f"{part}_error": _reason(errors.get(part)) if isinstance(errors, dict) else None
        for part in BRIDGE_PARTS
    }
    if not isinstance(error, dict):
        return {"code": None, "at": None, "part": None, **parts}
    at = as_number(error.get("at"))
    return {
        "code": error.get("code"),
        "at": dt_util.utc_from_timestamp(at).isoformat() if at is not None else None,
        "part": error.get("part") if error.get("part") in BRIDGE_PARTS else None,
        **parts,
    }


def _reason(error: Any) -> str | None:
    if not isinstance(error, dict) or not error.get("reason"):
        return None
    return str(error["reason"])[:MAX_STATE_LENGTH]


@dataclass(frozen=True, kw_only=True)
class BridgeSensorDescription(SensorEntityDescription):
    """A value of the bridge's status."""

    value_fn: Callable[[dict[str, Any]], StateType | datetime]
    attributes_fn: Callable[[dict[str, Any]], dict[str, Any]] | None = None


BRIDGE_SENSORS: tuple[BridgeSensorDescription, ...] = (
    BridgeSensorDescription(
        key="activation_state",
        translation_key="activation_state",
        device_class=SensorDeviceClass.ENUM,
        options=ACTIVATION_STATES,
        value_fn=_activation,
    ),
    BridgeSensorDescription(
        key="subscription_expires",
        translation_key="subscription_expires",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda status: parse_timestamp((status.get("subscription") or {}).get("expires")),
    ),
    BridgeSensorDescription(
        key="certificate_expires",
        translation_key="certificate_expires",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda status: parse_timestamp(status.get("certificate_expires")),
    ),
    BridgeSensorDescription(
        key="ping_rtt",
        translation_key="ping_rtt",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda status: as_number((status.get("ping") or {}).get("last_rtt_ms")),
    ),
    *(
        BridgeSensorDescription(
            key=f"outbox_{lane}",
            translation_key=f"outbox_{lane}",
            entity_category=EntityCategory.DIAGNOSTIC,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=unit,
            value_fn=_lane(lane),
        )
        for lane, unit in LANES
    ),
    BridgeSensorDescription(
        key="dropped_low",
        translation_key="dropped_low",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement="readings",
        value_fn=_lane("dropped_low"),
    ),
    BridgeSensorDescription(
        key="last_error",
        translation_key="last_error",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_last_error,
        attributes_fn=_last_error_attributes,
    ),
)


@callback
def add_bridge_sensors(
    hass: HomeAssistant,
    entry: BridgeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the bridge's sensors."""
    coordinator = entry.runtime_data
    async_add_entities(BridgeSensor(coordinator, description) for description in BRIDGE_SENSORS)


class BridgeSensor(BridgeEntity, SensorEntity):
    """One value of the bridge's status."""

    entity_description: BridgeSensorDescription

    def __init__(self, coordinator: BridgeCoordinator, description: BridgeSensorDescription):
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> StateType | datetime:
        """The value in the last status."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The last error's code and time."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.coordinator.data)
