"""The InspeXtor integration: InspeXtor devices on the local MQTT broker as HA entities.

An entry is one of several kinds (an MQTT site, the cloud bridge); entry_kinds.py says
how each is set up, which platforms it has and how it is removed.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .entry_kinds import kind_of, require_kind
from .interaction_monitor import async_setup_interactions
from .rule_check import async_setup_rule_check
from .services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's services; start the interactions monitor and guard."""
    async_setup_services(hass)
    async_setup_interactions(hass)
    async_setup_rule_check(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Set up an entry of the kind its `entry_type` names, then its kind's platforms."""
    kind = require_kind(entry)
    await kind.async_setup(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, list(kind.platforms))
    if kind.async_started is not None:
        await kind.async_started(hass, entry)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> bool:
    """Unload the platforms of the entry's kind."""
    return await hass.config_entries.async_unload_platforms(
        entry, list(require_kind(entry).platforms)
    )


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """A removed entry takes what outlives it with it (the bridge: its repair issues)."""
    if (kind := kind_of(entry)) is not None and kind.removed is not None:
        kind.removed(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: ConfigEntry[Any], device_entry: dr.DeviceEntry
) -> bool:
    """Whether the user may delete a device (a site's: once nothing describes it).

    The bridge's one device lives as long as its entry.
    """
    return require_kind(entry).remove_device(entry, device_entry)
