"""Diagnostics of a site and of one device, with user-chosen labels redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .bridge_coordinator import BridgeConfigEntry
from .const import CONF_SITE_MAP, DOMAIN, is_bridge_entry
from .site import InspextorSite, SiteConfigEntry

# Names and areas say who lives where; the site map holds both.
TO_REDACT = {"name", "area", "title", CONF_SITE_MAP}
# The bridge's API token; the instance password never leaves the bridge.
BRIDGE_TO_REDACT = {CONF_TOKEN}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SiteConfigEntry | BridgeConfigEntry
) -> dict[str, Any]:
    """The site: entry, counters (malformed, pending, resends, failures) and devices.

    The bridge: entry (token redacted) and its last status.
    """
    if is_bridge_entry(entry):
        return bridge_diagnostics(entry)
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
    hass: HomeAssistant, entry: SiteConfigEntry | BridgeConfigEntry, device: DeviceEntry
) -> dict[str, Any]:
    """One device: what the site knows about it (the hub device: the site's counters)."""
    if is_bridge_entry(entry):
        return bridge_diagnostics(entry)
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


def bridge_diagnostics(entry: BridgeConfigEntry) -> dict[str, Any]:
    """The bridge entry and the bridge's last status."""
    coordinator = entry.runtime_data
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "last_update_success": coordinator.last_update_success,
            "status": coordinator.data,
        },
        BRIDGE_TO_REDACT,
    )
