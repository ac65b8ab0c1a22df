"""Diagnostics of a site and of one device, with user-chosen labels redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .const import CONF_SITE_MAP, DOMAIN
from .hub import InspextorConfigEntry, InspextorSite

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
            "site": site_diagnostics(entry.runtime_data),
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
            return async_redact_data(device_diagnostics(site, path), TO_REDACT)
    return async_redact_data(site_diagnostics(site), TO_REDACT)


def device_diagnostics(site: InspextorSite, path: str) -> dict[str, Any]:
    """What diagnostics show about one device."""
    spec = site.devices[path]
    state = site.state(path)
    return {
        "path": path,
        "name": spec.name,
        "kind": spec.kind.value,
        "area": spec.area,
        "subtopics": dict(spec.subtopics),
        "source": "site_map" if path in site.site_map.devices else "announcement",
        "announced": path in site.announced,
        "available": state.available,
        "reported": dict(state.reported),
        "malformed": state.malformed,
        "last_problem": state.last_problem,
        "pending": {
            key[1]: pending.target
            for key, pending in site.commands.pending.items()
            if key[0] == path
        },
    }


def site_diagnostics(site: InspextorSite) -> dict[str, Any]:
    """Counters and devices of the whole site."""
    stats = site.commands.stats
    return {
        "base_topic": site.base,
        "command_timeout": site.commands.timeout,
        "retries": site.commands.retries,
        "counters": {
            "commands_sent": stats.sent,
            "commands_confirmed": stats.confirmed,
            "resends": stats.resends,
            "failures": stats.failures,
            "pending_commands": len(site.commands.pending),
            "malformed": sum(state.malformed for state in site.states.values()),
            "ignored_messages": site.ignored_messages,
            "asks_sent": site.asks_sent,
            "resyncs_confirmed": site.resyncs_confirmed,
        },
        "devices": [device_diagnostics(site, path) for path in sorted(site.devices)],
    }
