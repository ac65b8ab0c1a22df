"""Diagnostics of a site and of one device, with user-chosen labels redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from .const import CONF_SITE_MAP, DOMAIN
from .interaction_monitor import DATA_MONITOR
from .site import InspextorSite, SiteConfigEntry

# Names and areas say who lives where; the site map holds both.
TO_REDACT = frozenset({"name", "area", "title", CONF_SITE_MAP})


def entry_diagnostics(entry: SiteConfigEntry) -> dict[str, Any]:
    """The site: counters (malformed, pending, resends, failures), devices, and the last
    analysis of the automations (interaction_monitor.py)."""
    return {
        "site": site_diagnostics(entry.runtime_data),
        "interactions": interactions_diagnostics(entry.runtime_data.hass),
    }


def interactions_diagnostics(hass: HomeAssistant) -> dict[str, Any]:
    """The findings of the last analysis of the automations."""
    monitor = hass.data.get(DATA_MONITOR)
    if monitor is None:
        return {}
    return {"automations": len(monitor.configs), "findings": monitor.as_dicts()}


def device_entry_diagnostics(entry: SiteConfigEntry, device: DeviceEntry) -> dict[str, Any]:
    """One device: what the site knows about it (the hub device: the site's counters)."""
    site = entry.runtime_data
    for domain, identifier in device.identifiers:
        if domain != DOMAIN:
            continue
        path = identifier.removeprefix(f"{site.base}:")
        if path in site.devices:
            return device_diagnostics(site, path)
    return site_diagnostics(site)


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
