"""Diagnostics of a site and of one device, with user-chosen labels redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .const import CONF_SITE_MAP, DOMAIN
from .hub import InspextorConfigEntry

# Names and areas say who lives where; the site map holds both.
TO_REDACT = {"name", "area", "title", CONF_SITE_MAP}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: InspextorConfigEntry
) -> dict[str, Any]:
    """The site: entry, counters (malformed, pending, resends, failures) and devices."""
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "site": entry.runtime_data.diagnostics(),
        },
        TO_REDACT,
    )


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: InspextorConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """One device: what the site knows about it (the hub device: the site's counters)."""
    site = entry.runtime_data
    for domain, identifier in device.identifiers:
        if domain != DOMAIN:
            continue
        path = identifier.removeprefix(f"{site.base}:")
        if path in site.devices:
            return async_redact_data(site.device_diagnostics(path), TO_REDACT)
    return async_redact_data(site.diagnostics(), TO_REDACT)
