"""HA-style state_changed events, as Home Assistant's WebSocket API sends them."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from typing import Any

SENSOR_ATTRS = {
    "state_class": "measurement",
    "unit_of_measurement": "°C",
    "device_class": "temperature",
}
LIGHT_ATTRS = {
    "supported_color_modes": ["brightness"],
    "color_mode": "brightness",
    "supported_features": 0,
}


def entity_ids(count: int, domain: str) -> list[str]:
    """`count` entity ids of one domain, named as the integration names them."""
    noun = "temperature" if domain == "sensor" else "light"
    return [f"{domain}.sim{i // 100:02d}_{i}_{noun}" for i in range(count)]


def new_state(entity_id: str, index: int) -> dict[str, Any]:
    """The `index`th state of an entity: a drifting temperature or a brightness."""
    now = datetime.now(UTC).isoformat()
    if entity_id.startswith("sensor."):
        state = f"{18 + (index * 37 % 700) / 100:.2f}"
        attrs: dict[str, Any] = {**SENSOR_ATTRS, "friendly_name": entity_id[7:]}
    else:
        brightness = 1 + index * 53 % 255
        state = "on"
        attrs = {**LIGHT_ATTRS, "brightness": brightness, "friendly_name": entity_id[6:]}
    return {
        "entity_id": entity_id,
        "state": state,
        "attributes": attrs,
        "last_changed": now,
        "last_reported": now,
        "last_updated": now,
        "context": {"id": f"01JBENCH{index:018d}", "parent_id": None, "user_id": None},
    }


def ws_event(sub_id: int, entity_id: str, index: int) -> str:
    """One state_changed event message as the WebSocket API frames it."""
    state = new_state(entity_id, index)
    old = new_state(entity_id, index - 1)
    return json.dumps(
        {
            "id": sub_id,
            "type": "event",
            "event": {
                "event_type": "state_changed",
                "data": {"entity_id": entity_id, "old_state": old, "new_state": state},
                "origin": "LOCAL",
                "time_fired": state["last_updated"],
                "context": state["context"],
            },
        }
    )
