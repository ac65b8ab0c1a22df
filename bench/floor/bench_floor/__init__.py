"""The floor of benchmark 4: the least any integration can do for the same home.

Not shipped: bench/ingest.py links it into a benchmark hass. It creates the same devices
and entities as the InspeXtor integration (same unique ids, names and areas) and
subscribes once to `<base>/#` through HA's MQTT client, as the integration does. Its
entities are unknown until their first message: the devices' retained statuses (no
start-up ask, no round trip). A status message is looked up in the plan, topic then
payload bytes, and its precomputed state is written: no JSON parsing, no validation, no
command tracking. Whatever time and memory it
takes is HA's own cost for these states on this machine: the limit ours is measured
against.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback

DOMAIN = "bench_floor"
PLATFORMS = [Platform.LIGHT, Platform.COVER, Platform.BINARY_SENSOR, Platform.SENSOR]
_DOMAIN_OF = {"brightness": "light", "position": "cover", "motion": "binary_sensor"}


class Plan:
    """The plan file, split by platform, and the topic -> entity table for messages."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.base: str = data["base"]
        self.by_platform: dict[str, list[dict[str, Any]]] = {}
        for item in data["entities"]:
            self.by_platform.setdefault(_DOMAIN_OF.get(item["cap"], "sensor"), []).append(item)
        # topic -> (entity, payload bytes -> state); filled as entities are added
        self.route: dict[str, tuple[Any, dict[bytes, Any]]] = {}


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Load the plan, add the entities, subscribe once."""
    path = Path(hass.config.path("bench_floor_plan.json"))
    data = await hass.async_add_executor_job(lambda: json.loads(path.read_text()))
    plan = Plan(data)
    entry.runtime_data = plan
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)

    @callback
    def received(msg: mqtt.ReceiveMessage) -> None:
        target = plan.route.get(msg.topic)
        if target is None:
            return
        entity, states = target
        state = states.get(msg.payload)  # type: ignore[call-overload]
        if state is not None:
            entity.floor_set(state)

    entry.async_on_unload(
        await mqtt.async_subscribe(hass, f"{plan.base}/#", received, qos=1, encoding=None)
    )
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Unload the platforms."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
