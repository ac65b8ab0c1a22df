"""The entities offered in the bridge's "What the cloud may control" picker.

Only what the cloud can control: entities of domains whose services act on a device
(the bridge refuses every other domain, cloud_bridge/protocol/exposure.py), named as a
user knows them, unavailable ones marked, in a stable order.
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


def _label(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    if state is None:
        return f"{entity_id} (not found)"
    label = f"{state.name} ({entity_id})"
    return f"{label}, unavailable" if state.state == STATE_UNAVAILABLE else label


def exposure_selector(
    hass: HomeAssistant, own_entry_id: str, chosen: Iterable[str]
) -> SelectSelector:
    """Controllable entities (not the bridge's own), plus what is chosen, by name."""
    own = {
        entity.entity_id
        for entity in er.async_entries_for_config_entry(er.async_get(hass), own_entry_id)
    }
    offered = {
        state.entity_id
        for state in hass.states.async_all(CONTROLLABLE_DOMAINS)
        if state.entity_id not in own
    }
    offered.update(chosen)
    options = [SelectOptionDict(value=eid, label=_label(hass, eid)) for eid in offered]
    options.sort(key=lambda option: (option["label"].casefold(), option["value"]))
    return SelectSelector(
        SelectSelectorConfig(options=options, multiple=True, mode=SelectSelectorMode.LIST)
    )
