"""The entities offered in the bridge's "What the cloud may control" picker.

What the cloud can control: entities of domains whose services act on a device (the
bridge refuses every other domain, cloud_bridge/protocol/exposure.py); and InspeXtor's
own sensors and binary sensors, which a cloud rule may use as its trigger or condition
(a rule may only read exposed entities) but never command. Named as a user knows them,
unavailable ones marked, in a stable order; no other integration's sensors (HA's own
backup or system sensors mean nothing to the cloud).
"""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .const import DOMAIN

# Domains whose services command a device: the bridge's own list (cloud_bridge/protocol/
# records.py; a test keeps them equal). A copy, because the integration ships without it.
CONTROLLABLE_DOMAINS: frozenset[str] = frozenset(
    {
        "alarm_control_panel",
        "button",
        "climate",
        "cover",
        "fan",
        "humidifier",
        "input_boolean",
        "input_button",
        "input_number",
        "input_select",
        "light",
        "lock",
        "media_player",
        "number",
        "select",
        "siren",
        "switch",
        "vacuum",
        "valve",
        "water_heater",
    }
)


# Readable domains of our own devices: a cloud rule's trigger or condition, never a target.
TRIGGER_DOMAINS: frozenset[str] = frozenset({"binary_sensor", "sensor"})


def _label(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    if state is None:
        return f"{entity_id} (not found)"
    label = f"{state.name} ({entity_id})"
    if entity_id.split(".", 1)[0] in TRIGGER_DOMAINS:
        label = f"{label}, for rules only"
    return f"{label}, unavailable" if state.state == STATE_UNAVAILABLE else label


def exposure_selector(
    hass: HomeAssistant, own_entry_id: str, chosen: Iterable[str]
) -> SelectSelector:
    """Controllable entities and our own sensors (not the bridge's), plus what is chosen."""
    registry = er.async_get(hass)
    own = {entity.entity_id for entity in er.async_entries_for_config_entry(registry, own_entry_id)}
    offered = {
        state.entity_id
        for state in hass.states.async_all(CONTROLLABLE_DOMAINS)
        if state.entity_id not in own
    }
    offered.update(
        entity.entity_id
        for entity in registry.entities.values()
        if entity.platform == DOMAIN
        and entity.domain in TRIGGER_DOMAINS
        and entity.entity_id not in own
        and hass.states.get(entity.entity_id) is not None
    )
    offered.update(chosen)
    options = [SelectOptionDict(value=eid, label=_label(hass, eid)) for eid in offered]
    options.sort(key=lambda option: (option["label"].casefold(), option["value"]))
    return SelectSelector(
        SelectSelectorConfig(options=options, multiple=True, mode=SelectSelectorMode.LIST)
    )
